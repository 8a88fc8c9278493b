-- Each event's rendered body is stored once per API version it is sent in, and its deliveries
-- name it (`body_id`) instead of each holding a copy: an event fanned out to many endpoints was
-- stored once per endpoint. Existing deliveries move over: one body per event and distinct text,
-- named after the oldest delivery that sent it.

CREATE TABLE webhook_event_bodies (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    event_id       TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL
);

INSERT INTO webhook_event_bodies (id, org_id, event_id, body, created_at_ms)
SELECT 'whb_' || substr(MIN(id), 5), org_id, event_id, body, MIN(created_at_ms)
FROM webhook_deliveries
GROUP BY org_id, event_id, body;

-- SQLite cannot drop a NOT NULL column's constraint or add a NOT NULL reference in place, so
-- both tables are rebuilt inside this migration's transaction, foreign keys on throughout: the
-- renamed old deliveries keep the old attempts' references until both old tables are dropped.
ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_0004;
DROP INDEX webhook_deliveries_event_endpoint;
DROP INDEX webhook_deliveries_due;
DROP INDEX webhook_deliveries_endpoint;

CREATE TABLE webhook_deliveries (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    endpoint_id         TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_id            TEXT NOT NULL,
    event_type          TEXT NOT NULL,
    body_id             TEXT NOT NULL REFERENCES webhook_event_bodies (id),
    signature           TEXT NOT NULL,
    timestamp_header    TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts            INTEGER NOT NULL,
    next_attempt_at_ms  INTEGER NOT NULL,
    created_at_ms       INTEGER NOT NULL
);

INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, body_id, signature,
    timestamp_header, status, attempts, next_attempt_at_ms, created_at_ms)
SELECT d.id, d.org_id, d.endpoint_id, d.event_id, d.event_type, b.id, d.signature,
    d.timestamp_header, d.status, d.attempts, d.next_attempt_at_ms, d.created_at_ms
FROM webhook_deliveries_0004 d
JOIN webhook_event_bodies b ON b.org_id = d.org_id AND b.event_id = d.event_id AND b.body = d.body;

ALTER TABLE webhook_attempts RENAME TO webhook_attempts_0004;

CREATE TABLE webhook_attempts (
    delivery_id     TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt         INTEGER NOT NULL,
    attempted_at_ms INTEGER NOT NULL,
    status_code     INTEGER,
    latency_ms      INTEGER NOT NULL,
    response_body   TEXT,
    error           TEXT,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, attempt)
);

INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at_ms, status_code, latency_ms,
    response_body, error)
SELECT delivery_id, attempt, attempted_at_ms, status_code, latency_ms, response_body, error
FROM webhook_attempts_0004;

DROP TABLE webhook_attempts_0004;
DROP TABLE webhook_deliveries_0004;

-- One delivery per event and endpoint: a repeated fan-out cannot send an event twice.
CREATE UNIQUE INDEX webhook_deliveries_event_endpoint ON webhook_deliveries (event_id, endpoint_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at_ms, id);
