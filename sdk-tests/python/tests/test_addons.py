"""Add-ons through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; lifecycle.md §2,
§5, §10, §11, §12 scenario 4).

The unmarked tests do not move the clock: an add-on activated right after subscribing has d = P
(ceil((E − t) / 1 day), t a few ms or seconds after the start, or equal to it on a frozen clock),
so proratedCharge is the whole basePrice; expectations are computed from the period the
subscription reports. The ``clock`` test reproduces scenario 4 to the cent: the shared clock only
moves forward and may be past the spec's 2026-01-01, so it starts at the first 1st of a 31-day
month (Jan, Mar, May, Jul, Aug, Oct, Dec), 00:00 UTC, after the clock's time: activation 11 days in
(d = 20 of 31) -> 5000 × 20/31 = 3225.8 -> 3226.

Wire mapping: see lifecycle.py. Webhook deliveries go to a Receiver from test_webhooks.py (its
``receiver`` fixture deletes the test's endpoints at teardown).
"""

from __future__ import annotations

from typing import Any

import pytest

from commet.types import DeletedObject

from catalog import new_customer
from invoicing import assert_invoice_wire, get_invoice, plan_base_line
from lifecycle import (
    UNKNOWN_ADDON,
    UNKNOWN_SUBSCRIPTION,
    activate_addon,
    activation_wire,
    active_addon_wire,
    addon_line,
    advance_to,
    assert_addon_wire,
    assert_plain_subscription,
    assert_sdk_addon,
    boolean_item,
    clock_now,
    create_addon,
    deactivate_addon,
    deactivation_wire,
    deliveries,
    expected_addon,
    first_of_month_after,
    get_subscription,
    hex16,
    invoice_ids,
    list_active,
    new_feature,
    period_days,
    plain_plan,
    prorate,
    same_items,
    slug_of,
    subscribe_plain,
    usage_item,
)
from support import (
    DAY,
    add_months,
    assert_direct_list,
    expect_api_error,
    expect_validation_error,
    find,
    instant,
    request_line,
    shift,
    unique,
)
from test_webhooks import create_endpoint, receiver  # noqa: F401 - receiver is a fixture

PRO_PRICE = 9900
SSO_PRICE = 5000
ADDON_EVENTS = ["addon.activated", "addon.deactivated"]
ADDON_NOT_FOUND = {"status": 404, "code": "addon_not_found", "type": "not_found_error"}


def get_addon(sdk, wire, id: str) -> dict[str, Any]:
    addon = sdk.addons.get(id)
    assert request_line(wire.last) == f"GET /api/v1/addons/{id}"
    assert wire.last.status == 200, wire.last.body
    assert_sdk_addon(addon, wire.last.body)
    return wire.last.body


def delete_addon(sdk, wire, id: str) -> None:
    deleted = sdk.addons.delete(id)
    assert request_line(wire.last) == f"DELETE /api/v1/addons/{id}"
    assert wire.last.body == {"id": id, "deleted": True, "object": "addon", "livemode": False}
    assert isinstance(deleted, DeletedObject)
    assert (deleted.id, deleted.deleted, deleted.object) == (id, True, "addon")


def find_addon(sdk, id: str):
    return find(lambda cursor: sdk.addons.list(cursor=cursor, limit=100), lambda a: a.id == id)


def access(sdk, wire, customer_id: str, code: str) -> dict[str, Any]:
    """Feature access of one feature: the raw direct FeatureAccess."""
    sdk.feature_access.get(code, customer_id=customer_id)
    assert wire.last.status == 200, wire.last.body
    return wire.last.body


# ---------------------------------------------------------------------------------------------
# Without the clock
# ---------------------------------------------------------------------------------------------


