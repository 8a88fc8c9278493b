-- Versions of the hot reads' state (docs/contract/usage.md §8): one row per customer, bumped in
-- the same transaction as every change to what feature access, usage checks and balance reads
-- show of that customer (the customer, its subscriptions, their feature snapshots, seat and
-- quota balances, usage counters), and one row per organization (customer_id '') bumped by
-- every catalog change. Kept by triggers so no write path can forget them. (On SQLite the
-- server's own read view needs no versions, since it is the only writer; the table is kept the
-- same on both engines so the store answers the same everywhere.)
CREATE TABLE hot_versions (
    org_id       TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    CONSTRAINT hot_versions_pkey PRIMARY KEY (org_id, customer_id)
);

CREATE TRIGGER hot_customers_insert AFTER INSERT ON customers BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, NEW.id, 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_subscriptions_insert AFTER INSERT ON subscriptions BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, NEW.customer_id, 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_subscription_features_insert AFTER INSERT ON subscription_features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = NEW.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_seat_balances_insert AFTER INSERT ON seat_balances BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = NEW.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_usage_counters_insert AFTER INSERT ON usage_counters BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = NEW.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_features_insert AFTER INSERT ON features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_plans_insert AFTER INSERT ON plans BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_plan_features_insert AFTER INSERT ON plan_features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_customers_update AFTER UPDATE ON customers BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, NEW.id, 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_subscriptions_update AFTER UPDATE ON subscriptions BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, NEW.customer_id, 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_subscription_features_update AFTER UPDATE ON subscription_features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = NEW.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_seat_balances_update AFTER UPDATE ON seat_balances BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = NEW.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_usage_counters_update AFTER UPDATE ON usage_counters BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = NEW.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_features_update AFTER UPDATE ON features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_plans_update AFTER UPDATE ON plans BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_plan_features_update AFTER UPDATE ON plan_features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (NEW.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_customers_delete AFTER DELETE ON customers BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (OLD.org_id, OLD.id, 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_subscriptions_delete AFTER DELETE ON subscriptions BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (OLD.org_id, OLD.customer_id, 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_subscription_features_delete AFTER DELETE ON subscription_features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = OLD.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_seat_balances_delete AFTER DELETE ON seat_balances BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = OLD.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_usage_counters_delete AFTER DELETE ON usage_counters BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version)
        SELECT s.org_id, s.customer_id, 1 FROM subscriptions s WHERE s.id = OLD.subscription_id
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_features_delete AFTER DELETE ON features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (OLD.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_plans_delete AFTER DELETE ON plans BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (OLD.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER hot_plan_features_delete AFTER DELETE ON plan_features BEGIN
    INSERT INTO hot_versions (org_id, customer_id, version) VALUES (OLD.org_id, '', 1)
        ON CONFLICT (org_id, customer_id) DO UPDATE SET version = version + 1;
END;
