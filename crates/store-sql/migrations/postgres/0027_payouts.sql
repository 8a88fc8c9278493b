-- The merchant's payouts (docs/contract/payments.md §9): bank accounts (the number only as
-- its last four digits and a hash, so the same number is refused twice), payouts, and the
-- record of a payout account's verification.
CREATE TABLE payout_bank_accounts (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    holder_name    TEXT NOT NULL,
    last4          TEXT NOT NULL,
    number_hash    TEXT NOT NULL,
    fails          BOOLEAN NOT NULL,
    account_type   TEXT,
    is_default     BOOLEAN NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
CREATE UNIQUE INDEX payout_bank_accounts_number ON payout_bank_accounts (org_id, number_hash);
CREATE UNIQUE INDEX payout_bank_accounts_default ON payout_bank_accounts (org_id) WHERE is_default;

CREATE TABLE payouts (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    org_id                TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    bank_account_id       TEXT COLLATE "C" NOT NULL REFERENCES payout_bank_accounts (id),
    amount                BIGINT NOT NULL CHECK (amount > 0),
    description           TEXT,
    status                TEXT NOT NULL,
    provider_transfer_id  TEXT NOT NULL,
    failure_code          TEXT,
    created_at_ms         BIGINT NOT NULL,
    updated_at_ms         BIGINT NOT NULL
);
CREATE INDEX payouts_org ON payouts (org_id, status);

CREATE TABLE payout_verifications (
    org_id               TEXT COLLATE "C" PRIMARY KEY REFERENCES organizations (id),
    provider_account_id  TEXT NOT NULL,
    business_type        TEXT NOT NULL,
    country              TEXT NOT NULL,
    email                TEXT NOT NULL,
    created_at_ms        BIGINT NOT NULL
);

-- The merchant balance sums an organization's paid charges and refunds by currency.
CREATE INDEX transactions_org_currency ON transactions (org_id, currency, status);
CREATE INDEX refunds_org_currency ON refunds (org_id, currency);
