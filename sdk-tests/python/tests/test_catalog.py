"""Features and plans through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects).

Wire mapping (commet/resources/features.py, plans.py; base_url <TALLY_URL>/api/v1):
  features.list()                                   GET    /features
  features.get(code)                                GET    /features/{code}
  features.create(name=, code=, type=, description=, unit_name=)
                                                    POST   /features
  features.update(code, name=, description=, unit_name=)
                                                    PATCH  /features/{code}   (None dropped: cannot send null)
  features.delete(code)                             DELETE /features/{code}
  plans.list(include_private=)                      GET    /plans?includePrivate=true|false
  plans.get(id_or_code)                             GET    /plans/{id}
  plans.create(name=, code=, description=, consumption_model=, is_public=, is_free=,
               block_on_exhaustion=, plan_group_id=, metadata=)
                                                    POST   /plans
  plans.update(id, name=, description=, metadata=, is_public=)
                                                    PATCH  /plans/{id}
  plans.delete(id)                                  DELETE /plans/{id}
  plans.set_visibility(id, is_public=)              PUT    /plans/{id}/visibility  -> Plan
  plans.add_feature(id, feature_id=, enabled=, included_amount=, unlimited=, overage=, ...)
                                                    POST   /plans/{id}/features
  plans.update_feature(id, feature_id, ...)         PATCH  /plans/{id}/features/{feature_id}
  plans.remove_feature(id, feature_id)              DELETE /plans/{id}/features/{feature_id}
  plans.add_price(id, billing_interval=, price=, ...)
                                                    POST   /plans/{id}/prices
  plans.delete_price(id, price_id)                  DELETE /plans/{id}/prices/{price_id}
  plans.set_default_price(id, price_id)             PUT    /plans/{id}/prices/{price_id}/default  (no body) -> PlanPrice
The SDK snake-cases every response key and keeps only declared fields, so shapes are checked on
the raw wire (``wire.last.body``) and values on the dataclasses.
"""

from __future__ import annotations

from typing import Any

from commet.types import AddPlanFeatureParamsOverage, UpdatePlanFeatureParamsOverage

from support import (
    FEATURE_ID,
    PLAN_ID,
    PRICE_ID,
    assert_direct_list,
    expect_api_error,
    expect_validation_error,
    feature_code,
    instant,
    request_line,
    unique,
)

FEATURE_KEYS = {"id", "name", "code", "type", "description", "unitName", "createdAt", "updatedAt", "object", "livemode"}
PLAN_KEYS = {
    "id",
    "name",
    "code",
    "description",
    "consumptionModel",
    "isPublic",
    "isDefault",
    "isFree",
    "blockOnExhaustion",
    "sortOrder",
    "planGroupId",
    "metadata",
    "createdAt",
    "updatedAt",
    "features",
    "prices",
    "exchangeRates",
    "object",
    "livemode",
}
PLAN_PRICE_KEYS = {
    "id",
    "planId",
    "billingInterval",
    "price",
    "isDefault",
    "trialDays",
    "includedBalance",
    "includedCredits",
    "offerId",
    "inheritsFromPriceId",
    "metadata",
    "marketPrices",
    "createdAt",
    "updatedAt",
    "object",
    "livemode",
}


def assert_feature_wire(body: Any, **expected: Any) -> None:
    assert isinstance(body, dict) and set(body) == FEATURE_KEYS, body
    assert FEATURE_ID.match(body["id"]), body["id"]
    assert instant(body["updatedAt"]) >= instant(body["createdAt"])
    assert body["object"] == "feature"
    for key, value in expected.items():
        assert body[key] == value, f"{key}: {body[key]!r} != {value!r}"


def assert_plan_wire(body: Any, **expected: Any) -> None:
    assert isinstance(body, dict) and set(body) == PLAN_KEYS, sorted(body)
    assert "success" not in body
    assert PLAN_ID.match(body["id"]), body["id"]
    assert instant(body["updatedAt"]) >= instant(body["createdAt"])
    assert body["object"] == "plan"
    assert body["livemode"] is False
    assert body["exchangeRates"] == []
    prices = expected.pop("prices", None)
    if prices is not None:
        key = lambda p: p["billingInterval"]  # noqa: E731
        assert sorted(body["prices"], key=key) == sorted(prices, key=key), body["prices"]
    for key, value in expected.items():
        assert body[key] == value, f"{key}: {body[key]!r} != {value!r}"