def test_addon_crud(sandbox, wire):
    sso = new_feature(sandbox, "boolean", "sso")
    tag = hex16()
    name = f"SSO & Audit Log {tag}"
    assert slug_of(name) == f"sso-audit-log-{tag}"

    # create: boolean model, unit fields null, slug from the name
    created = create_addon(sandbox, wire, name=name, base_price=SSO_PRICE, feature_id=sso.id, consumption_model="boolean")
    assert_addon_wire(created, expected_addon(sso, name=name, basePrice=SSO_PRICE, consumptionModel="boolean"))
    assert created["slug"] == f"sso-audit-log-{tag}"
    assert created["createdAt"] == created["updatedAt"]

    # get by id and by slug: the same object
    assert get_addon(sandbox, wire, created["id"]) == created
    assert get_addon(sandbox, wire, created["slug"]) == created

    # the same name again (other features, one by code): -2, -3
    second = new_feature(sandbox, "boolean", "sso")
    third = new_feature(sandbox, "boolean", "sso")
    description = "Single sign-on for every workspace"
    clash2 = create_addon(
        sandbox,
        wire,
        name=name,
        description=description,
        base_price=0,
        feature_id=second.code,
        consumption_model="boolean",
    )
    assert_addon_wire(
        clash2,
        expected_addon(
            second, name=name, slug=f"{created['slug']}-2", description=description, basePrice=0, consumptionModel="boolean"
        ),
    )
    clash3 = create_addon(sandbox, wire, name=name, base_price=100, feature_id=third.id, consumption_model="boolean")
    assert_addon_wire(
        clash3, expected_addon(third, name=name, slug=f"{created['slug']}-3", basePrice=100, consumptionModel="boolean")
    )

    # update (PATCH): name, description, basePrice change; the slug never does
    renamed = f"Enterprise SSO {tag}"
    updated_sdk = sandbox.addons.update(created["id"], name=renamed, description="SAML and OIDC", base_price=6000)
    assert request_line(wire.last) == f"PATCH /api/v1/addons/{created['id']}"
    assert wire.last.request_body == {"name": renamed, "description": "SAML and OIDC", "basePrice": 6000}
    updated = wire.last.body
    assert_sdk_addon(updated_sdk, updated)
    assert_addon_wire(
        updated,
        expected_addon(
            sso, name=renamed, slug=created["slug"], description="SAML and OIDC", basePrice=6000, consumptionModel="boolean"
        ),
    )
    assert updated["id"] == created["id"] and updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] >= created["updatedAt"]
    assert get_addon(sandbox, wire, created["slug"]) == updated, "still found by its slug"

    # list: a direct list of Addon objects
    page = sandbox.addons.list(limit=2)
    assert request_line(wire.last) == "GET /api/v1/addons?limit=2"
    assert len(assert_direct_list(wire.last.body)) <= 2
    assert page.object == "list" and len(page.data) <= 2
    listed = find_addon(sandbox, created["id"])
    assert listed is not None, "the add-on is listed"
    assert_sdk_addon(listed, updated)

    # the other models: their unit fields
    calls = new_feature(sandbox, "usage", "calls")
    metered = create_addon(
        sandbox,
        wire,
        name=f"API Boost {tag}",
        base_price=2000,
        feature_id=calls.id,
        consumption_model="metered",
        included_units=1000,
        overage_rate=50,
    )
    assert_addon_wire(
        metered,
        expected_addon(
            calls, name=f"API Boost {tag}", basePrice=2000, consumptionModel="metered", includedUnits=1000, overageRate=50
        ),
    )
    images = new_feature(sandbox, "usage", "images")
    credits = create_addon(
        sandbox, wire, name=f"Image Pack {tag}", base_price=1500, feature_id=images.id, consumption_model="credits", credit_cost=3
    )
    assert_addon_wire(
        credits, expected_addon(images, name=f"Image Pack {tag}", basePrice=1500, consumptionModel="credits", creditCost=3)
    )
    renders = new_feature(sandbox, "usage", "renders")
    balance = create_addon(
        sandbox,
        wire,
        name=f"Render Wallet {tag}",
        base_price=1000,
        feature_id=renders.id,
        consumption_model="balance",
        overage_rate=200,
    )
    assert_addon_wire(
        balance,
        expected_addon(renders, name=f"Render Wallet {tag}", basePrice=1000, consumptionModel="balance", overageRate=200),
    )

    # delete (never activated): DeletedObject; then not found, not listed; the feature is free again
    delete_addon(sandbox, wire, clash3["id"])
    expect_api_error(wire, lambda: sandbox.addons.get(clash3["id"]), **ADDON_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.addons.delete(clash3["id"]), **ADDON_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.addons.update(clash3["id"], base_price=1), **ADDON_NOT_FOUND)
    assert find_addon(sandbox, clash3["id"]) is None, "a deleted add-on is not listed"
    reused = create_addon(
        sandbox, wire, name=f"Second Life {tag}", base_price=700, feature_id=third.id, consumption_model="boolean"
    )
    assert_addon_wire(reused, expected_addon(third, name=f"Second Life {tag}", basePrice=700, consumptionModel="boolean"))
    assert reused["id"] != clash3["id"]


