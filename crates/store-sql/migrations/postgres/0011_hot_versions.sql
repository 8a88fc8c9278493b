-- Versions of the hot reads' state (docs/contract/usage.md §8): one row per customer, bumped in
-- the same transaction as every change to what feature access, usage checks and balance reads
-- show of that customer (the customer, its subscriptions, their feature snapshots, seat and
-- quota balances, usage counters), and one row per organization (customer_id '') bumped by
-- every catalog change. A node keeps what it read with the versions it read, and reuses it
-- while one cheap read of the versions says nothing changed: exact across nodes, because the
-- versions move with the commits that change the state. Kept by triggers so no write path can
-- forget them.
CREATE TABLE hot_versions (
    org_id       TEXT COLLATE "C" NOT NULL,
    customer_id  TEXT COLLATE "C" NOT NULL,
    version      BIGINT NOT NULL,
    CONSTRAINT hot_versions_pkey PRIMARY KEY (org_id, customer_id)
);

CREATE FUNCTION tally_hot_bump(org TEXT, customer TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (org, customer, 1)
    ON CONFLICT (org_id, customer_id) DO UPDATE SET version = hot_versions.version + 1;
$$;

-- customers: the row's own id.
CREATE FUNCTION tally_hot_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM tally_hot_bump(OLD.org_id, OLD.id);
    ELSE
        PERFORM tally_hot_bump(NEW.org_id, NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER hot_customers AFTER INSERT OR UPDATE OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION tally_hot_customer();

-- subscriptions: their customer.
CREATE FUNCTION tally_hot_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM tally_hot_bump(OLD.org_id, OLD.customer_id);
    ELSE
        PERFORM tally_hot_bump(NEW.org_id, NEW.customer_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER hot_subscriptions AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION tally_hot_subscription();

-- Rows that hang off a subscription: its customer.
CREATE FUNCTION tally_hot_of_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sub TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        sub := OLD.subscription_id;
    ELSE
        sub := NEW.subscription_id;
    END IF;
    PERFORM tally_hot_bump(s.org_id, s.customer_id) FROM subscriptions s WHERE s.id = sub;
    RETURN NULL;
END $$;
CREATE TRIGGER hot_subscription_features AFTER INSERT OR UPDATE OR DELETE ON subscription_features
    FOR EACH ROW EXECUTE FUNCTION tally_hot_of_subscription();
CREATE TRIGGER hot_seat_balances AFTER INSERT OR UPDATE OR DELETE ON seat_balances
    FOR EACH ROW EXECUTE FUNCTION tally_hot_of_subscription();
CREATE TRIGGER hot_usage_counters AFTER INSERT OR UPDATE OR DELETE ON usage_counters
    FOR EACH ROW EXECUTE FUNCTION tally_hot_of_subscription();

-- The catalog: the organization's row.
CREATE FUNCTION tally_hot_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM tally_hot_bump(OLD.org_id, '');
    ELSE
        PERFORM tally_hot_bump(NEW.org_id, '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER hot_features AFTER INSERT OR UPDATE OR DELETE ON features
    FOR EACH ROW EXECUTE FUNCTION tally_hot_catalog();
CREATE TRIGGER hot_plans AFTER INSERT OR UPDATE OR DELETE ON plans
    FOR EACH ROW EXECUTE FUNCTION tally_hot_catalog();
CREATE TRIGGER hot_plan_features AFTER INSERT OR UPDATE OR DELETE ON plan_features
    FOR EACH ROW EXECUTE FUNCTION tally_hot_catalog();
