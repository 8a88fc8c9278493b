-- Features, plans with prices and plan features, subscriptions with their feature snapshots and
-- seat balances, seat events, test-clock runs and the webhook outbox.

CREATE TABLE features (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    type           TEXT NOT NULL CHECK (type IN ('boolean', 'usage', 'seats', 'quota')),
    description    TEXT,
    unit_name      TEXT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE UNIQUE INDEX features_code ON features (org_id, code);
CREATE UNIQUE INDEX features_name ON features (org_id, name);

CREATE TABLE plans (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    org_id               TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    code                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    consumption_model    TEXT,
    is_public            BOOLEAN NOT NULL,
    is_free              BOOLEAN NOT NULL,
    block_on_exhaustion  BOOLEAN,
    metadata             TEXT,
    created_at_ms        BIGINT NOT NULL,
    updated_at_ms        BIGINT NOT NULL,
    deleted_at_ms        BIGINT
);
CREATE UNIQUE INDEX plans_code ON plans (org_id, code) WHERE deleted_at_ms IS NULL;

CREATE TABLE plan_prices (
    id                TEXT COLLATE "C" PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    plan_id           TEXT COLLATE "C" NOT NULL REFERENCES plans (id),
    billing_interval  TEXT NOT NULL,
    price_cents       BIGINT NOT NULL CHECK (price_cents >= 0),
    is_default        BOOLEAN NOT NULL,
    trial_days        BIGINT NOT NULL CHECK (trial_days >= 0),
    included_balance  BIGINT,
    included_credits  BIGINT,
    metadata          TEXT NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL,
    archived_at_ms    BIGINT
);
CREATE UNIQUE INDEX plan_prices_interval ON plan_prices (plan_id, billing_interval)
    WHERE archived_at_ms IS NULL;

CREATE TABLE plan_features (
    plan_id             TEXT COLLATE "C" NOT NULL REFERENCES plans (id),
    feature_id          TEXT COLLATE "C" NOT NULL REFERENCES features (id),
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    enabled             BOOLEAN NOT NULL,
    included_amount     BIGINT NOT NULL CHECK (included_amount >= 0),
    unlimited           BOOLEAN NOT NULL,
    overage_enabled     BOOLEAN NOT NULL,
    overage_unit_price  BIGINT,
    credits_per_unit    BIGINT,
    pricing_mode        TEXT NOT NULL,
    margin              BIGINT,
    created_at_ms       BIGINT NOT NULL,
    CONSTRAINT plan_features_pkey PRIMARY KEY (plan_id, feature_id)
);
CREATE INDEX plan_features_feature ON plan_features (feature_id);

CREATE TABLE subscriptions (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    org_id                     TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    customer_id                TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    plan_id                    TEXT COLLATE "C" NOT NULL REFERENCES plans (id),
    price_id                   TEXT COLLATE "C" REFERENCES plan_prices (id),
    name                       TEXT NOT NULL,
    description                TEXT,
    status                     TEXT NOT NULL,
    billing_interval           TEXT,
    start_date_ms              BIGINT NOT NULL,
    trial_ends_at_ms           BIGINT,
    anchor_ms                  BIGINT NOT NULL,
    period_index               BIGINT NOT NULL,
    period_start_ms            BIGINT,
    period_end_ms              BIGINT,
    cancel_scheduled_at_ms     BIGINT,
    cancel_reason              TEXT,
    cancel_effective_at_ms     BIGINT,
    canceled_at_ms             BIGINT,
    ended_at_ms                BIGINT,
    credits_remaining          BIGINT,
    credits_included           BIGINT,
    credits_purchased          BIGINT,
    balance_remaining          BIGINT,
    balance_included           BIGINT,
    -- Derived from the columns above on every save; what the renewal sweep looks for.
    next_deadline_ms           BIGINT,
    created_at_ms              BIGINT NOT NULL,
    updated_at_ms              BIGINT NOT NULL
);
-- At most one live subscription per customer (catalog.md §5.1), enforced here as well.
CREATE UNIQUE INDEX subscriptions_live_customer ON subscriptions (org_id, customer_id)
    WHERE status <> 'canceled';
CREATE INDEX subscriptions_org_created ON subscriptions (org_id, created_at_ms, id);
CREATE INDEX subscriptions_deadline ON subscriptions (next_deadline_ms)
    WHERE next_deadline_ms IS NOT NULL;

CREATE TABLE subscription_features (
    subscription_id     TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    feature_id          TEXT COLLATE "C" NOT NULL,
    code                TEXT NOT NULL,
    name                TEXT NOT NULL,
    type                TEXT NOT NULL,
    unit_name           TEXT,
    enabled             BOOLEAN NOT NULL,
    included_amount     BIGINT NOT NULL,
    unlimited           BOOLEAN NOT NULL,
    overage_enabled     BOOLEAN NOT NULL,
    overage_unit_price  BIGINT,
    position            BIGINT NOT NULL,
    CONSTRAINT subscription_features_pkey PRIMARY KEY (subscription_id, code)
);

CREATE TABLE seat_balances (
    subscription_id  TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    feature_code     TEXT NOT NULL,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    current          BIGINT NOT NULL CHECK (current >= 0),
    -- The most extra seats paid for in the current period (seats.md §5).
    paid_extra       BIGINT NOT NULL CHECK (paid_extra >= 0),
    updated_at_ms    BIGINT NOT NULL,
    CONSTRAINT seat_balances_pkey PRIMARY KEY (subscription_id, feature_code)
);

CREATE TABLE seat_events (
    id                TEXT COLLATE "C" PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    customer_id       TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    subscription_id   TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    feature_code      TEXT NOT NULL,
    previous_balance  BIGINT NOT NULL CHECK (previous_balance >= 0),
    new_balance       BIGINT NOT NULL CHECK (new_balance >= 0),
    ts_ms             BIGINT NOT NULL,
    created_at_ms     BIGINT NOT NULL
);
CREATE INDEX seat_events_customer ON seat_events (org_id, customer_id, ts_ms, id);
CREATE INDEX seat_events_subscription ON seat_events (subscription_id, feature_code, ts_ms);

CREATE TABLE test_clock_runs (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    body           TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX test_clock_runs_org ON test_clock_runs (org_id, created_at_ms, id);

-- The webhook outbox: events recorded by the write paths, fanned out to endpoints later.
CREATE TABLE webhook_events (
    id                TEXT COLLATE "C" PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    event_type        TEXT NOT NULL,
    customer_id       TEXT,
    data              TEXT NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    fanned_out_at_ms  BIGINT
);
CREATE INDEX webhook_events_pending ON webhook_events (created_at_ms, id) WHERE fanned_out_at_ms IS NULL;