def test_addon_refusals(sandbox, wire):
    flag = new_feature(sandbox, "boolean", "flag")
    calls = new_feature(sandbox, "usage", "calls")
    seats = new_feature(sandbox, "seats", "seats")
    base: dict[str, Any] = {
        "name": unique("Addon"),
        "base_price": SSO_PRICE,
        "feature_id": flag.id,
        "consumption_model": "boolean",
    }

    # malformed (None drops the key from the body)
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"name": None})), "name")
    assert "name" not in wire.last.request_body
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"base_price": -1})), "basePrice")
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"feature_id": None})), "featureId")
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"consumption_model": "hourly"})), "consumptionModel")
    # model combinations: boolean takes no unit fields, metered needs overageRate, credits creditCost
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"overage_rate": 50})))
    expect_validation_error(
        wire,
        lambda: sandbox.addons.create(**(base | {"feature_id": calls.id, "consumption_model": "metered", "included_units": 10})),
    )
    expect_validation_error(
        wire, lambda: sandbox.addons.create(**(base | {"feature_id": calls.id, "consumption_model": "credits"}))
    )
    # boolean needs a boolean feature, the others a usage feature; seats features never
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"feature_id": calls.id})))
    expect_validation_error(
        wire, lambda: sandbox.addons.create(**(base | {"consumption_model": "metered", "overage_rate": 50}))
    )
    expect_validation_error(wire, lambda: sandbox.addons.create(**(base | {"feature_id": seats.id})), "featureId")

    # one non-deleted add-on per feature; a feature sold as an add-on cannot be deleted
    addon = create_addon(sandbox, wire, **base)
    assert_addon_wire(addon, expected_addon(flag, name=base["name"], basePrice=SSO_PRICE, consumptionModel="boolean"))
    expect_api_error(
        wire,
        lambda: sandbox.addons.create(**(base | {"name": unique("Other")})),
        status=409,
        code="feature_already_exists",
        type="conflict_error",
    )
    expect_api_error(
        wire, lambda: sandbox.features.delete(flag.code), status=409, code="feature_in_use", type="conflict_error"
    )

    # update re-checks the combination; nothing changes on a refusal
    expect_validation_error(wire, lambda: sandbox.addons.update(addon["id"], overage_rate=50))
    expect_validation_error(wire, lambda: sandbox.addons.update(addon["id"], base_price=-5), "basePrice")
    assert get_addon(sandbox, wire, addon["id"]) == addon

    # unknown add-on
    expect_api_error(wire, lambda: sandbox.addons.get(UNKNOWN_ADDON), **ADDON_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.addons.get(unique("no-such-slug")), **ADDON_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.addons.update(UNKNOWN_ADDON, name="x"), **ADDON_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.addons.delete(UNKNOWN_ADDON), **ADDON_NOT_FOUND)

    # list_active: unknown customer -> 404; a customer without a subscription -> empty list
    expect_api_error(
        wire,
        lambda: sandbox.addons.list_active(customer_id=unique("ghost")),
        status=404,
        code="customer_not_found",
        type="not_found_error",
    )
    idle = new_customer(sandbox, "addon-idle")
    assert list_active(sandbox, wire, idle.id) == []


