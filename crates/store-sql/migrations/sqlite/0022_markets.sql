-- Markets and regional prices (docs/contract/commerce.md §2, §7).
--
-- 1. Markets, and which market holds each country (one market per country per organization).
CREATE TABLE markets (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    country_codes  TEXT NOT NULL,
    metadata       TEXT NOT NULL DEFAULT '{}',
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX markets_org_created ON markets (org_id, created_at_ms, id);
CREATE TABLE market_countries (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    country    TEXT NOT NULL,
    market_id  TEXT NOT NULL REFERENCES markets (id),
    CONSTRAINT market_countries_pkey PRIMARY KEY (org_id, country)
);

-- 2. A price's amount per market.
CREATE TABLE price_market_prices (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    price_id   TEXT NOT NULL REFERENCES plan_prices (id),
    market_id  TEXT NOT NULL REFERENCES markets (id),
    currency   TEXT NOT NULL,
    price      INTEGER NOT NULL CHECK (price >= 0),
    CONSTRAINT price_market_prices_pkey PRIMARY KEY (price_id, market_id)
);
CREATE INDEX price_market_prices_market ON price_market_prices (org_id, market_id);

-- 3. A plan's exchange rates (in millionths), and the entries entered by hand per price and
--    per overage feature; the others are derived from the rates when read.
CREATE TABLE plan_exchange_rates (
    org_id    TEXT NOT NULL REFERENCES organizations (id),
    plan_id   TEXT NOT NULL REFERENCES plans (id),
    currency  TEXT NOT NULL,
    rate      INTEGER NOT NULL CHECK (rate > 0),
    CONSTRAINT plan_exchange_rates_pkey PRIMARY KEY (plan_id, currency)
);
CREATE TABLE price_regional_prices (
    org_id            TEXT NOT NULL REFERENCES organizations (id),
    price_id          TEXT NOT NULL REFERENCES plan_prices (id),
    currency          TEXT NOT NULL,
    price             INTEGER NOT NULL CHECK (price >= 0),
    included_balance  INTEGER,
    CONSTRAINT price_regional_prices_pkey PRIMARY KEY (price_id, currency)
);
CREATE TABLE feature_regional_prices (
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    plan_id             TEXT NOT NULL REFERENCES plans (id),
    feature_id          TEXT NOT NULL,
    currency            TEXT NOT NULL,
    overage_unit_price  INTEGER,
    CONSTRAINT feature_regional_prices_pkey PRIMARY KEY (plan_id, feature_id, currency)
);

-- 4. Where a subscription's currency and amount come from, set once at its creation; a
--    subscription without a row is billed at its price's base, in usd. The market is kept by
--    id only: a market no live subscription uses may be deleted, and ended subscriptions keep
--    the id they were priced from.
CREATE TABLE subscription_pricing (
    subscription_id  TEXT PRIMARY KEY REFERENCES subscriptions (id),
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    currency         TEXT NOT NULL,
    market_id        TEXT,
    source           TEXT NOT NULL CHECK (source IN ('market', 'regional'))
);
CREATE INDEX subscription_pricing_market ON subscription_pricing (org_id, market_id);
