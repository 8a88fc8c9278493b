-- The operator dashboard (docs/contract/dashboard.md): one operator credential per organization
-- pair (kept under the live organization), stored as a password hash, and the sessions signed
-- in with it. A session's secret is stored as its SHA-256; `org_id` is the side of the pair it
-- looks at now.
CREATE TABLE dashboard_credentials (
    org_id           TEXT COLLATE "C" PRIMARY KEY REFERENCES organizations (id),
    credential_hash  TEXT NOT NULL,
    updated_at_ms    BIGINT NOT NULL
);

CREATE TABLE dashboard_sessions (
    id             TEXT COLLATE "C" PRIMARY KEY,
    home_org_id    TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    secret_hash    TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    ended_at_ms    BIGINT
);
CREATE UNIQUE INDEX dashboard_sessions_secret_hash ON dashboard_sessions (secret_hash);
CREATE INDEX dashboard_sessions_home ON dashboard_sessions (home_org_id, ended_at_ms);

-- The dashboard's customer search finds a customer by e-mail without a scan.
CREATE INDEX customers_org_email ON customers (org_id, email);
