"""Markets and regional pricing through commet-sdk 9.7.0 (`markets.*`, `plans.update_price`
with `market_prices`, `plans.set_regional_pricing`, `set_regional_prices`,
`delete_regional_prices`): shapes on the wire, the market's currency on a new customer's
invoice, extra seats priced in the customer's currency, and the refusals."""

from __future__ import annotations

import re

from catalog import MONTHLY_PRICE, SEAT_UNIT_PRICE, seat_plan
from support import expect_api_error, expect_validation_error, request_line, unique

MARKET_ID = re.compile(r"pmg_[0-9A-HJKMNP-TV-Z]{26}")


def test_a_market_is_created_read_updated_priced_and_deleted(sandbox, wire):
    name = unique("Andes")
    market = sandbox.markets.create(name=name, country_codes=["pe", "bo"])
    assert request_line(wire.last) == "POST /api/v1/markets"
    assert MARKET_ID.fullmatch(market.id)
    assert wire.last.body == {
        "id": market.id,
        "name": name,
        "countryCodes": ["PE", "BO"],
        "metadata": {},
        "createdAt": wire.last.body["createdAt"],
        "updatedAt": wire.last.body["createdAt"],
        "object": "market",
        "livemode": False,
    }
    assert sandbox.markets.get(market.id) == market
    assert market.id in [m.id for m in sandbox.markets.list().data]
    updated = sandbox.markets.update(market.id, name=name, country_codes=["PE"])
    assert request_line(wire.last) == f"PATCH /api/v1/markets/{market.id}"
    assert updated.country_codes == ["PE"]
    error = expect_api_error(
        wire,
        lambda: sandbox.markets.create(name=unique("Peru"), country_codes=["PE"]),
        status=409,
        code="duplicate",
        type="conflict_error",
        param="countryCodes",
    )
    assert error["details"] == {"country": "PE", "marketId": market.id}

    # A price priced in the market: shown on the price, and the market is then in use.
    plan = sandbox.plans.create(name=unique("Basic"), code=unique("basic"))
    price = sandbox.plans.add_price(plan.id, billing_interval="monthly", price=4900)
    priced = sandbox.plans.update_price(
        plan.id, price.id, market_prices=[{"marketGroupId": market.id, "currency": "pen", "price": 18000}]
    )
    assert wire.last.body["marketPrices"] == [{"marketGroupId": market.id, "currency": "pen", "price": 18000}]
    assert priced.id == price.id
    customer = sandbox.customers.create(email=f"{unique('lima')}@example.test", address={"country": "PE", "city": "Lima"})
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=plan.id)
    invoice = sandbox.invoices.get(sandbox.invoices.list(subscription_id=sub.id).data[0].id)
    assert (invoice.currency, invoice.total) == ("pen", 18000)
    expect_api_error(wire, lambda: sandbox.markets.delete(market.id), status=409, code="market_in_use", type="conflict_error")
    sandbox.subscriptions.cancel(sub.id, immediate=True)
    sandbox.plans.update_price(plan.id, price.id, market_prices=[])
    deleted = sandbox.markets.delete(market.id)
    assert wire.last.body == {"id": market.id, "deleted": True, "object": "market", "livemode": False}
    assert deleted.deleted is True
    expect_api_error(wire, lambda: sandbox.markets.get(market.id), status=404, code="market_not_found", type="not_found_error")
    expect_validation_error(wire, lambda: sandbox.markets.create(name="x", country_codes=["ZZ"]))


def test_regional_prices_are_set_read_back_and_dropped(sandbox, wire):
    sp = seat_plan(sandbox)
    result = sandbox.plans.set_regional_pricing(sp.plan.id, currency="mxn", exchange_rate=17.5)
    assert request_line(wire.last) == f"PUT /api/v1/plans/{sp.plan.id}/regional"
    assert wire.last.body == {
        "planId": sp.plan.id,
        "currency": "mxn",
        "exchangeRate": 17.5,
        "pricesConfigured": 2,
        "featuresConfigured": 1,
        "object": "plan_regional_pricing",
        "livemode": False,
    }
    assert result.exchange_rate == 17.5
    sandbox.plans.get(sp.plan.id)
    monthly = next(p for p in wire.last.body["prices"] if p["billingInterval"] == "monthly")
    assert monthly["regionalPrices"] == [
        {"currency": "mxn", "price": MONTHLY_PRICE * 35 // 2, "includedBalance": None, "autoSynced": True}
    ]
    overrides = sandbox.plans.set_regional_prices(
        sp.plan.id, sp.monthly.id, overrides=[{"currency": "mxn", "price": 169900, "includedBalance": 10}]
    )
    assert wire.last.body == {
        "priceId": sp.monthly.id,
        "overrides": [{"currency": "mxn", "price": 169900, "includedBalance": 10}],
        "object": "plan_regional_pricing",
        "livemode": False,
    }
    assert overrides.price_id == sp.monthly.id

    # A Mexican customer is billed in mxn: the hand-entered base, and the extra seats at the
    # seat price the rate derives (25.00 × 17.5 = 437.50 each).
    customer = sandbox.customers.create(email=f"{unique('cdmx')}@example.test", address={"country": "MX"})
    sub = sandbox.subscriptions.create(
        customer_id=customer.id, plan_id=sp.plan.id, billing_interval="monthly", initial_seats={sp.feature.code: 7}
    )
    invoice = sandbox.invoices.get(sandbox.invoices.list(subscription_id=sub.id).data[0].id)
    assert (invoice.currency, invoice.total) == ("mxn", 169900 + 2 * 43750)
    sandbox.feature_access.get(sp.feature.code, customer_id=customer.id)
    assert wire.last.body["usage"]["overage"]["unitPrice"] == {
        "amount": SEAT_UNIT_PRICE * 35 // 2,
        "currency": "mxn",
        "scale": 10000,
    }
    sandbox.subscriptions.cancel(sub.id, immediate=True)

    deleted = sandbox.plans.delete_regional_prices(sp.plan.id, sp.monthly.id)
    assert wire.last.body == {"deleted": True, "object": "plan_regional_pricing", "livemode": False}
    assert deleted.deleted is True
    expect_validation_error(wire, lambda: sandbox.plans.set_regional_pricing(sp.plan.id, currency="mxn", exchange_rate=0), "exchangeRate")
