-- Dunning (docs/contract/payments.md §6): a past-due subscription keeps its unpaid invoice, the
-- instant of the first declined charge and the number of automatic retries made; every
-- attempt at that invoice says whether it was one of those retries or a manual attempt.
ALTER TABLE subscriptions ADD COLUMN dunning_invoice_id TEXT;
ALTER TABLE subscriptions ADD COLUMN dunning_failed_at_ms BIGINT;
ALTER TABLE subscriptions ADD COLUMN dunning_retries BIGINT;
ALTER TABLE transactions ADD COLUMN recovery TEXT;
ALTER TABLE transactions ADD COLUMN recovery_attempt BIGINT;
-- The attempts at one invoice, and a customer's manual attempts of the last day (at most three).
CREATE INDEX transactions_invoice ON transactions (org_id, invoice_id, created_at_ms);
CREATE INDEX transactions_manual ON transactions (org_id, customer_id, created_at_ms)
    WHERE recovery = 'payment_recovery';
-- A recovery page's attempt nonce names one attempt at the invoice.
CREATE UNIQUE INDEX transactions_invoice_attempt ON transactions (invoice_id, attempt)
    WHERE payment_id IS NULL AND attempt IS NOT NULL;
