-- Usage metering (docs/contract/usage.md).

-- Credits one unit costs on a credits plan, kept in the subscription's feature snapshot like
-- the other plan-feature terms; existing snapshots take their plan's current value.
ALTER TABLE subscription_features ADD COLUMN credits_per_unit BIGINT;
UPDATE subscription_features SET credits_per_unit = (
    SELECT pf.credits_per_unit FROM plan_features pf
    JOIN subscriptions s ON s.plan_id = pf.plan_id
    WHERE s.id = subscription_features.subscription_id
      AND pf.feature_id = subscription_features.feature_id);

-- One counter per subscription, usage feature and usage period: reads never sum events, and a
-- new period starts at zero simply by having no row yet.
CREATE TABLE usage_counters (
    subscription_id   TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    feature_code      TEXT NOT NULL,
    period_start_ms   BIGINT NOT NULL,
    period_end_ms     BIGINT NOT NULL,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    used              BIGINT NOT NULL CHECK (used >= 0),
    -- Rate-scale amount the period's tracks took from a balance.
    spent             BIGINT NOT NULL,
    threshold_fired   BOOLEAN NOT NULL,
    exceeded_fired    BOOLEAN NOT NULL,
    updated_at_ms     BIGINT NOT NULL,
    CONSTRAINT usage_counters_pkey PRIMARY KEY (subscription_id, feature_code, period_start_ms)
);

-- Every accepted track and set. event_key (eventId / legacy idempotencyKey) is unique in the
-- organization forever.
CREATE TABLE usage_events (
    id                TEXT COLLATE "C" PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    customer_id       TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    subscription_id   TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    feature_code      TEXT NOT NULL,
    -- 'track', or 'set' with the value it replaced in previous_value.
    kind              TEXT NOT NULL,
    value             BIGINT NOT NULL,
    previous_value    BIGINT,
    event_key         TEXT,
    reason            TEXT,
    -- JSON array of {property, value}; a storage form, not a wire format.
    properties        TEXT NOT NULL,
    consumption_model TEXT,
    consumed          BIGINT,
    consumption_left  BIGINT,
    consumption_blocked BOOLEAN,
    ts_ms             BIGINT NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    period_start_ms   BIGINT NOT NULL
);
CREATE UNIQUE INDEX usage_events_key ON usage_events (org_id, event_key) WHERE event_key IS NOT NULL;
CREATE INDEX usage_events_subscription ON usage_events (subscription_id, feature_code, created_at_ms);
