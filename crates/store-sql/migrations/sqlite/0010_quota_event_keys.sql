-- The legacy body idempotencyKey of quota writes (docs/contract/usage.md §6): unique in the
-- organization forever, naming the quota event (qev_…) it was first used for.
CREATE TABLE quota_event_keys (
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    event_key      TEXT NOT NULL,
    event_id       TEXT NOT NULL REFERENCES seat_events (id),
    created_at_ms  INTEGER NOT NULL,
    CONSTRAINT quota_event_keys_pkey PRIMARY KEY (org_id, event_key)
);
