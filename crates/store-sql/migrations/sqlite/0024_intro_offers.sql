-- Introductory offers (docs/contract/commerce.md §4.6): the offer a price applies to new
-- subscriptions that choose no other terms. At most one per price.
CREATE TABLE price_intro_offers (
    price_id  TEXT PRIMARY KEY REFERENCES plan_prices (id),
    org_id    TEXT NOT NULL REFERENCES organizations (id),
    offer_id  TEXT NOT NULL REFERENCES offers (id)
);
