-- Customer portal sessions (docs/contract/payments.md §10.1): each portal link names one; it
-- stays open while used (30 minutes idle, 2 hours at most), which `last_seen_at_ms` tracks.
CREATE TABLE portal_sessions (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    return_url       TEXT,
    created_at_ms    INTEGER NOT NULL,
    last_seen_at_ms  INTEGER NOT NULL
);
