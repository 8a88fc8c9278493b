-- How a usage feature takes its usage (fixed units or ai_model token counts), kept in the
-- subscription's feature snapshot like the other plan-feature terms (docs/contract/usage.md
-- §3.2); existing snapshots take their plan's current value.
ALTER TABLE subscription_features ADD COLUMN pricing_mode TEXT NOT NULL DEFAULT 'fixed';
UPDATE subscription_features SET pricing_mode = COALESCE((
    SELECT pf.pricing_mode FROM plan_features pf
    JOIN subscriptions s ON s.plan_id = pf.plan_id
    WHERE s.id = subscription_features.subscription_id
      AND pf.feature_id = subscription_features.feature_id), 'fixed');
