-- Invoice operations (docs/contract/commerce.md §8).
--
-- 1. Adjustment invoices: a memo and metadata on every invoice, and a negative adjustment (a
--    credit note) is the one invoice whose subtotal and total go below zero.
ALTER TABLE invoices ADD COLUMN memo TEXT;
ALTER TABLE invoices ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE invoices DROP CONSTRAINT invoices_subtotal_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_subtotal CHECK (subtotal >= 0 OR invoice_type = 'adjustment');
ALTER TABLE invoices DROP CONSTRAINT invoices_total;
ALTER TABLE invoices ADD CONSTRAINT invoices_total
    CHECK (total = subtotal - credit_applied AND (total >= 0 OR invoice_type = 'adjustment'));
-- Credit lines, and the one-off line of an adjustment, may be below zero.
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_amount;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_amount
    CHECK (amount >= 0 OR line_type IN ('credit', 'one_time'));

-- 2. Every send of an invoice (commerce.md §8.3), and its e-mail while one is owed: `queued`
--    sends are claimed by a mailer (a lease moves `next_attempt_at_ms`), then end `delivered`
--    or `failed`; `not_configured` when the server had no SMTP at the time of the send.
CREATE TABLE invoice_sends (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    invoice_id          TEXT COLLATE "C" NOT NULL REFERENCES invoices (id),
    recipient_email     TEXT NOT NULL,
    sent_at_ms          BIGINT NOT NULL,
    delivery            TEXT NOT NULL CHECK (delivery IN ('queued', 'delivered', 'failed', 'not_configured')),
    attempts            BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms  BIGINT NOT NULL,
    last_error          TEXT
);
CREATE INDEX invoice_sends_invoice ON invoice_sends (org_id, invoice_id);
CREATE INDEX invoice_sends_due ON invoice_sends (next_attempt_at_ms, id) WHERE delivery = 'queued';

-- 3. Secrets of the installation, shared by every node (the key that signs download links,
--    unless the server is given one).
CREATE TABLE server_secrets (
    name   TEXT COLLATE "C" PRIMARY KEY,
    value  TEXT NOT NULL
);