def test_activation_right_after_subscribing(sandbox, wire, receiver):
    """d = P: the whole basePrice, the feature granted at once, listed, webhooks; deactivation
    without refund; re-activation charged again."""
    endpoint = create_endpoint(sandbox, wire, receiver, ADDON_EVENTS)
    assert endpoint["events"] == ADDON_EVENTS
    plan = plain_plan(sandbox, "Pro", PRO_PRICE)
    sso = new_feature(sandbox, "boolean", "sso")
    calls = new_feature(sandbox, "usage", "calls")
    tag = hex16()
    sso_addon = create_addon(
        sandbox, wire, name=f"SSO {tag}", base_price=SSO_PRICE, feature_id=sso.id, consumption_model="boolean"
    )
    boost = create_addon(
        sandbox,
        wire,
        name=f"API Boost {tag}",
        base_price=2000,
        feature_id=calls.id,
        consumption_model="metered",
        included_units=1000,
        overage_rate=50,
    )
    customer, sub = subscribe_plain(sandbox, wire, plan, "addon-now")
    sub_id = sub["id"]
    start, end = sub["currentPeriod"]["start"], sub["currentPeriod"]["end"]
    p = period_days(start, end)
    [initial] = invoice_ids(sandbox, wire, sub_id)

    def view(now: str, features: list[dict[str, Any]]) -> None:
        body = get_subscription(sandbox, wire, sub_id)
        assert_plain_subscription(
            body, original=sub, customer=customer, plan=plan, start=start, end=end, now=now, features=features
        )

    # before: nothing active, the feature is not the customer's
    assert list_active(sandbox, wire, customer.external_id) == []
    assert access(sandbox, wire, customer.id, sso.code)["allowed"] is False
    view(start, [])

    # activate SSO: d = P, the whole base price, billed at once
    before = clock_now(sandbox)
    activated = activate_addon(sandbox, wire, sub_id, sso_addon["id"])
    after = clock_now(sandbox)
    assert prorate(SSO_PRICE, p, p) == SSO_PRICE
    assert activated == activation_wire(sso_addon, SSO_PRICE)

    ids = invoice_ids(sandbox, wire, sub_id)
    assert ids[1:] == [initial], "one invoice more, newest first"
    _, invoice = get_invoice(sandbox, wire, ids[0])
    t = invoice["issueDate"]
    assert instant(before) <= instant(t) <= instant(after), (before, t, after)
    assert_invoice_wire(
        invoice,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="addon_activation",
        plan_name=plan.name,
        period_start=t,
        period_end=end,
        issued_at=t,
        lines=[addon_line(SSO_PRICE, SSO_PRICE)],
        total=SSO_PRICE,
    )
    line = invoice["lineItems"][0]["description"]
    assert f"{p}/{p} days" in line, f"the line states its day fraction: {line}"

    # granted at once: listed (by externalId and cus_ id), in features[], allowed
    sso_active = active_addon_wire(sso_addon, "boolean", t)
    assert list_active(sandbox, wire, customer.external_id) == [sso_active]
    assert list_active(sandbox, wire, customer.id) == [sso_active]
    view(t, [boolean_item(sso)])
    got = access(sandbox, wire, customer.id, sso.code)
    assert (got["allowed"], got["enabled"], got.get("reason")) == (True, True, None), got

    # active already -> 409; an add-on with active activations cannot be deleted
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=sso_addon["id"]),
        status=409,
        code="addon_already_active",
        type="conflict_error",
    )
    expect_api_error(
        wire,
        lambda: sandbox.addons.delete(sso_addon["id"]),
        status=409,
        code="addon_has_activations",
        type="conflict_error",
    )

    # a metered add-on too: its feature with the add-on's units; listed oldest first
    assert activate_addon(sandbox, wire, sub_id, boost["id"]) == activation_wire(boost, 2000)
    ids = invoice_ids(sandbox, wire, sub_id)
    assert len(ids) == 3
    _, boost_invoice = get_invoice(sandbox, wire, ids[0])
    t2 = boost_invoice["issueDate"]
    assert_invoice_wire(
        boost_invoice,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="addon_activation",
        plan_name=plan.name,
        period_start=t2,
        period_end=end,
        issued_at=t2,
        lines=[addon_line(2000, 2000)],
        total=2000,
    )
    boost_usage = usage_item(calls, included=1000, overage_unit_price=50)
    assert list_active(sandbox, wire, customer.id) == [sso_active, active_addon_wire(boost, "usage", t2)]
    view(t2, [boolean_item(sso), boost_usage])

    # deactivate SSO: stops at once, no refund
    d0 = clock_now(sandbox)
    deactivated = deactivate_addon(sandbox, wire, sub_id, sso_addon["id"])
    d1 = clock_now(sandbox)
    assert instant(d0) <= instant(deactivated["deactivatedAt"]) <= instant(d1)
    assert deactivated == deactivation_wire(sso_addon, deactivated["deactivatedAt"])
    assert list_active(sandbox, wire, customer.id) == [active_addon_wire(boost, "usage", t2)]
    view(d1, [boost_usage])
    assert access(sandbox, wire, customer.id, sso.code)["allowed"] is False
    assert invoice_ids(sandbox, wire, sub_id) == ids, "no credit, no refund"

    # not active any more -> 400 addon_not_active
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.deactivate_addon(sub_id, sso_addon["id"]),
        status=400,
        code="addon_not_active",
        type="billing_error",
    )

    # re-activation is charged again; then both go, and the add-on can be deleted
    assert activate_addon(sandbox, wire, sub_id, sso_addon["id"]) == activation_wire(sso_addon, SSO_PRICE)
    again = invoice_ids(sandbox, wire, sub_id)
    assert again[1:] == ids
    _, reinvoice = get_invoice(sandbox, wire, again[0])
    assert (reinvoice["invoiceType"], reinvoice["total"]) == ("addon_activation", SSO_PRICE)
    deactivate_addon(sandbox, wire, sub_id, sso_addon["id"])
    deactivate_addon(sandbox, wire, sub_id, boost["id"])
    assert list_active(sandbox, wire, customer.id) == []
    delete_addon(sandbox, wire, sso_addon["id"])
    view(clock_now(sandbox), [])

    # webhooks: addon.activated ×3 (proratedPrice on the rate scale, cents × 100), deactivated ×3
    got_events = deliveries(receiver, sub_id, {"addon.activated": 3, "addon.deactivated": 3})
    cid = customer.external_id

    def activated_event(addon: dict[str, Any], cents: int) -> dict[str, Any]:
        return {
            "subscriptionId": sub_id,
            "customerId": cid,
            "addon": {"id": addon["id"], "name": addon["name"]},
            "featureCode": addon["featureCode"],
            "proratedPrice": cents * 100,
            "currency": "usd",
        }

    def deactivated_event(addon: dict[str, Any]) -> dict[str, Any]:
        return {
            "subscriptionId": sub_id,
            "customerId": cid,
            "addon": {"id": addon["id"], "name": addon["name"]},
            "featureCode": addon["featureCode"],
        }

    assert same_items(
        got_events["addon.activated"],
        [activated_event(sso_addon, SSO_PRICE), activated_event(boost, 2000), activated_event(sso_addon, SSO_PRICE)],
    ), got_events["addon.activated"]
    assert same_items(
        got_events["addon.deactivated"],
        [deactivated_event(sso_addon), deactivated_event(sso_addon), deactivated_event(boost)],
    ), got_events["addon.deactivated"]


