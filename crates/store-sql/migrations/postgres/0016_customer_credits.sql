-- Customer credits (docs/contract/commerce.md §5 as far as Tally implements it): grants of money
-- off future invoices, used oldest first, and which invoice took how much of each (so that
-- voiding an invoice can give it back).
CREATE TABLE customer_credits (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    customer_id    TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    currency       TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount > 0),
    applied        BIGINT NOT NULL DEFAULT 0 CHECK (applied >= 0),
    reversed       BIGINT NOT NULL DEFAULT 0 CHECK (reversed >= 0),
    revoked        BIGINT NOT NULL DEFAULT 0 CHECK (revoked >= 0),
    reason         TEXT NOT NULL,
    source         TEXT NOT NULL,
    expires_at_ms  BIGINT,
    created_at_ms  BIGINT NOT NULL,
    CHECK (amount - applied + reversed - revoked >= 0)
);
CREATE INDEX customer_credits_customer ON customer_credits (org_id, customer_id, created_at_ms, id);

CREATE TABLE customer_credit_uses (
    credit_id   TEXT COLLATE "C" NOT NULL REFERENCES customer_credits (id),
    invoice_id  TEXT COLLATE "C" NOT NULL REFERENCES invoices (id),
    org_id      TEXT COLLATE "C" NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    CONSTRAINT customer_credit_uses_pkey PRIMARY KEY (invoice_id, credit_id)
);
