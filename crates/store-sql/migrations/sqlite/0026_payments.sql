-- Payments without a card network (docs/contract/payments.md): payment links and charges, one
-- row per charge attempt (a retry adds a row), full refunds, and the cards customers saved (only
-- what may be shown, and the processor's handle).
CREATE TABLE payments (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    customer_id    TEXT REFERENCES customers (id),
    kind           TEXT NOT NULL CHECK (kind IN ('link', 'charge')),
    status         TEXT NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    currency       TEXT NOT NULL,
    description    TEXT NOT NULL,
    metadata       TEXT,
    success_url    TEXT,
    expires_at_ms  INTEGER,
    invoice_id     TEXT,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX payments_org_created ON payments (org_id, created_at_ms, id);
CREATE INDEX payments_customer ON payments (org_id, customer_id, created_at_ms, id);

CREATE TABLE transactions (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    customer_id      TEXT REFERENCES customers (id),
    payment_id       TEXT REFERENCES payments (id),
    invoice_id       TEXT,
    amount           INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL,
    provider         TEXT NOT NULL,
    charge_ref       TEXT,
    method_ref       TEXT,
    customer_email   TEXT NOT NULL,
    customer_name    TEXT,
    reason           TEXT NOT NULL,
    failure_code     TEXT,
    failure_message  TEXT,
    attempt          TEXT,
    paid_at_ms       INTEGER,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
);
CREATE INDEX transactions_org_created ON transactions (org_id, created_at_ms, id);
CREATE INDEX transactions_payment ON transactions (org_id, payment_id);
-- A page's attempt nonce names one attempt: a repeat finds it instead of charging again.
CREATE UNIQUE INDEX transactions_attempt ON transactions (payment_id, attempt);

CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    transaction_id  TEXT NOT NULL UNIQUE REFERENCES transactions (id),
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    charge_ref      TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL
);

CREATE TABLE saved_cards (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    customer_id    TEXT NOT NULL REFERENCES customers (id),
    method_ref     TEXT NOT NULL,
    brand          TEXT NOT NULL,
    last4          TEXT NOT NULL,
    exp_month      INTEGER NOT NULL,
    exp_year       INTEGER NOT NULL,
    is_default     BOOLEAN NOT NULL,
    created_at_ms  INTEGER NOT NULL
);
-- One default card per customer: it pays everything the customer is charged off-session.
CREATE UNIQUE INDEX saved_cards_default ON saved_cards (org_id, customer_id) WHERE is_default;
