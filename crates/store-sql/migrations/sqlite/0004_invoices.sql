-- Invoices with their lines (immutable once issued: only the status changes), the per-org
-- invoice number sequence, and the seat true-ups accrued during a period until they are billed.

CREATE TABLE invoice_counters (
    org_id       TEXT PRIMARY KEY REFERENCES organizations (id),
    last_number  INTEGER NOT NULL
);

CREATE TABLE invoices (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    subscription_id  TEXT REFERENCES subscriptions (id),
    invoice_number   TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'outstanding', 'paid', 'void', 'uncollectible')),
    invoice_type     TEXT NOT NULL,
    currency         TEXT NOT NULL,
    subtotal         INTEGER NOT NULL CHECK (subtotal >= 0),
    total            INTEGER NOT NULL CHECK (total = subtotal),
    period_start_ms  INTEGER NOT NULL,
    period_end_ms    INTEGER NOT NULL,
    issue_date_ms    INTEGER NOT NULL,
    due_date_ms      INTEGER NOT NULL,
    plan_name        TEXT,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
);
CREATE UNIQUE INDEX invoices_number ON invoices (org_id, invoice_number);
CREATE INDEX invoices_org_created ON invoices (org_id, created_at_ms, id);

CREATE TABLE invoice_lines (
    invoice_id      TEXT NOT NULL REFERENCES invoices (id),
    position        INTEGER NOT NULL,
    line_type       TEXT NOT NULL,
    charge_type     TEXT NOT NULL,
    feature_name    TEXT,
    description     TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    unit_amount     INTEGER NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    included_amount INTEGER,
    used_amount     INTEGER,
    overage_amount  INTEGER,
    seat_event_id   TEXT,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, position)
);

CREATE TABLE seat_true_ups (
    seat_event_id    TEXT PRIMARY KEY REFERENCES seat_events (id),
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    subscription_id  TEXT NOT NULL REFERENCES subscriptions (id),
    feature_code     TEXT NOT NULL,
    feature_name     TEXT NOT NULL,
    units            INTEGER NOT NULL CHECK (units > 0),
    unit_price       INTEGER NOT NULL,
    days_left        INTEGER NOT NULL,
    period_days      INTEGER NOT NULL,
    amount           INTEGER NOT NULL CHECK (amount >= 0),
    invoice_id       TEXT REFERENCES invoices (id),
    created_at_ms    INTEGER NOT NULL
);
CREATE INDEX seat_true_ups_pending ON seat_true_ups (subscription_id, created_at_ms) WHERE invoice_id IS NULL;
