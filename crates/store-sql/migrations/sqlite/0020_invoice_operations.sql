-- Invoice operations (docs/contract/commerce.md §8).
--
-- 1. Adjustment invoices: a memo and metadata on every invoice, and a negative adjustment (a
--    credit note) is the one invoice whose subtotal and total go below zero. SQLite cannot
--    change a CHECK in place, so both tables are rebuilt as in 0015; the foreign keys naming
--    them are checked at commit, once the new tables carry the names again.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE invoices_rebuilt (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    subscription_id  TEXT REFERENCES subscriptions (id),
    invoice_number   TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'outstanding', 'paid', 'void', 'uncollectible')),
    invoice_type     TEXT NOT NULL,
    currency         TEXT NOT NULL,
    subtotal         INTEGER NOT NULL CHECK (subtotal >= 0 OR invoice_type = 'adjustment'),
    credit_applied   INTEGER NOT NULL DEFAULT 0 CHECK (credit_applied >= 0),
    total            INTEGER NOT NULL CHECK (total = subtotal - credit_applied AND (total >= 0 OR invoice_type = 'adjustment')),
    period_start_ms  INTEGER NOT NULL,
    period_end_ms    INTEGER NOT NULL,
    issue_date_ms    INTEGER NOT NULL,
    due_date_ms      INTEGER NOT NULL,
    plan_name        TEXT,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL,
    memo             TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO invoices_rebuilt (id, org_id, customer_id, subscription_id, invoice_number, status,
        invoice_type, currency, subtotal, credit_applied, total, period_start_ms, period_end_ms,
        issue_date_ms, due_date_ms, plan_name, created_at_ms, updated_at_ms)
    SELECT id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type,
        currency, subtotal, credit_applied, total, period_start_ms, period_end_ms, issue_date_ms,
        due_date_ms, plan_name, created_at_ms, updated_at_ms
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_rebuilt RENAME TO invoices;
CREATE UNIQUE INDEX invoices_number ON invoices (org_id, invoice_number);
CREATE INDEX invoices_org_created ON invoices (org_id, created_at_ms, id);

-- Credit lines, and the one-off line of an adjustment, may be below zero.
CREATE TABLE invoice_lines_rebuilt (
    invoice_id      TEXT NOT NULL REFERENCES invoices (id),
    position        INTEGER NOT NULL,
    line_type       TEXT NOT NULL,
    charge_type     TEXT NOT NULL,
    feature_name    TEXT,
    description     TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    unit_amount     INTEGER NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0 OR line_type IN ('credit', 'one_time')),
    included_amount INTEGER,
    used_amount     INTEGER,
    overage_amount  INTEGER,
    seat_event_id   TEXT,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, position)
);
INSERT INTO invoice_lines_rebuilt SELECT * FROM invoice_lines;
DROP TABLE invoice_lines;
ALTER TABLE invoice_lines_rebuilt RENAME TO invoice_lines;

-- 2. Every send of an invoice (commerce.md §8.3), and its e-mail while one is owed: `queued`
--    sends are claimed by a mailer (a lease moves `next_attempt_at_ms`), then end `delivered`
--    or `failed`; `not_configured` when the server had no SMTP at the time of the send.
CREATE TABLE invoice_sends (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    invoice_id          TEXT NOT NULL REFERENCES invoices (id),
    recipient_email     TEXT NOT NULL,
    sent_at_ms          INTEGER NOT NULL,
    delivery            TEXT NOT NULL CHECK (delivery IN ('queued', 'delivered', 'failed', 'not_configured')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms  INTEGER NOT NULL,
    last_error          TEXT
);
CREATE INDEX invoice_sends_invoice ON invoice_sends (org_id, invoice_id);
CREATE INDEX invoice_sends_due ON invoice_sends (next_attempt_at_ms, id) WHERE delivery = 'queued';

-- 3. Secrets of the installation, shared by every node (the key that signs download links,
--    unless the server is given one).
CREATE TABLE server_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
