-- Plan grants (docs/contract/commerce.md §6): a higher plan's access for a while, billing
-- unchanged. The target plan's features are pinned when the grant is made (its release), and
-- the grant's history is kept with it as JSON.
CREATE TABLE plan_grants (
    id                TEXT COLLATE "C" PRIMARY KEY,
    org_id            TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    customer_id       TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    subscription_id   TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    base_plan_id      TEXT COLLATE "C" NOT NULL,
    plan_id           TEXT COLLATE "C" NOT NULL,
    plan_release_id   TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    duration          TEXT NOT NULL,
    duration_cycles   BIGINT,
    starts_at_ms      BIGINT NOT NULL,
    expires_at_ms     BIGINT,
    reason            TEXT NOT NULL,
    revoked_at_ms     BIGINT,
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL,
    events            TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX plan_grants_customer ON plan_grants (org_id, customer_id, created_at_ms, id);
CREATE INDEX plan_grants_subscription ON plan_grants (subscription_id) WHERE status = 'active';
CREATE INDEX plan_grants_due ON plan_grants (expires_at_ms) WHERE status = 'active';

-- The target plan's features as they were when the grant was made.
CREATE TABLE plan_grant_features (
    grant_id            TEXT COLLATE "C" NOT NULL REFERENCES plan_grants (id),
    position            BIGINT NOT NULL,
    feature_id          TEXT NOT NULL,
    code                TEXT NOT NULL,
    name                TEXT NOT NULL,
    type                TEXT NOT NULL,
    unit_name           TEXT,
    enabled             BOOLEAN NOT NULL,
    included_amount     BIGINT NOT NULL,
    unlimited           BOOLEAN NOT NULL,
    overage_enabled     BOOLEAN NOT NULL,
    overage_unit_price  BIGINT,
    credits_per_unit    BIGINT,
    pricing_mode        TEXT NOT NULL DEFAULT 'fixed',
    CONSTRAINT plan_grant_features_pkey PRIMARY KEY (grant_id, position)
);

-- A grant changes what the customer's hot reads show (docs/contract/usage.md §8): its
-- customer's version, like a subscription's.
CREATE TRIGGER hot_plan_grants AFTER INSERT OR UPDATE OR DELETE ON plan_grants
    FOR EACH ROW EXECUTE FUNCTION tally_hot_subscription();
