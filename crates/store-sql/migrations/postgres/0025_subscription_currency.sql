-- A subscription's currency on the subscription itself (docs/contract/commerce.md §2): its
-- overage unit prices and prepaid balance are held in it, and every read that shows them
-- names it without a second lookup.
ALTER TABLE subscriptions ADD COLUMN currency TEXT NOT NULL DEFAULT 'usd';
UPDATE subscriptions SET currency = (
    SELECT p.currency FROM subscription_pricing p WHERE p.subscription_id = subscriptions.id
) WHERE EXISTS (SELECT 1 FROM subscription_pricing p WHERE p.subscription_id = subscriptions.id);