def assert_plan_price_wire(body: Any, *, fresh: bool = True, **expected: Any) -> None:
    assert isinstance(body, dict) and set(body) == PLAN_PRICE_KEYS, sorted(body)
    assert PRICE_ID.match(body["id"]), body["id"]
    if fresh:
        assert body["createdAt"] == body["updatedAt"], "a new price has updatedAt == createdAt"
    assert instant(body["updatedAt"]) >= instant(body["createdAt"])
    defaults = {
        "trialDays": 0,
        "includedBalance": None,
        "includedCredits": None,
        "offerId": None,
        "inheritsFromPriceId": None,
        "metadata": {},
        "marketPrices": [],
        "object": "plan_price",
        "livemode": False,
    }
    for key, value in (defaults | expected).items():
        assert body[key] == value, f"{key}: {body[key]!r} != {value!r}"


def price_entry(price_id: str, billing_interval: str, price: int, is_default: bool) -> dict[str, Any]:
    """A direct plan ``prices[]`` entry: with id (catalog.md §4.1)."""
    return {
        "id": price_id,
        "billingInterval": billing_interval,
        "price": price,
        "isDefault": is_default,
        "trialDays": 0,
        "includedBalance": None,
        "includedCredits": None,
        "offerId": None,
        "inheritsFromPriceId": None,
        "metadata": {},
        "marketPrices": [],
        "regionalPrices": [],
    }


def seats_entry(feature, included: int, unit_price: int) -> dict[str, Any]:
    return {
        "code": feature.code,
        "name": feature.name,
        "type": "seats",
        "unitName": "seat",
        "enabled": True,
        "includedAmount": included,
        "unlimited": False,
        "overage": {"enabled": True, "model": "per_unit", "unitPrice": unit_price},
        "regionalPrices": [],
    }


# ---------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------


def test_feature_lifecycle(sandbox, wire):
    code = feature_code("seat", "_")
    name = unique("Editor seats")

    created = sandbox.features.create(name=name, code=code, type="seats", unit_name="seat")
    assert request_line(wire.last) == "POST /api/v1/features"
    assert wire.last.status == 200
    assert wire.last.request_body == {"name": name, "code": code, "type": "seats", "unitName": "seat"}
    assert_feature_wire(wire.last.body, name=name, code=code, type="seats", description=None, unitName="seat", livemode=False)
    assert wire.last.body["createdAt"] == wire.last.body["updatedAt"]
    assert created.code == code and created.type == "seats" and created.unit_name == "seat"
    assert created.livemode is False

    assert sandbox.features.get(code) == created
    assert request_line(wire.last) == f"GET /api/v1/features/{code}"

    listed = sandbox.features.list()
    assert_direct_list(wire.last.body)
    assert listed.object == "list"
    if listed.has_more:
        # The suites share one sandbox organization, whose catalog can outgrow a page: the
        # SDK then gets the oldest 100 (it sends no cursor), and the new feature is past them.
        assert len(listed.data) == 100 and listed.next_cursor
        assert created.code not in [f.code for f in listed.data]
    else:
        assert [f for f in listed.data if f.code == code] == [created]

    renamed = unique("Seats renamed")
    updated = sandbox.features.update(code, name=renamed, description="Editors of the workspace")
    assert request_line(wire.last) == f"PATCH /api/v1/features/{code}"
    assert wire.last.request_body == {"name": renamed, "description": "Editors of the workspace"}
    assert_feature_wire(
        wire.last.body,
        id=created.id,
        name=renamed,
        code=code,
        type="seats",
        description="Editors of the workspace",
        unitName="seat",
        createdAt=created.created_at,
    )
    assert sandbox.features.get(code) == updated

    # a fresh, unattached feature can be deleted
    other = sandbox.features.create(name=unique("Single sign-on"), code=feature_code("sso"), type="boolean")
    assert_feature_wire(wire.last.body, type="boolean", description=None, unitName=None)
    deleted = sandbox.features.delete(other.code)
    assert request_line(wire.last) == f"DELETE /api/v1/features/{other.code}"
    assert wire.last.body == {"id": other.id, "deleted": True, "object": "feature", "livemode": False}
    assert deleted.id == other.id and deleted.deleted is True and deleted.object == "feature"
    expect_api_error(wire, lambda: sandbox.features.get(other.code), status=404, code="feature_not_found", type="not_found_error")
    assert [f for f in sandbox.features.list().data if f.code == other.code] == []


