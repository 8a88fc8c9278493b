-- Claims of organization pairs provisioned headless (docs/contract/payments.md §10.2): one row
-- per organization of such a pair; `version` is the newest claim link's (older ones stop
-- working), and the owner is recorded once, when a link is completed.
CREATE TABLE org_claims (
    org_id         TEXT PRIMARY KEY REFERENCES organizations (id),
    version        INTEGER NOT NULL,
    owner_email    TEXT,
    owner_name     TEXT,
    claimed_at_ms  INTEGER
);