def test_activation_refusals(sandbox, wire):
    plan = plain_plan(sandbox, "Pro", PRO_PRICE)
    on_plan = new_feature(sandbox, "boolean", "onplan")
    sandbox.plans.add_feature(plan.id, feature_id=on_plan.id)
    images = new_feature(sandbox, "usage", "images")
    sso = new_feature(sandbox, "boolean", "sso")
    duplicate = create_addon(
        sandbox, wire, name=unique("Dup"), base_price=1000, feature_id=on_plan.id, consumption_model="boolean"
    )
    credits = create_addon(
        sandbox,
        wire,
        name=unique("Credits"),
        base_price=1000,
        feature_id=images.id,
        consumption_model="credits",
        credit_cost=2,
    )
    sso_addon = create_addon(
        sandbox, wire, name=unique("SSO"), base_price=SSO_PRICE, feature_id=sso.id, consumption_model="boolean"
    )
    customer, sub = subscribe_plain(sandbox, wire, plan, "addon-refused")
    sub_id = sub["id"]
    [initial] = invoice_ids(sandbox, wire, sub_id)

    expect_validation_error(wire, lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=None), "addonId")
    assert wire.last.request_body is None, "P9 sends no body when every field is None"
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.activate_addon(UNKNOWN_SUBSCRIPTION, addon_id=sso_addon["id"]),
        status=404,
        code="subscription_not_found",
        type="not_found_error",
    )
    expect_api_error(
        wire, lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=UNKNOWN_ADDON), **ADDON_NOT_FOUND
    )
    # the plan already enables the feature
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=duplicate["id"]),
        status=409,
        code="feature_already_exists",
        type="conflict_error",
    )
    # a credits add-on on a metered plan
    expect_validation_error(wire, lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=credits["id"]), "addonId")
    # deactivating an add-on never activated here
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.deactivate_addon(sub_id, sso_addon["id"]),
        status=400,
        code="addon_not_active",
        type="billing_error",
    )

    # nothing was activated or billed
    assert list_active(sandbox, wire, customer.id) == []
    assert invoice_ids(sandbox, wire, sub_id) == [initial]

    # canceled -> 409 subscription_not_active
    sandbox.subscriptions.cancel(sub_id, immediate=True)
    assert wire.last.body["status"] == "canceled"
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=sso_addon["id"]),
        status=409,
        code="subscription_not_active",
        type="conflict_error",
    )
    assert list_active(sandbox, wire, customer.id) == []