def test_feature_already_exists(sandbox, wire):
    code = feature_code("seat")
    name = unique("Seats")
    sandbox.features.create(name=name, code=code, type="seats")
    expect_api_error(
        wire,
        lambda: sandbox.features.create(name=unique("Other"), code=code, type="seats"),
        status=409,
        code="feature_already_exists",
        type="conflict_error",
    )
    expect_api_error(
        wire,
        lambda: sandbox.features.create(name=name, code=feature_code("other"), type="usage"),
        status=409,
        code="feature_already_exists",
        type="conflict_error",
    )


def test_feature_validation_errors(sandbox, wire):
    expect_validation_error(
        wire, lambda: sandbox.features.create(name=unique("Bad code"), code="Bad-Code", type="seats"), "code"
    )
    code = feature_code("notype")
    # type=None is dropped by the SDK: the body has no "type"
    expect_validation_error(wire, lambda: sandbox.features.create(name=unique("No type"), code=code, type=None), "type")
    assert "type" not in wire.last.request_body
    expect_validation_error(
        wire, lambda: sandbox.features.create(name=unique("Bad type"), code=code, type="metered"), "type"
    )
    expect_api_error(wire, lambda: sandbox.features.get(code), status=404, code="feature_not_found", type="not_found_error")
    # an update needs at least one field (the SDK sends no body at all)
    feature = sandbox.features.create(name=unique("Seats"), code=code, type="seats")
    expect_validation_error(wire, lambda: sandbox.features.update(feature.code))
    assert wire.last.request_body is None


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def test_plan_lifecycle(sandbox, wire):
    feature = sandbox.features.create(
        name=unique("Editor seats"), code=feature_code("seat"), type="seats", unit_name="seat"
    )
    code = unique("pro")
    name = unique("Pro")

    plan = sandbox.plans.create(name=name, code=code, description="For growing teams", consumption_model="metered")
    assert request_line(wire.last) == "POST /api/v1/plans"
    assert_plan_wire(
        wire.last.body,
        name=name,
        code=code,
        description="For growing teams",
        consumptionModel="metered",
        isPublic=True,
        isDefault=False,
        isFree=False,
        blockOnExhaustion=None,
        sortOrder=0,
        planGroupId=None,
        metadata=None,
        features=[],
        prices=[],
    )
    assert plan.code == code and plan.is_public is True and plan.features == [] and plan.prices == []

    monthly = sandbox.plans.add_price(plan.id, billing_interval="monthly", price=9900)
    assert request_line(wire.last) == f"POST /api/v1/plans/{plan.id}/prices"
    assert wire.last.request_body == {"billingInterval": "monthly", "price": 9900}
    assert_plan_price_wire(wire.last.body, planId=plan.id, billingInterval="monthly", price=9900, isDefault=True)
    assert monthly.is_default is True and monthly.price == 9900 and monthly.object == "plan_price"

    yearly = sandbox.plans.add_price(plan.id, billing_interval="yearly", price=99000)
    assert_plan_price_wire(wire.last.body, planId=plan.id, billingInterval="yearly", price=99000, isDefault=False)

    # set default: direct answers the updated PlanPrice
    defaulted = sandbox.plans.set_default_price(plan.id, yearly.id)
    assert request_line(wire.last) == f"PUT /api/v1/plans/{plan.id}/prices/{yearly.id}/default"
    assert wire.last.request_body is None
    assert_plan_price_wire(
        wire.last.body,
        fresh=False,
        id=yearly.id,
        planId=plan.id,
        billingInterval="yearly",
        price=99000,
        isDefault=True,
        createdAt=yearly.created_at,
    )
    assert defaulted.id == yearly.id and defaulted.is_default is True

    plan_feature = sandbox.plans.add_feature(
        plan.id,
        feature_id=feature.id,
        included_amount=5,
        overage=AddPlanFeatureParamsOverage(enabled=True, unit_price=250000),
    )
    assert request_line(wire.last) == f"POST /api/v1/plans/{plan.id}/features"
    assert wire.last.request_body == {
        "featureId": feature.id,
        "includedAmount": 5,
        "overage": {"enabled": True, "unitPrice": 250000},
    }
    plan_feature_wire = {
        "planId": plan.id,
        "featureId": feature.id,
        "enabled": True,
        "includedAmount": 5,
        "unlimited": False,
        "overage": {"enabled": True, "unitPrice": 250000},
        "creditsPerUnit": None,
        "pricingMode": "fixed",
        "margin": None,
        "object": "plan_feature",
        "livemode": False,
    }
    assert wire.last.body == plan_feature_wire
    assert plan_feature.included_amount == 5 and plan_feature.overage.unit_price == 250000

    # get by id and by code: prices[] entries carry their id in the direct generation
    by_id = sandbox.plans.get(plan.id)
    by_id_wire = wire.last.body
    by_code = sandbox.plans.get(code)
    assert request_line(wire.last) == f"GET /api/v1/plans/{code}"
    assert wire.last.body == by_id_wire
    assert by_code == by_id
    assert_plan_wire(
        by_id_wire,
        id=plan.id,
        name=name,
        code=code,
        createdAt=plan.created_at,
        features=[seats_entry(feature, 5, 250000)],
        prices=[price_entry(monthly.id, "monthly", 9900, False), price_entry(yearly.id, "yearly", 99000, True)],
    )
    assert by_id.features[0].overage.model == "per_unit"
    assert {p.id for p in by_id.prices} == {monthly.id, yearly.id}

    sandbox.plans.set_default_price(plan.id, monthly.id)
    after_default = sandbox.plans.get(plan.id)
    assert_plan_wire(
        wire.last.body,
        prices=[price_entry(monthly.id, "monthly", 9900, True), price_entry(yearly.id, "yearly", 99000, False)],
    )

    # list: public plans only by default
    listed = sandbox.plans.list()
    assert request_line(wire.last) == "GET /api/v1/plans"
    assert listed.object == "list"
    assert_direct_list(wire.last.body)
    assert all(p.is_public for p in listed.data)
    if listed.has_more:
        # As for features: a shared catalog past one page gives the SDK its first 100.
        assert len(listed.data) == 100 and listed.next_cursor
    else:
        assert [p for p in listed.data if p.id == plan.id] == [after_default]

    # private: excluded unless include_private=True; set_visibility answers the Plan
    hidden = sandbox.plans.set_visibility(plan.id, is_public=False)
    assert request_line(wire.last) == f"PUT /api/v1/plans/{plan.id}/visibility"
    assert wire.last.request_body == {"isPublic": False}
    assert_plan_wire(wire.last.body, id=plan.id, isPublic=False)
    assert hidden.is_public is False
    assert [p for p in sandbox.plans.list().data if p.id == plan.id] == []
    assert [p for p in sandbox.plans.list(include_private=False).data if p.id == plan.id] == []
    with_private = sandbox.plans.list(include_private=True)
    assert request_line(wire.last) == "GET /api/v1/plans?includePrivate=true"
    assert [p.is_public for p in with_private.data if p.id == plan.id] == [False]
    assert sandbox.plans.get(code).is_public is False
    sandbox.plans.set_visibility(plan.id, is_public=True)
    assert len([p for p in sandbox.plans.list().data if p.id == plan.id]) == 1

    # update (PATCH /plans/{id})
    renamed = unique("Pro renamed")
    updated = sandbox.plans.update(plan.id, name=renamed, description="Renamed")
    assert request_line(wire.last) == f"PATCH /api/v1/plans/{plan.id}"
    assert_plan_wire(
        wire.last.body,
        id=plan.id,
        name=renamed,
        code=code,
        description="Renamed",
        isPublic=True,
        features=[seats_entry(feature, 5, 250000)],
        prices=[price_entry(monthly.id, "monthly", 9900, True), price_entry(yearly.id, "yearly", 99000, False)],
    )
    assert updated.name == renamed

    # an attached feature cannot be deleted, nor attached twice
    expect_api_error(wire, lambda: sandbox.features.delete(feature.code), status=409, code="feature_in_use", type="conflict_error")
    expect_api_error(
        wire,
        lambda: sandbox.plans.add_feature(plan.id, feature_id=feature.id, included_amount=1),
        status=409,
        code="feature_already_exists",
        type="conflict_error",
    )

    # update the plan feature (PATCH)
    changed = sandbox.plans.update_feature(
        plan.id, feature.id, included_amount=10, overage=UpdatePlanFeatureParamsOverage(unit_price=300000)
    )
    assert request_line(wire.last) == f"PATCH /api/v1/plans/{plan.id}/features/{feature.id}"
    assert wire.last.request_body == {"includedAmount": 10, "overage": {"unitPrice": 300000}}
    assert wire.last.body == plan_feature_wire | {"includedAmount": 10, "overage": {"enabled": True, "unitPrice": 300000}}
    assert changed.included_amount == 10
    sandbox.plans.get(plan.id)
    assert wire.last.body["features"] == [seats_entry(feature, 10, 300000)]

    # remove it: direct {id: featureId, removed: true, object: "plan_feature"}
    removed = sandbox.plans.remove_feature(plan.id, feature.id)
    assert request_line(wire.last) == f"DELETE /api/v1/plans/{plan.id}/features/{feature.id}"
    assert wire.last.body == {"id": feature.id, "removed": True, "object": "plan_feature", "livemode": False}
    assert removed.removed is True and removed.object == "plan_feature"
    assert sandbox.plans.get(plan.id).features == []
    sandbox.features.delete(feature.code)
    assert wire.last.body == {"id": feature.id, "deleted": True, "object": "feature", "livemode": False}

    # delete the non-default price: archived, no longer offered
    sandbox.plans.delete_price(plan.id, yearly.id)
    assert request_line(wire.last) == f"DELETE /api/v1/plans/{plan.id}/prices/{yearly.id}"
    assert wire.last.body == {"id": yearly.id, "deleted": True, "object": "plan_price", "livemode": False}
    sandbox.plans.get(plan.id)
    assert wire.last.body["prices"] == [price_entry(monthly.id, "monthly", 9900, True)]

    # delete the plan: 404 by id and by code, gone from every list
    deleted = sandbox.plans.delete(plan.id)
    assert request_line(wire.last) == f"DELETE /api/v1/plans/{plan.id}"
    assert wire.last.body == {"id": plan.id, "deleted": True, "object": "plan", "livemode": False}
    assert deleted.deleted is True
    expect_api_error(wire, lambda: sandbox.plans.get(plan.id), status=404, code="plan_not_found", type="not_found_error")
    expect_api_error(wire, lambda: sandbox.plans.get(code), status=404, code="plan_not_found", type="not_found_error")
    assert [p for p in sandbox.plans.list(include_private=True).data if p.id == plan.id] == []


