-- A deadline (renewal, trial end, scheduled cancellation) that could not be passed: how many
-- attempts in a row failed, the last error, and when it is tried again (organization time).
-- The renewal sweep and test clock runs skip it until then, so one subscription that cannot be
-- billed never holds up the others. Saving the subscription clears it.
ALTER TABLE subscriptions ADD COLUMN deadline_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN deadline_error TEXT;
ALTER TABLE subscriptions ADD COLUMN deadline_retry_at_ms INTEGER;
