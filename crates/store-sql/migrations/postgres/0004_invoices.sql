-- Invoices with their lines (immutable once issued: only the status changes), the per-org
-- invoice number sequence, and the seat true-ups accrued during a period until they are billed.

CREATE TABLE invoice_counters (
    org_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES organizations (id),
    last_number  BIGINT NOT NULL
);

CREATE TABLE invoices (
    id               TEXT COLLATE "C" PRIMARY KEY,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    customer_id      TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    subscription_id  TEXT COLLATE "C" REFERENCES subscriptions (id),
    invoice_number   TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'outstanding', 'paid', 'void', 'uncollectible')),
    invoice_type     TEXT NOT NULL,
    currency         TEXT NOT NULL,
    subtotal         BIGINT NOT NULL CHECK (subtotal >= 0),
    total            BIGINT NOT NULL CHECK (total = subtotal),
    period_start_ms  BIGINT NOT NULL,
    period_end_ms    BIGINT NOT NULL,
    issue_date_ms    BIGINT NOT NULL,
    due_date_ms      BIGINT NOT NULL,
    plan_name        TEXT,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL
);
CREATE UNIQUE INDEX invoices_number ON invoices (org_id, invoice_number);
CREATE INDEX invoices_org_created ON invoices (org_id, created_at_ms, id);

CREATE TABLE invoice_lines (
    invoice_id      TEXT COLLATE "C" NOT NULL REFERENCES invoices (id),
    position        BIGINT NOT NULL,
    line_type       TEXT NOT NULL,
    charge_type     TEXT NOT NULL,
    feature_name    TEXT,
    description     TEXT NOT NULL,
    quantity        BIGINT NOT NULL,
    unit_amount     BIGINT NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount >= 0),
    included_amount BIGINT,
    used_amount     BIGINT,
    overage_amount  BIGINT,
    seat_event_id   TEXT,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, position)
);

CREATE TABLE seat_true_ups (
    seat_event_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES seat_events (id),
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    subscription_id  TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    feature_code     TEXT NOT NULL,
    feature_name     TEXT NOT NULL,
    units            BIGINT NOT NULL CHECK (units > 0),
    unit_price       BIGINT NOT NULL,
    days_left        BIGINT NOT NULL,
    period_days      BIGINT NOT NULL,
    amount           BIGINT NOT NULL CHECK (amount >= 0),
    invoice_id       TEXT COLLATE "C" REFERENCES invoices (id),
    created_at_ms    BIGINT NOT NULL
);
CREATE INDEX seat_true_ups_pending ON seat_true_ups (subscription_id, created_at_ms) WHERE invoice_id IS NULL;
