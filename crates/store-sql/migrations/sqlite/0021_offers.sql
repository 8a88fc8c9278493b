-- Offers, promo codes and discounts (docs/contract/commerce.md §4).
--
-- 1. Invoices carry discount lines, which take `discount_amount` off the subtotal, and a
--    discount line keeps its terms. SQLite cannot change a CHECK in place, so both tables are
--    rebuilt as in 0015 and 0020.
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
    discount_amount  INTEGER NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    credit_applied   INTEGER NOT NULL DEFAULT 0 CHECK (credit_applied >= 0),
    total            INTEGER NOT NULL CHECK (total = subtotal - discount_amount - credit_applied AND (total >= 0 OR invoice_type = 'adjustment')),
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
        issue_date_ms, due_date_ms, plan_name, created_at_ms, updated_at_ms, memo, metadata)
    SELECT id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type,
        currency, subtotal, credit_applied, total, period_start_ms, period_end_ms, issue_date_ms,
        due_date_ms, plan_name, created_at_ms, updated_at_ms, memo, metadata
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_rebuilt RENAME TO invoices;
CREATE UNIQUE INDEX invoices_number ON invoices (org_id, invoice_number);
CREATE INDEX invoices_org_created ON invoices (org_id, created_at_ms, id);

CREATE TABLE invoice_lines_rebuilt (
    invoice_id      TEXT NOT NULL REFERENCES invoices (id),
    position        INTEGER NOT NULL,
    line_type       TEXT NOT NULL,
    charge_type     TEXT NOT NULL,
    feature_name    TEXT,
    description     TEXT NOT NULL,
    quantity        INTEGER NOT NULL,
    unit_amount     INTEGER NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0 OR line_type IN ('credit', 'one_time', 'discount', 'promo_code_discount')),
    included_amount INTEGER,
    used_amount     INTEGER,
    overage_amount  INTEGER,
    seat_event_id   TEXT,
    discount_type   TEXT,
    discount_value  INTEGER,
    discount_name   TEXT,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, position)
);
INSERT INTO invoice_lines_rebuilt (invoice_id, position, line_type, charge_type, feature_name,
        description, quantity, unit_amount, amount, included_amount, used_amount,
        overage_amount, seat_event_id)
    SELECT invoice_id, position, line_type, charge_type, feature_name, description, quantity,
        unit_amount, amount, included_amount, used_amount, overage_amount, seat_event_id
    FROM invoice_lines;
DROP TABLE invoice_lines;
ALTER TABLE invoice_lines_rebuilt RENAME TO invoice_lines;

-- 2. Offers: their phases as JSON (the order is the sequence); deleted ones stay for the
--    applications that name them.
CREATE TABLE offers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    phases         TEXT NOT NULL,
    metadata       TEXT NOT NULL DEFAULT '{}',
    starts_at_ms   INTEGER,
    ends_at_ms     INTEGER,
    active         BOOLEAN NOT NULL,
    deleted_at_ms  INTEGER,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX offers_org_created ON offers (org_id, created_at_ms, id);

-- 3. Promo codes: unique per organization in any case (`code_key` is the lower-cased code).
CREATE TABLE promo_codes (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations (id),
    code              TEXT NOT NULL,
    code_key          TEXT NOT NULL,
    offer_id          TEXT NOT NULL REFERENCES offers (id),
    billing_interval  TEXT,
    max_redemptions   INTEGER CHECK (max_redemptions >= 1),
    expires_at_ms     INTEGER,
    active            BOOLEAN NOT NULL,
    redemption_count  INTEGER NOT NULL DEFAULT 0 CHECK (redemption_count >= 0),
    plan_ids          TEXT NOT NULL DEFAULT '[]',
    created_at_ms     INTEGER NOT NULL,
    updated_at_ms     INTEGER NOT NULL
);
CREATE UNIQUE INDEX promo_codes_code ON promo_codes (org_id, code_key);
CREATE INDEX promo_codes_org_created ON promo_codes (org_id, created_at_ms, id);

-- 4. Offers placed on subscriptions, their phases laid out in time (JSON).
CREATE TABLE offer_applications (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    subscription_id  TEXT NOT NULL REFERENCES subscriptions (id),
    offer_id         TEXT REFERENCES offers (id),
    name             TEXT NOT NULL,
    promo_code       TEXT,
    source           TEXT NOT NULL,
    currency         TEXT NOT NULL,
    price_id         TEXT,
    phases           TEXT NOT NULL,
    applied_at_ms    INTEGER NOT NULL,
    expires_at_ms    INTEGER,
    ended_at_ms      INTEGER,
    first_subtotal   INTEGER,
    first_discount   INTEGER,
    first_total      INTEGER
);
CREATE INDEX offer_applications_subscription ON offer_applications (org_id, subscription_id, applied_at_ms, id);
