-- Introductory offers (docs/contract/commerce.md §4.6): the offer a price applies to new
-- subscriptions that choose no other terms. At most one per price.
CREATE TABLE price_intro_offers (
    price_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES plan_prices (id),
    org_id    TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    offer_id  TEXT COLLATE "C" NOT NULL REFERENCES offers (id)
);