# ---------------------------------------------------------------------------------------------
# On the clock: scenario 4
# ---------------------------------------------------------------------------------------------


@pytest.mark.clock
def test_scenario_4_addon_prorated_renewed_deactivated(sandbox, wire, receiver):
    create_endpoint(sandbox, wire, receiver, ADDON_EVENTS)
    plan = plain_plan(sandbox, "Pro", PRO_PRICE)
    sso = new_feature(sandbox, "boolean", "sso")
    tag = hex16()
    addon = create_addon(sandbox, wire, name=f"SSO {tag}", base_price=SSO_PRICE, feature_id=sso.id, consumption_model="boolean")
    assert_addon_wire(addon, expected_addon(sso, name=f"SSO {tag}", basePrice=SSO_PRICE, consumptionModel="boolean"))
    assert addon["slug"] == f"sso-{tag}"

    # ---- Setup: the 1st of a 31-day month; pro -> first invoice 9900 -----------------------------
    start = first_of_month_after(clock_now(sandbox), 31)
    advance_to(sandbox, wire, start, "")
    customer, sub = subscribe_plain(sandbox, wire, plan, "addon-scenario")
    sub_id = sub["id"]
    end1, end2, end3 = (add_months(start, n) for n in (1, 2, 3))
    assert period_days(start, end1) == 31
    assert sub["startDate"] == start, "startDate is the simulated time"
    assert sub["currentPeriod"] == {"start": start, "end": end1, "daysRemaining": 31}
    common = {"customer": customer, "subscription_id": sub_id, "plan_name": plan.name}

    def view(s: str, e: str, now: str, features: list[dict[str, Any]]) -> None:
        body = get_subscription(sandbox, wire, sub_id)
        assert_plain_subscription(body, original=sub, customer=customer, plan=plan, start=s, end=e, now=now, features=features)

    [initial] = invoice_ids(sandbox, wire, sub_id)
    _, body = get_invoice(sandbox, wire, initial)
    assert_invoice_wire(
        body,
        **common,
        invoice_type="recurring",
        period_start=start,
        period_end=end1,
        issued_at=start,
        lines=[plan_base_line(PRO_PRICE)],
        total=PRO_PRICE,
    )

    # ---- 11 days later (d = 20 of 31): activate -> 3226 -----------------------------------------
    day12 = shift(start, 11 * DAY)
    assert advance_to(sandbox, wire, day12, sub_id) == []
    assert prorate(SSO_PRICE, 20, 31) == 3226
    assert activate_addon(sandbox, wire, sub_id, addon["id"]) == activation_wire(addon, 3226)
    ids = invoice_ids(sandbox, wire, sub_id)
    assert ids[1:] == [initial], "newest first"
    activation_id = ids[0]
    _, body = get_invoice(sandbox, wire, activation_id)
    assert_invoice_wire(
        body,
        **common,
        invoice_type="addon_activation",
        period_start=day12,
        period_end=end1,
        issued_at=day12,
        lines=[addon_line(SSO_PRICE, 3226)],
        total=3226,
    )
    line = body["lineItems"][0]["description"]
    assert "20/31 days" in line, f"the line states 20/31 days: {line}"

    active = active_addon_wire(addon, "boolean", day12)
    assert list_active(sandbox, wire, customer.external_id) == [active]
    view(start, end1, day12, [boolean_item(sso)])

    # activate again -> 409; delete while active -> 409; nothing billed by either
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=addon["id"]),
        status=409,
        code="addon_already_active",
        type="conflict_error",
    )
    expect_api_error(
        wire, lambda: sandbox.addons.delete(addon["id"]), status=409, code="addon_has_activations", type="conflict_error"
    )
    assert invoice_ids(sandbox, wire, sub_id) == [activation_id, initial]

    # ---- The renewal: 9900 + 5000 = 14900 --------------------------------------------------------
    [item] = advance_to(sandbox, wire, end1, sub_id)
    assert (item["kind"], item["status"], item["outcome"], item["dueAt"]) == ("billing_cycle", "completed", "renewed", end1), item
    assert invoice_ids(sandbox, wire, sub_id) == [item["invoiceId"], activation_id, initial]
    _, body = get_invoice(sandbox, wire, item["invoiceId"])
    assert_invoice_wire(
        body,
        **common,
        invoice_type="recurring",
        period_start=end1,
        period_end=end2,
        issued_at=end1,
        lines=[plan_base_line(PRO_PRICE), addon_line(SSO_PRICE, SSO_PRICE)],
        total=14900,
    )
    renewal1 = item["invoiceId"]
    assert list_active(sandbox, wire, customer.id) == [active], "still active, activatedAt unchanged"
    view(end1, end2, end1, [boolean_item(sso)])

    # ---- The 10th of the second period: deactivate, no credit -------------------------------------
    day10 = shift(end1, 9 * DAY)
    assert advance_to(sandbox, wire, day10, sub_id) == []
    assert deactivate_addon(sandbox, wire, sub_id, addon["id"]) == deactivation_wire(addon, day10)
    assert list_active(sandbox, wire, customer.id) == []
    view(end1, end2, day10, [])
    assert invoice_ids(sandbox, wire, sub_id) == [renewal1, activation_id, initial], "no credit, no refund"

    # ---- The next renewal: the plan alone, 9900 -----------------------------------------------------
    [item] = advance_to(sandbox, wire, end2, sub_id)
    assert (item["outcome"], item["dueAt"]) == ("renewed", end2), item
    assert invoice_ids(sandbox, wire, sub_id) == [item["invoiceId"], renewal1, activation_id, initial]
    _, body = get_invoice(sandbox, wire, item["invoiceId"])
    assert_invoice_wire(
        body,
        **common,
        invoice_type="recurring",
        period_start=end2,
        period_end=end3,
        issued_at=end2,
        lines=[plan_base_line(PRO_PRICE)],
        total=PRO_PRICE,
    )
    view(end2, end3, end2, [])

    # deactivate again -> 400 addon_not_active; without an active activation the add-on can go
    expect_api_error(
        wire,
        lambda: sandbox.subscriptions.deactivate_addon(sub_id, addon["id"]),
        status=400,
        code="addon_not_active",
        type="billing_error",
    )
    delete_addon(sandbox, wire, addon["id"])

    # webhooks: addon.activated with proratedPrice 322600 (rate scale), addon.deactivated
    events = deliveries(receiver, sub_id, {"addon.activated": 1, "addon.deactivated": 1})
    ref = {"subscriptionId": sub_id, "customerId": customer.external_id, "addon": {"id": addon["id"], "name": addon["name"]}}
    assert events["addon.activated"] == [ref | {"featureCode": sso.code, "proratedPrice": 322600, "currency": "usd"}]
    assert events["addon.deactivated"] == [ref | {"featureCode": sso.code}]
