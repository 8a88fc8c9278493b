-- The last usage period end passed inside a subscription's billing period (plans billed less
-- often than monthly, and one-time prices: docs/contract/usage.md §5); NULL since the billing
-- period began. Existing subscriptions start with none, so their next deadline is the end of
-- the usage period their billing period started with.
ALTER TABLE subscriptions ADD COLUMN usage_reset_at_ms BIGINT;
