"""Offers and promo codes through commet-sdk 9.7.0 (`offers.*`, `promo_codes.*`,
`subscriptions.create(offer_id=…/promo_code=…)`, `apply_offer`, `remove_offer`): the shapes as the
SDK parses them and on the wire, the discount on the first invoice, and the refusals."""

from __future__ import annotations

import re

from catalog import MONTHLY_PRICE, new_customer, seat_plan
from support import expect_api_error, expect_validation_error, request_line, unique

OFFER_ID = re.compile(r"ofr_[0-9A-HJKMNP-TV-Z]{26}")
CODE_ID = re.compile(r"prc_[0-9A-HJKMNP-TV-Z]{26}")


def new_code(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", unique(tag))[-40:]


def test_an_offer_is_created_read_listed_updated_and_deleted(sandbox, wire):
    name = unique("Launch")
    offer = sandbox.offers.create(name=name, phases=[{"type": "percentage", "durationCycles": 3, "percentage": 5000}])
    assert request_line(wire.last) == "POST /api/v1/offers"
    assert OFFER_ID.fullmatch(offer.id)
    assert wire.last.body == {
        "id": offer.id,
        "name": name,
        "phases": [{"type": "percentage", "durationCycles": 3, "durationInterval": None, "percentage": 5000}],
        "metadata": {},
        "startsAt": None,
        "endsAt": None,
        "active": True,
        "createdAt": wire.last.body["createdAt"],
        "updatedAt": wire.last.body["createdAt"],
        "object": "offer",
        "livemode": False,
    }
    assert sandbox.offers.get(offer.id) == offer
    listed = sandbox.offers.list(limit=1)
    assert [o.id for o in listed.data] == [offer.id], "newest first"
    updated = sandbox.offers.update(
        offer.id,
        name=name + " v2",
        phases=[{"type": "free_trial", "durationDays": 14}, {"type": "amount_off", "durationCycles": 1, "amounts": [{"currency": "usd", "amount": 1000}]}],
    )
    assert request_line(wire.last) == f"PATCH /api/v1/offers/{offer.id}"
    assert updated.name == name + " v2"
    assert wire.last.body["phases"][0] == {"type": "free_trial", "durationDays": 14}
    deleted = sandbox.offers.delete(offer.id)
    assert wire.last.body == {"deleted": True, "object": "offer", "livemode": False}
    assert deleted.deleted is True
    expect_api_error(wire, lambda: sandbox.offers.get(offer.id), status=404, code="offer_not_found", type="not_found_error")
    expect_validation_error(wire, lambda: sandbox.offers.create(name="x", phases=[]), "phases")


def test_a_code_redeems_its_offer_and_a_later_offer_waits_for_the_next_period(sandbox, wire):
    offer = sandbox.offers.create(name=unique("Half"), phases=[{"type": "percentage", "durationCycles": 2, "percentage": 5000}])
    text = new_code("HALF")
    code = sandbox.promo_codes.create(code=text, offer_id=offer.id, max_redemptions=1)
    assert request_line(wire.last) == "POST /api/v1/promo-codes"
    assert CODE_ID.fullmatch(code.id)
    assert wire.last.body == {
        "id": code.id,
        "code": text,
        "offerId": offer.id,
        "billingInterval": None,
        "maxRedemptions": 1,
        "expiresAt": None,
        "isActive": True,
        "redemptionCount": 0,
        "createdAt": wire.last.body["createdAt"],
        "updatedAt": wire.last.body["createdAt"],
        "object": "promo_code",
        "livemode": False,
    }
    assert sandbox.promo_codes.get(code.id) == code
    assert [c.id for c in sandbox.promo_codes.list(limit=1).data] == [code.id]

    plan = seat_plan(sandbox)
    customer = new_customer(sandbox, "offers")
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=plan.plan.id, promo_code=text.lower())
    applications = wire.last.body["offerApplications"]
    assert [(a["source"], a["status"], a["offerId"]) for a in applications] == [("promo_code", "applied", offer.id)]
    assert (applications[0]["subtotal"], applications[0]["discountAmount"], applications[0]["total"]) == (
        MONTHLY_PRICE,
        MONTHLY_PRICE // 2,
        MONTHLY_PRICE // 2,
    )
    invoice = sandbox.invoices.get(sandbox.invoices.list(subscription_id=sub.id).data[0].id)
    assert (invoice.subtotal, invoice.discount_amount, invoice.total) == (MONTHLY_PRICE, MONTHLY_PRICE // 2, MONTHLY_PRICE // 2)
    assert sandbox.promo_codes.get(code.id).redemption_count == 1
    updated = sandbox.promo_codes.update(code.id, max_redemptions=3, active=True)
    assert request_line(wire.last) == f"PATCH /api/v1/promo-codes/{code.id}"
    assert (updated.max_redemptions, updated.redemption_count) == (3, 1)

    # A second offer waits while the first still has discounts ahead; once removed, nothing.
    other = new_customer(sandbox, "offers-later")
    later = sandbox.subscriptions.create(customer_id=other.id, plan_id=plan.plan.id)
    fixed = sandbox.offers.create(name=unique("Fixed"), phases=[{"type": "fixed_price", "durationCycles": 1, "prices": [{"currency": "usd", "amount": 2900}]}])
    applied = sandbox.subscriptions.apply_offer(later.id, offer_id=fixed.id)
    assert request_line(wire.last) == f"PUT /api/v1/subscriptions/{later.id}/offer"
    phase = wire.last.body["offerApplications"][0]["phases"][0]
    assert (phase["type"], phase["price"], phase["startsAt"]) == ("fixed_price", 2900, wire.last.body["currentPeriod"]["end"])
    assert applied.id == later.id
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.apply_offer(later.id, offer_id=fixed.id),
        status=400,
        code="offer_not_applicable",
        type="validation_error",
        param="offerId",
    )
    sandbox.subscriptions.remove_offer(later.id)
    assert request_line(wire.last) == f"DELETE /api/v1/subscriptions/{later.id}/offer"
    assert wire.last.body["offerApplications"][0]["status"] == "expired"


def test_codes_and_offers_are_refused_where_they_do_not_apply(sandbox, wire):
    offer = sandbox.offers.create(name=unique("Once"), phases=[{"type": "percentage", "durationCycles": 1, "percentage": 1000}])
    text = new_code("ONCE")
    sandbox.promo_codes.create(code=text, offer_id=offer.id, billing_interval="yearly")
    expect_api_error(
        wire,
        lambda: sandbox.promo_codes.create(code=text.lower(), offer_id=offer.id),
        status=409,
        code="duplicate",
        type="conflict_error",
        param="code",
    )
    plan = seat_plan(sandbox)
    customer = new_customer(sandbox, "offers-refused")
    error = expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_id=plan.plan.id, promo_code=text),
        status=400,
        code="offer_not_applicable",
        type="validation_error",
        param="promoCode",
    )
    assert error["details"] == {"reason": "interval_not_eligible"}
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_id=plan.plan.id, promo_code=new_code("NONE")),
        status=404,
        code="promo_code_not_found",
        type="not_found_error",
        param="promoCode",
    )
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.create(customer_id=customer.id, plan_id=plan.plan.id, offer_id="ofr_01JAAAAAAAAAAAAAAAAAAAAAAA"),
        status=404,
        code="offer_not_found",
        type="not_found_error",
        param="offerId",
    )
    assert sandbox.subscriptions.list(customer_id=customer.id).data == [], "no refusal created a subscription"
