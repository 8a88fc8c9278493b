-- Idempotency records belong to the API key that sent the request, not only to its
-- organization: another key of the organization has a key space of its own and never reads
-- these answers. The key id is not a foreign key: keys are revoked, never deleted, and the
-- check would cost every keyed write a lookup.
--
-- Records made before cannot be given to a key, and some hold secrets (new API keys and
-- webhook signing secrets were kept in the answers to replay): they are dropped. The cost is
-- that a retry spanning the upgrade runs again.
DROP TABLE idempotency_keys;

CREATE TABLE idempotency_keys (
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    api_key_id       TEXT COLLATE "C" NOT NULL,
    key              TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    response_status  INTEGER,
    response_body    TEXT,
    created_at_ms    BIGINT NOT NULL,
    expires_at_ms    BIGINT NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (org_id, api_key_id, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at_ms);