def test_plan_defaults_and_private_at_creation(sandbox, wire):
    code = unique("basic")
    name = unique("Basic")
    plan = sandbox.plans.create(name=name, code=code)
    assert_plan_wire(
        wire.last.body,
        name=name,
        code=code,
        description=None,
        isPublic=True,
        isDefault=False,
        isFree=False,
        blockOnExhaustion=None,
        sortOrder=0,
        planGroupId=None,
        metadata=None,
        features=[],
        prices=[],
    )
    # catalog.md §4.1: "null ≙ metered"
    assert wire.last.body["consumptionModel"] in (None, "metered")
    assert plan.is_free is False

    hidden = sandbox.plans.create(name=unique("Hidden"), code=unique("hidden"), is_public=False)
    assert hidden.is_public is False
    assert [p for p in sandbox.plans.list().data if p.id == hidden.id] == []
    assert len([p for p in sandbox.plans.list(include_private=True).data if p.id == hidden.id]) == 1


def test_plan_and_price_conflicts_and_validation(sandbox, wire):
    code = unique("dup")
    plan = sandbox.plans.create(name=unique("Dup"), code=code)
    expect_api_error(
        wire, lambda: sandbox.plans.create(name=unique("Dup 2"), code=code), status=409, code="duplicate", type="conflict_error"
    )

    expect_validation_error(wire, lambda: sandbox.plans.add_price(plan.id, billing_interval="monthly", price=-1), "price")
    expect_validation_error(wire, lambda: sandbox.plans.add_price(plan.id, billing_interval="monthly", price=99.5), "price")
    assert wire.last.request_body == {"billingInterval": "monthly", "price": 99.5}
    # price is required (the SDK types it optional)
    expect_validation_error(wire, lambda: sandbox.plans.add_price(plan.id, billing_interval="monthly"), "price")
    expect_validation_error(
        wire, lambda: sandbox.plans.add_price(plan.id, billing_interval="fortnightly", price=100), "billingInterval"
    )
    assert sandbox.plans.get(plan.id).prices == [], "nothing was added"

    # semiannual is a valid interval from 2026-08-27
    semiannual = sandbox.plans.add_price(plan.id, billing_interval="semiannual", price=50000)
    assert semiannual.billing_interval == "semiannual"
    assert wire.last.body["billingInterval"] == "semiannual"

    sandbox.plans.add_price(plan.id, billing_interval="monthly", price=1000)
    expect_api_error(
        wire,
        lambda: sandbox.plans.add_price(plan.id, billing_interval="monthly", price=2000),
        status=409,
        code="duplicate",
        type="conflict_error",
    )

    expect_api_error(wire, lambda: sandbox.plans.get(unique("ghost")), status=404, code="plan_not_found", type="not_found_error")
    expect_api_error(
        wire,
        lambda: sandbox.plans.set_default_price(plan.id, "pp_01J0000000000000000000000Z"),
        status=404,
        code="price_not_found",
        type="not_found_error",
    )
