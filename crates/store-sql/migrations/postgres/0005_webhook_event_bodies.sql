-- Each event's rendered body is stored once per API version it is sent in, and its deliveries
-- name it (`body_id`) instead of each holding a copy: an event fanned out to many endpoints was
-- stored once per endpoint. Existing deliveries move over: one body per event and distinct text,
-- named after the oldest delivery that sent it.

CREATE TABLE webhook_event_bodies (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    event_id       TEXT COLLATE "C" NOT NULL,
    body           TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL
);

INSERT INTO webhook_event_bodies (id, org_id, event_id, body, created_at_ms)
SELECT 'whb_' || substr(MIN(id), 5), org_id, event_id, body, MIN(created_at_ms)
FROM webhook_deliveries
GROUP BY org_id, event_id, body;

-- The deliveries table is rebuilt rather than altered: a dropped column keeps its bytes on disk
-- until every row is rewritten, and the copies are what this migration is for.
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_delivery_id_fkey;
ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_0004;
ALTER TABLE webhook_deliveries_0004 RENAME CONSTRAINT webhook_deliveries_pkey TO webhook_deliveries_0004_pkey;
DROP INDEX webhook_deliveries_event_endpoint;
DROP INDEX webhook_deliveries_due;
DROP INDEX webhook_deliveries_endpoint;

CREATE TABLE webhook_deliveries (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    endpoint_id         TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id),
    event_id            TEXT COLLATE "C" NOT NULL,
    event_type          TEXT NOT NULL,
    body_id             TEXT COLLATE "C" NOT NULL REFERENCES webhook_event_bodies (id),
    signature           TEXT NOT NULL,
    timestamp_header    TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts            BIGINT NOT NULL,
    next_attempt_at_ms  BIGINT NOT NULL,
    created_at_ms       BIGINT NOT NULL
);

INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, body_id, signature,
    timestamp_header, status, attempts, next_attempt_at_ms, created_at_ms)
SELECT d.id, d.org_id, d.endpoint_id, d.event_id, d.event_type, b.id, d.signature,
    d.timestamp_header, d.status, d.attempts, d.next_attempt_at_ms, d.created_at_ms
FROM webhook_deliveries_0004 d
JOIN webhook_event_bodies b ON b.org_id = d.org_id AND b.event_id = d.event_id AND b.body = d.body;

DROP TABLE webhook_deliveries_0004;

-- One delivery per event and endpoint: a repeated fan-out cannot send an event twice.
CREATE UNIQUE INDEX webhook_deliveries_event_endpoint ON webhook_deliveries (event_id, endpoint_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at_ms, id);

ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_delivery_id_fkey
    FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id);
