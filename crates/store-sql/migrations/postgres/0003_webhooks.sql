-- Webhook endpoints, the deliveries of each event to each endpoint (the exact bytes sent) and
-- the log of every attempt.

CREATE TABLE webhook_endpoints (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    org_id                TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    url                   TEXT NOT NULL,
    events                TEXT NOT NULL,
    description           TEXT,
    is_active             BOOLEAN NOT NULL,
    api_version           TEXT,
    secret                TEXT NOT NULL,
    consecutive_failures  BIGINT NOT NULL,
    created_at_ms         BIGINT NOT NULL,
    updated_at_ms         BIGINT NOT NULL,
    deleted_at_ms         BIGINT
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at_ms, id);

CREATE TABLE webhook_deliveries (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    endpoint_id         TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id),
    event_id            TEXT COLLATE "C" NOT NULL,
    event_type          TEXT NOT NULL,
    body                TEXT NOT NULL,
    signature           TEXT NOT NULL,
    timestamp_header    TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts            BIGINT NOT NULL,
    next_attempt_at_ms  BIGINT NOT NULL,
    created_at_ms       BIGINT NOT NULL
);
-- One delivery per event and endpoint: a repeated fan-out cannot send an event twice.
CREATE UNIQUE INDEX webhook_deliveries_event_endpoint ON webhook_deliveries (event_id, endpoint_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at_ms, id);

CREATE TABLE webhook_attempts (
    delivery_id     TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id),
    attempt         BIGINT NOT NULL,
    attempted_at_ms BIGINT NOT NULL,
    status_code     BIGINT,
    latency_ms      BIGINT NOT NULL,
    response_body   TEXT,
    error           TEXT,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, attempt)
);
