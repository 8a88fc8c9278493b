"""Credit packs through commet-sdk 9.7.0 (`credit_packs.*`, `subscriptions.purchase_credits`):
the pack and its list item as the SDK parses them, a purchase on a credits plan, and refusals."""

from __future__ import annotations

import re

from catalog import new_customer
from support import expect_api_error, expect_validation_error, request_line, unique

PACK_ID = re.compile(r"cpk_[0-9A-HJKMNP-TV-Z]{26}")


def credits_plan(sandbox) -> str:
    plan = sandbox.plans.create(name=unique("Studio"), code=unique("studio").lower(), consumption_model="credits")
    sandbox.plans.add_price(plan.id, billing_interval="monthly", price=2900, included_credits=1000)
    return plan.id


def test_a_pack_is_bought_for_a_credits_plan(sandbox, wire):
    name = unique("Starter Pack")
    created = sandbox.credit_packs.create(name=name, credits=100, price=1000)
    assert request_line(wire.last) == "POST /api/v1/credit-packs"
    body = wire.last.body
    assert PACK_ID.fullmatch(body["id"]), body
    assert body == {
        "id": created.id,
        "name": name,
        "description": None,
        "credits": 100,
        "price": 1000,
        "isActive": True,
        "createdAt": body["createdAt"],
        "updatedAt": body["createdAt"],
        "object": "credit_pack",
        "livemode": False,
    }
    listed = sandbox.credit_packs.list()
    item = [p for p in wire.last.body["data"] if p["id"] == created.id]
    assert item == [
        {
            "id": created.id,
            "name": name,
            "description": None,
            "credits": 100,
            "price": 1000,
            "currency": "usd",
            "object": "credit_pack",
            "livemode": False,
        }
    ]
    assert listed.has_more is False

    updated = sandbox.credit_packs.update(created.id, credits=150)
    assert request_line(wire.last) == f"PATCH /api/v1/credit-packs/{created.id}"
    assert (updated.credits, updated.price, updated.name) == (150, 1000, name)

    customer = new_customer(sandbox, "packs")
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=credits_plan(sandbox))
    grant = sandbox.subscriptions.purchase_credits(sub.id, credit_pack_id=created.id)
    assert wire.last.body == {"credits": 150, "object": "credit_grant", "livemode": False}
    assert grant.credits == 150
    sandbox.subscriptions.get(sub.id)
    assert wire.last.body["credits"] == {"remaining": 1150, "included": 1000, "purchased": 150}

    sandbox.credit_packs.delete(created.id)
    assert wire.last.body == {"id": created.id, "deleted": True, "object": "credit_pack", "livemode": False}
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.purchase_credits(sub.id, credit_pack_id=created.id),
        status=404,
        code="credit_pack_not_found",
        type="not_found_error",
        param="creditPackId",
    )


def test_bad_packs_and_purchases_are_refused(sandbox, wire):
    expect_validation_error(wire, lambda: sandbox.credit_packs.create(name=unique("X"), credits=0, price=1), "credits")
    expect_validation_error(wire, lambda: sandbox.credit_packs.create(name="", credits=1, price=1), "name")
    pack = sandbox.credit_packs.create(name=unique("Small"), credits=10, price=100)
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.purchase_credits("sub_01J0000000000000000000000Z", credit_pack_id=pack.id),
        status=404,
        code="subscription_not_found",
        type="not_found_error",
    )
    sandbox.credit_packs.delete(pack.id)
