-- The highest count each seat or quota balance held in the current period, included units
-- counted: a quota's billedQuantity (docs/contract/usage.md). Quota balances share this table
-- with seat balances (and quota events the seat ledger, under qev_ ids).
ALTER TABLE seat_balances ADD COLUMN peak INTEGER NOT NULL DEFAULT 0;
UPDATE seat_balances SET peak = current;
