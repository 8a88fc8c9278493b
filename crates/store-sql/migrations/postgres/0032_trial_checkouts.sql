-- A trial waiting for its checkout (docs/contract/payments.md §5) has no period yet: it keeps
-- the trial's length, which starts when the customer saves a card.
ALTER TABLE subscriptions ADD COLUMN checkout_trial_days BIGINT;
