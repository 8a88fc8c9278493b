-- Pauses (docs/contract/lifecycle.md §6): one per subscription, scheduled or in effect, with
-- what an immediate pause keeps to give back (the status and period it interrupted).
ALTER TABLE subscriptions ADD COLUMN pause_mode TEXT;
ALTER TABLE subscriptions ADD COLUMN pause_in_effect BOOLEAN;
ALTER TABLE subscriptions ADD COLUMN pause_requested_at_ms BIGINT;
ALTER TABLE subscriptions ADD COLUMN pause_effective_at_ms BIGINT;
ALTER TABLE subscriptions ADD COLUMN pause_resume_at_ms BIGINT;
ALTER TABLE subscriptions ADD COLUMN pause_status_before TEXT;
ALTER TABLE subscriptions ADD COLUMN pause_period_start_ms BIGINT;
ALTER TABLE subscriptions ADD COLUMN pause_period_end_ms BIGINT;
