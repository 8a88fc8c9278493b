"""Plan grants through commet-sdk 9.7.0 (`customers.create_plan_grant`, `list_plan_grants`,
`update_plan_grant`, `revoke_plan_grant`): the grant as the SDK parses it and on the wire, the
subscription's `planGrant` and `baseAccess` while it runs, and the refusals."""

from __future__ import annotations

import re

from catalog import new_customer
from support import expect_api_error, expect_validation_error, request_line, unique

GRANT_ID = re.compile(r"grt_[0-9A-HJKMNP-TV-Z]{26}")


def grouped_plans(sandbox):
    """A group holding `basic` (3 editors) below `plus` (10 editors and a boolean feature)."""
    editors = sandbox.features.create(name=unique("Editors"), code=unique("ed").replace("-", ""), type="seats")
    sso = sandbox.features.create(name=unique("SSO"), code=unique("sso").replace("-", ""), type="boolean")
    group = sandbox.plan_groups.create(name=unique("Tiers"))
    plans = []
    for name, included, with_sso in [("Basic", 3, False), ("Plus", 10, True)]:
        plan = sandbox.plans.create(name=unique(name), code=unique(name.lower()))
        sandbox.plans.add_price(plan.id, billing_interval="monthly", price=1000)
        sandbox.plans.add_feature(plan.id, feature_id=editors.id, included_amount=included)
        if with_sso:
            sandbox.plans.add_feature(plan.id, feature_id=sso.id)
        sandbox.plan_groups.add_plan(group.id, plan_id=plan.id)
        plans.append(plan)
    return plans, sso


def test_a_grant_is_made_shown_changed_and_revoked(sandbox, wire):
    (basic, plus), sso = grouped_plans(sandbox)
    customer = new_customer(sandbox, "grants")
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=basic.id)
    grant = sandbox.customers.create_plan_grant(
        customer.id, subscription_id=sub.id, plan_id=plus.id, reason="Sales trial", duration="cycles", duration_cycles=1
    )
    assert request_line(wire.last) == f"POST /api/v1/customers/{customer.id}/plan-grants"
    assert wire.last.request_body == {
        "subscriptionId": sub.id,
        "planId": plus.id,
        "reason": "Sales trial",
        "duration": "cycles",
        "durationCycles": 1,
    }
    body = wire.last.body
    assert GRANT_ID.fullmatch(body["id"])
    assert (body["status"], body["basePlanId"], body["planId"], body["source"], body["object"]) == (
        "active",
        basic.id,
        plus.id,
        "api",
        "plan_grant",
    )
    assert body["expiresAt"] == wire.last.body["expiresAt"] and body["expiresAt"] is not None
    assert [e["type"] for e in body["events"]] == ["created"]
    assert grant.id == body["id"]

    sandbox.subscriptions.get(sub.id)
    detail = wire.last.body
    assert detail["planGrant"] == {"id": grant.id, "plan": {"id": plus.id, "name": plus.name}, "expiresAt": body["expiresAt"]}
    by_code = {f["code"]: f for f in detail["features"]}
    assert by_code[sso.code]["baseAccess"] == {"enabled": False}

    listed = sandbox.customers.list_plan_grants(customer.id)
    assert request_line(wire.last) == f"GET /api/v1/customers/{customer.id}/plan-grants"
    assert [g.id for g in listed.data] == [grant.id]
    updated = sandbox.customers.update_plan_grant(customer.id, grant.id, reason="Extended", duration="until_revoked")
    assert request_line(wire.last) == f"PATCH /api/v1/customers/{customer.id}/plan-grants/{grant.id}"
    assert (wire.last.body["duration"], wire.last.body["expiresAt"]) == ("until_revoked", None)
    assert updated.reason == "Extended"
    revoked = sandbox.customers.revoke_plan_grant(customer.id, grant.id, reason="Done")
    assert request_line(wire.last) == f"POST /api/v1/customers/{customer.id}/plan-grants/{grant.id}/revoke"
    assert wire.last.body["status"] == "revoked"
    assert [e["type"] for e in wire.last.body["events"]] == ["created", "updated", "revoked"]
    assert revoked.revoked_at is not None
    sandbox.subscriptions.get(sub.id)
    assert "planGrant" not in wire.last.body


def test_grants_are_refused_where_they_do_not_apply(sandbox, wire):
    (basic, plus), _ = grouped_plans(sandbox)
    customer = new_customer(sandbox, "grants-refused")
    sub = sandbox.subscriptions.create(customer_id=customer.id, plan_id=plus.id)
    expect_validation_error(
        wire,
        lambda: sandbox.customers.create_plan_grant(
            customer.id, subscription_id=sub.id, plan_id=basic.id, reason="r", duration="until_revoked"
        ),
        "planId",
    )
    expect_validation_error(
        wire,
        lambda: sandbox.customers.create_plan_grant(
            customer.id, subscription_id=sub.id, plan_id=basic.id, reason="r", duration="cycles"
        ),
        "durationCycles",
    )
    expect_api_error(
        wire,
        lambda: sandbox.customers.revoke_plan_grant(customer.id, "grt_01JAAAAAAAAAAAAAAAAAAAAAAA", reason="x"),
        status=404,
        code="not_found",
        type="not_found_error",
    )
    assert sandbox.customers.list_plan_grants(customer.id).data == []
