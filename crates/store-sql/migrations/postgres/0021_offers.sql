-- Offers, promo codes and discounts (docs/contract/commerce.md §4).
--
-- 1. Invoices carry discount lines, which take `discount_amount` off the subtotal, and a
--    discount line keeps its terms.
ALTER TABLE invoices ADD COLUMN discount_amount BIGINT NOT NULL DEFAULT 0 CHECK (discount_amount >= 0);
ALTER TABLE invoices DROP CONSTRAINT invoices_total;
ALTER TABLE invoices ADD CONSTRAINT invoices_total
    CHECK (total = subtotal - discount_amount - credit_applied AND (total >= 0 OR invoice_type = 'adjustment'));
ALTER TABLE invoice_lines ADD COLUMN discount_type TEXT;
ALTER TABLE invoice_lines ADD COLUMN discount_value BIGINT;
ALTER TABLE invoice_lines ADD COLUMN discount_name TEXT;
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_amount;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_amount
    CHECK (amount >= 0 OR line_type IN ('credit', 'one_time', 'discount', 'promo_code_discount'));

-- 2. Offers: their phases as JSON (the order is the sequence); deleted ones stay for the
--    applications that name them.
CREATE TABLE offers (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    phases         TEXT NOT NULL,
    metadata       TEXT NOT NULL DEFAULT '{}',
    starts_at_ms   BIGINT,
    ends_at_ms     BIGINT,
    active         BOOLEAN NOT NULL,
    deleted_at_ms  BIGINT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX offers_org_created ON offers (org_id, created_at_ms, id);

-- 3. Promo codes: unique per organization in any case (`code_key` is the lower-cased code).
CREATE TABLE promo_codes (
    id                TEXT COLLATE "C" PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    code              TEXT NOT NULL,
    code_key          TEXT COLLATE "C" NOT NULL,
    offer_id          TEXT COLLATE "C" NOT NULL REFERENCES offers (id),
    billing_interval  TEXT,
    max_redemptions   BIGINT CHECK (max_redemptions >= 1),
    expires_at_ms     BIGINT,
    active            BOOLEAN NOT NULL,
    redemption_count  BIGINT NOT NULL DEFAULT 0 CHECK (redemption_count >= 0),
    plan_ids          TEXT NOT NULL DEFAULT '[]',
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL
);
CREATE UNIQUE INDEX promo_codes_code ON promo_codes (org_id, code_key);
CREATE INDEX promo_codes_org_created ON promo_codes (org_id, created_at_ms, id);

-- 4. Offers placed on subscriptions, their phases laid out in time (JSON).
CREATE TABLE offer_applications (
    id               TEXT COLLATE "C" PRIMARY KEY,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    subscription_id  TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    offer_id         TEXT COLLATE "C" REFERENCES offers (id),
    name             TEXT NOT NULL,
    promo_code       TEXT,
    source           TEXT NOT NULL,
    currency         TEXT NOT NULL,
    price_id         TEXT COLLATE "C",
    phases           TEXT NOT NULL,
    applied_at_ms    BIGINT NOT NULL,
    expires_at_ms    BIGINT,
    ended_at_ms      BIGINT,
    first_subtotal   BIGINT,
    first_discount   BIGINT,
    first_total      BIGINT
);
CREATE INDEX offer_applications_subscription ON offer_applications (org_id, subscription_id, applied_at_ms, id);
