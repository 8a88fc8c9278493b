-- Plan changes (docs/contract/lifecycle.md §4).
--
-- 1. Invoices may carry credit lines (the unused time of the plan left behind): `subtotal` is
--    what the charge lines add up to, `credit_applied` what the credit lines take off, and
--    `total` the difference.
ALTER TABLE invoices DROP CONSTRAINT invoices_check;
ALTER TABLE invoices ADD COLUMN credit_applied BIGINT NOT NULL DEFAULT 0 CHECK (credit_applied >= 0);
ALTER TABLE invoices ADD CONSTRAINT invoices_total CHECK (total = subtotal - credit_applied AND total >= 0);
-- Credit lines are the one kind of line below zero.
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_amount_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_amount CHECK (amount >= 0 OR line_type = 'credit');

-- 2. A change scheduled for the end of the period (or trial): what it switches to and when.
ALTER TABLE subscriptions ADD COLUMN change_type TEXT;
ALTER TABLE subscriptions ADD COLUMN change_plan_id TEXT COLLATE "C";
ALTER TABLE subscriptions ADD COLUMN change_price_id TEXT COLLATE "C";
ALTER TABLE subscriptions ADD COLUMN change_interval TEXT;
ALTER TABLE subscriptions ADD COLUMN change_requested_at_ms BIGINT;
ALTER TABLE subscriptions ADD COLUMN change_at_ms BIGINT;
