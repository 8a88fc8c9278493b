-- Add-ons (docs/contract/lifecycle.md §5) and their activations on subscriptions. A feature is
-- sold by one add-on at most (deleted ones aside); an add-on is active on a subscription at most
-- once at a time, and an activation is kept after it ends.
CREATE TABLE addons (
    id               TEXT COLLATE "C" PRIMARY KEY,
    org_id           TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL,
    description      TEXT,
    base_price       BIGINT NOT NULL CHECK (base_price >= 0),
    feature_id       TEXT COLLATE "C" NOT NULL REFERENCES features (id),
    model            TEXT NOT NULL,
    included_units   BIGINT,
    overage_rate     BIGINT,
    credit_cost      BIGINT,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL,
    deleted_at_ms    BIGINT
);
CREATE UNIQUE INDEX addons_slug ON addons (org_id, slug);
CREATE UNIQUE INDEX addons_feature ON addons (org_id, feature_id) WHERE deleted_at_ms IS NULL;
CREATE INDEX addons_org_created ON addons (org_id, created_at_ms, id);

CREATE TABLE subscription_addons (
    subscription_id    TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id),
    addon_id           TEXT COLLATE "C" NOT NULL REFERENCES addons (id),
    org_id             TEXT COLLATE "C" NOT NULL,
    activated_at_ms    BIGINT NOT NULL,
    deactivated_at_ms  BIGINT
);
-- No key over the instant: an add-on deactivated and activated again under a frozen test clock
-- has two activations at the same instant.
CREATE INDEX subscription_addons_subscription ON subscription_addons (subscription_id, activated_at_ms);
CREATE UNIQUE INDEX subscription_addons_active ON subscription_addons (subscription_id, addon_id)
    WHERE deactivated_at_ms IS NULL;
CREATE INDEX subscription_addons_addon ON subscription_addons (addon_id) WHERE deactivated_at_ms IS NULL;
