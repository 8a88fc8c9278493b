-- Plan changes (docs/contract/lifecycle.md §4).
--
-- 1. Invoices may carry credit lines (the unused time of the plan left behind): `subtotal` is
--    what the charge lines add up to, `credit_applied` what the credit lines take off, and
--    `total` the difference. SQLite cannot change a CHECK in place, so the table is rebuilt;
--    the foreign keys from `invoice_lines` and `seat_true_ups` name the table by name, and are checked
--    at commit, once the new table carries the name again.
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
    subtotal         INTEGER NOT NULL CHECK (subtotal >= 0),
    credit_applied   INTEGER NOT NULL DEFAULT 0 CHECK (credit_applied >= 0),
    total            INTEGER NOT NULL CHECK (total = subtotal - credit_applied AND total >= 0),
    period_start_ms  INTEGER NOT NULL,
    period_end_ms    INTEGER NOT NULL,
    issue_date_ms    INTEGER NOT NULL,
    due_date_ms      INTEGER NOT NULL,
    plan_name        TEXT,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
);
INSERT INTO invoices_rebuilt (id, org_id, customer_id, subscription_id, invoice_number, status,
        invoice_type, currency, subtotal, credit_applied, total, period_start_ms, period_end_ms,
        issue_date_ms, due_date_ms, plan_name, created_at_ms, updated_at_ms)
    SELECT id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type,
        currency, subtotal, 0, total, period_start_ms, period_end_ms, issue_date_ms, due_date_ms,
        plan_name, created_at_ms, updated_at_ms
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_rebuilt RENAME TO invoices;
CREATE UNIQUE INDEX invoices_number ON invoices (org_id, invoice_number);
CREATE INDEX invoices_org_created ON invoices (org_id, created_at_ms, id);

-- Credit lines are the one kind of line below zero.
CREATE TABLE invoice_lines_rebuilt (
    invoice_id      TEXT NOT NULL REFERENCES invoices (id),
    position        INTEGER NOT NULL,
    line_type       TEXT NOT NULL,
    charge_type     TEXT NOT NULL,
    feature_name    TEXT,
    description     TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    unit_amount     INTEGER NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0 OR line_type = 'credit'),
    included_amount INTEGER,
    used_amount     INTEGER,
    overage_amount  INTEGER,
    seat_event_id   TEXT,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, position)
);
INSERT INTO invoice_lines_rebuilt SELECT * FROM invoice_lines;
DROP TABLE invoice_lines;
ALTER TABLE invoice_lines_rebuilt RENAME TO invoice_lines;

-- 2. A change scheduled for the end of the period (or trial): what it switches to and when.
ALTER TABLE subscriptions ADD COLUMN change_type TEXT;
ALTER TABLE subscriptions ADD COLUMN change_plan_id TEXT;
ALTER TABLE subscriptions ADD COLUMN change_price_id TEXT;
ALTER TABLE subscriptions ADD COLUMN change_interval TEXT;
ALTER TABLE subscriptions ADD COLUMN change_requested_at_ms INTEGER;
ALTER TABLE subscriptions ADD COLUMN change_at_ms INTEGER;
