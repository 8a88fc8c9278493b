-- Organizations, API keys, idempotency records and customers.
-- Instants are integer milliseconds since the Unix epoch (UTC); JSON is stored as text.

CREATE TABLE organizations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    mode           TEXT NOT NULL CHECK (mode IN ('live', 'sandbox')),
    paired_org_id  TEXT,
    api_version    TEXT NOT NULL,
    test_clock_ms  INTEGER,
    created_at_ms  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL,
    secret_hash      TEXT NOT NULL,
    expires_at_ms    INTEGER,
    last_used_at_ms  INTEGER,
    revoked_at_ms    INTEGER,
    created_at_ms    INTEGER NOT NULL
);
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);
CREATE INDEX api_keys_org_created ON api_keys (org_id, created_at_ms, id);

CREATE TABLE idempotency_keys (
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    key              TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    response_status  INTEGER,
    response_body    TEXT,
    created_at_ms    INTEGER NOT NULL,
    expires_at_ms    INTEGER NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at_ms);

CREATE TABLE customers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    external_id    TEXT,
    full_name      TEXT,
    email          TEXT NOT NULL,
    tax_document   TEXT,
    timezone       TEXT,
    metadata       TEXT,
    address        TEXT,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE UNIQUE INDEX customers_external_id ON customers (org_id, external_id);
CREATE INDEX customers_org_created ON customers (org_id, created_at_ms, id);
