"""Pause and resume through commet-sdk 9.7.0 (commet-version 2026-08-27; lifecycle.md §6, §10, §11,
§12 scenario 5, whose last step, the reactivation, follows payments.md §6).

The unmarked tests do not move the clock. They leave nothing scheduled behind (a later clock run
would execute it): the subscriptions they pause end canceled. The ``clock`` test reproduces
scenario 5 to the day: the shared clock only moves forward and may be past the spec's 2026-09-01,
so it starts at the first 1st of a 30-day month (Apr, Jun, Sep, Nov), 00:00 UTC, after the clock's
time; the spec's Sep 21 / Sep 28 / Oct 8 / Oct 22 / Oct 25 / Oct 30 are start + 20 d, + 27 d, the
shifted period end (+ 37 d), + 14 d after it, + 3 d and + 8 d after that.

Wire mapping: see lifecycle.py. P9 always sends ``durationDays`` (null = indefinite), no body for
resume and revoke_pause; @commet/node has no pause methods at all, and a client pinned to an older
version gets 404 endpoint_not_available.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from commet import CommetAPIError
from commet.types import (
    ReactivatedSubscription,
    SubscriptionPauseVariant1,
    SubscriptionPauseVariant2,
    SubscriptionResume,
)

from catalog import INCLUDED_SEATS, MONTHLY_PRICE, assert_subscription_wire, seat_plan
from invoicing import INVOICE_ID, assert_invoice_wire, get_invoice, plan_base_line, seat_advance_line
from lifecycle import (
    INVALID_STATUS,
    NOT_ACTIVE,
    advance_to,
    clock_now,
    create_addon,
    deliveries,
    first_of_month_after,
    get_subscription,
    invoice_ids,
    new_feature,
    period_days,
    plain_plan,
    same_items,
    subscribe_plain,
    subscribe_with_seats,
    versioned_client,
)
from support import (
    DAY,
    ERROR_KEYS,
    add_months,
    days_remaining,
    expect_api_error,
    expect_validation_error,
    instant,
    request_line,
    shift,
    unique,
)
from test_webhooks import create_endpoint, receiver  # noqa: F401 - receiver is a fixture

ALREADY_SCHEDULED = {"status": 409, "code": "already_scheduled", "type": "conflict_error"}
PAUSE_EVENTS = [
    "subscription.pause_scheduled",
    "subscription.pause_updated",
    "subscription.pause_revoked",
    "subscription.paused",
    "subscription.resumed",
    "subscription.reactivated",
]


def assert_sdk_subscription(result: Any, body: dict[str, Any]) -> None:
    """The SDK's Subscription carries the wire's status and pause (the variant picked by status)."""
    assert result.id == body["id"]
    assert result.status == body["status"]
    pause = body["pause"]
    if pause is None:
        assert result.pause is None
        return
    variant = SubscriptionPauseVariant1 if pause["status"] == "scheduled" else SubscriptionPauseVariant2
    assert isinstance(result.pause, variant), type(result.pause)
    assert (result.pause.status, result.pause.mode, result.pause.requested_at) == (
        pause["status"],
        pause["mode"],
        pause["requestedAt"],
    )
    assert (result.pause.effective_at, result.pause.resume_at) == (pause["effectiveAt"], pause["resumeAt"])


def pause(sdk, wire, sub_id: str, mode: str, duration_days: int | None) -> dict[str, Any]:
    result = sdk.subscriptions.pause(sub_id, mode=mode, duration_days=duration_days)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/pause"
    assert wire.last.request_body == {"mode": mode, "durationDays": duration_days}
    assert wire.last.status == 200, wire.last.body
    assert_sdk_subscription(result, wire.last.body)
    return wire.last.body


def update_pause(sdk, wire, sub_id: str, duration_days: int | None) -> dict[str, Any]:
    result = sdk.subscriptions.update_pause(sub_id, duration_days=duration_days)
    assert request_line(wire.last) == f"PATCH /api/v1/subscriptions/{sub_id}/pause"
    assert wire.last.request_body == {"durationDays": duration_days}
    assert wire.last.status == 200, wire.last.body
    assert_sdk_subscription(result, wire.last.body)
    return wire.last.body


def revoke_pause(sdk, wire, sub_id: str) -> dict[str, Any]:
    result = sdk.subscriptions.revoke_pause(sub_id)
    assert request_line(wire.last) == f"DELETE /api/v1/subscriptions/{sub_id}/pause"
    assert wire.last.request_body is None
    assert wire.last.status == 200, wire.last.body
    assert_sdk_subscription(result, wire.last.body)
    return wire.last.body


def resume(sdk, wire, sub_id: str) -> dict[str, Any]:
    result = sdk.subscriptions.resume(sub_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/resume"
    assert wire.last.request_body is None, "P9 sends no body"
    assert wire.last.status == 200, wire.last.body
    body = wire.last.body
    assert isinstance(result, SubscriptionResume)
    assert (result.subscription_id, result.invoice_id, result.status, result.object) == (
        body["subscriptionId"],
        body["invoiceId"],
        body["status"],
        body["object"],
    )
    return body


def resume_wire(sub_id: str, invoice_id: str | None) -> dict[str, Any]:
    return {
        "subscriptionId": sub_id,
        "invoiceId": invoice_id,
        "status": "succeeded",
        "object": "subscription_resume",
        "livemode": False,
    }


def pause_wire(status: str, mode: str, requested: str, effective: str, resume_at: str | None) -> dict[str, Any]:
    return {"status": status, "mode": mode, "requestedAt": requested, "effectiveAt": effective, "resumeAt": resume_at}


# ---------------------------------------------------------------------------------------------
# Without the clock
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2026-07-31", "2026-07-11"])
def test_pause_endpoints_need_2026_08_27(sandbox, wire, version):
    plan = plain_plan(sandbox, "Pro", MONTHLY_PRICE)
    _, sub = subscribe_plain(sandbox, wire, plan, "pause-version")
    sub_id = sub["id"]
    with versioned_client(wire, version) as old:
        calls = [
            (lambda: old.subscriptions.pause(sub_id, mode="immediate", duration_days=None), "POST", "pause"),
            (lambda: old.subscriptions.update_pause(sub_id, duration_days=5), "PATCH", "pause"),
            (lambda: old.subscriptions.revoke_pause(sub_id), "DELETE", "pause"),
            (lambda: old.subscriptions.resume(sub_id), "POST", "resume"),
        ]
        for call, method, path in calls:
            with pytest.raises(CommetAPIError) as caught:
                call()
            error = caught.value
            assert (error.status_code, error.code, error.type) == (404, "endpoint_not_available", "not_found_error"), error
            exchange = wire.last
            assert request_line(exchange) == f"{method} /api/v1/subscriptions/{sub_id}/{path}"
            assert exchange.request_headers["commet-version"] == version
            assert exchange.status == 404
            body = exchange.body
            if version == "2026-07-11":  # legacy envelope
                assert set(body) == {"success", "error"} and body["success"] is False, body
            else:
                assert set(body) == {"error"}, body
            assert set(body["error"]) == ERROR_KEYS
            assert body["error"]["code"] == "endpoint_not_available"
            assert body["error"]["doc_url"].endswith(f"/{version}/errors/endpoint_not_available.md"), body["error"]
    assert get_subscription(sandbox, wire, sub_id) == sub, "nothing changed"


def test_pause_edits_and_refusals(sandbox, wire):
    """A scheduled pause updated and revoked, an active one updated and resumed (the preserved days
    remain, nothing billed); every refusal of lifecycle.md §6. Ends canceled."""
    sp = seat_plan(sandbox)
    sso = new_feature(sandbox, "boolean", "sso")
    addon = create_addon(sandbox, wire, name=unique("SSO"), base_price=5000, feature_id=sso.id, consumption_model="boolean")
    customer, sub = subscribe_with_seats(sandbox, wire, sp, 6, "pause-edits")
    sub_id = sub["id"]
    s0, e0 = assert_subscription_wire(sub, "full", customer=customer, seat_plan=sp, seats=6)
    [initial] = invoice_ids(sandbox, wire, sub_id)

    # malformed
    expect_validation_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="period_end", duration_days=0), "durationDays")
    expect_validation_error(
        wire, lambda: sandbox.subscriptions.pause(sub_id, mode="period_end", duration_days=3651), "durationDays"
    )
    expect_validation_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="whenever", duration_days=None), "mode")
    # nothing to resume, revoke or update yet
    expect_api_error(wire, lambda: sandbox.subscriptions.resume(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.revoke_pause(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.update_pause(sub_id, duration_days=5), **INVALID_STATUS)
    # a scheduled cancellation blocks a pause
    sandbox.subscriptions.cancel(sub_id)
    assert wire.last.body["cancelAtPeriodEnd"] is True
    expect_api_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="period_end", duration_days=14), **INVALID_STATUS)
    sandbox.subscriptions.uncancel(sub_id)
    assert wire.last.body["cancelAtPeriodEnd"] is False

    # ---- Scheduled for the period end, 14 days -------------------------------------------------------
    t0 = clock_now(sandbox)
    scheduled = pause(sandbox, wire, sub_id, "period_end", 14)
    t1 = clock_now(sandbox)
    requested = scheduled["pause"]["requestedAt"]
    assert instant(t0) <= instant(requested) <= instant(t1), (t0, requested, t1)
    expected_pause = pause_wire("scheduled", "period_end", requested, e0, shift(e0, 14 * DAY))
    assert_subscription_wire(
        scheduled,
        "full",
        customer=customer,
        seat_plan=sp,
        seats=6,
        now=requested,
        pause=expected_pause,
        nextBillingDate=shift(e0, 14 * DAY),
        updatedAt=requested,
    )
    assert get_subscription(sandbox, wire, sub_id) == scheduled

    # while scheduled: no second pause, nothing to resume, no cancellation
    expect_api_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="immediate", duration_days=None), **ALREADY_SCHEDULED)
    expect_api_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="period_end", duration_days=14), **ALREADY_SCHEDULED)
    expect_api_error(wire, lambda: sandbox.subscriptions.resume(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.cancel(sub_id), **INVALID_STATUS)

    # update: longer, indefinite (resumeAt and nextBillingDate null), refused when not 1–3650
    longer = update_pause(sandbox, wire, sub_id, 30)
    assert longer["pause"] == expected_pause | {"resumeAt": shift(e0, 30 * DAY)}
    assert (longer["status"], longer["nextBillingDate"]) == ("active", shift(e0, 30 * DAY))
    indefinite = update_pause(sandbox, wire, sub_id, None)
    assert indefinite["pause"] == expected_pause | {"resumeAt": None}
    assert indefinite["nextBillingDate"] is None
    expect_validation_error(wire, lambda: sandbox.subscriptions.update_pause(sub_id, duration_days=0), "durationDays")

    # revoke: back to an ordinary active subscription; nothing left to revoke or update
    revoked = revoke_pause(sandbox, wire, sub_id)
    assert_subscription_wire(
        revoked, "full", customer=customer, seat_plan=sp, seats=6, now=revoked["updatedAt"], updatedAt=revoked["updatedAt"]
    )
    expect_api_error(wire, lambda: sandbox.subscriptions.revoke_pause(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.update_pause(sub_id, duration_days=5), **INVALID_STATUS)

    # ---- Paused now, for 5 days ------------------------------------------------------------------------
    t0 = clock_now(sandbox)
    paused = pause(sandbox, wire, sub_id, "immediate", 5)
    t1 = clock_now(sandbox)
    t = paused["pause"]["effectiveAt"]
    assert instant(t0) <= instant(t) <= instant(t1), (t0, t, t1)
    active_pause = pause_wire("active", "immediate", t, t, shift(t, 5 * DAY))
    # nextBillingDate = resumeAt + the preserved E − t = E + 5 days
    assert_subscription_wire(
        paused,
        "full",
        customer=customer,
        seat_plan=sp,
        seats=6,
        status="paused",
        currentPeriod=None,
        pause=active_pause,
        nextBillingDate=shift(e0, 5 * DAY),
        updatedAt=t,
    )
    # update an active pause: resumeAt from effectiveAt
    longer = update_pause(sandbox, wire, sub_id, 10)
    assert longer["pause"] == active_pause | {"resumeAt": shift(t, 10 * DAY)}
    assert (longer["status"], longer["currentPeriod"], longer["nextBillingDate"]) == ("paused", None, shift(e0, 10 * DAY))

    # while paused: an active pause is resumed, not revoked; no second pause; seats kept and
    # readable, seat writes and add-on activation refused; no plan change, no reactivation
    expect_api_error(wire, lambda: sandbox.subscriptions.revoke_pause(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="immediate", duration_days=None), **ALREADY_SCHEDULED)
    assert sandbox.seats.get_balance(customer_id=customer.id, feature_code=sp.feature.code).current == 6
    expect_api_error(
        wire, lambda: sandbox.seats.add(customer_id=customer.id, feature_code=sp.feature.code, count=1), **NOT_ACTIVE
    )
    expect_api_error(wire, lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=addon["id"]), **NOT_ACTIVE)
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)
    assert sandbox.subscriptions.get_active(customer_id=customer.id).id == sub_id, "still the live subscription"

    # resume: no charge; the period shifted by the paused time, so the preserved days remain
    assert resume(sandbox, wire, sub_id) == resume_wire(sub_id, None)
    back = get_subscription(sandbox, wire, sub_id)
    start, end = back["currentPeriod"]["start"], back["currentPeriod"]["end"]
    delta = instant(start) - instant(s0)
    assert instant(end) - instant(e0) == delta, (s0, e0, start, end)
    assert timedelta(0) <= delta < timedelta(hours=1), delta
    assert (back["status"], back["pause"], back["nextBillingDate"]) == ("active", None, end)
    assert invoice_ids(sandbox, wire, sub_id) == [initial], "an immediate pause resumes without a charge"
    expect_api_error(wire, lambda: sandbox.subscriptions.resume(sub_id), **INVALID_STATUS)

    # paused again, then canceled: a paused subscription cancels at once
    pause(sandbox, wire, sub_id, "immediate", None)
    sandbox.subscriptions.cancel(sub_id)
    assert (wire.last.body["status"], wire.last.body["pause"]) == ("canceled", None), wire.last.body
    expect_api_error(wire, lambda: sandbox.subscriptions.resume(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.pause(sub_id, mode="immediate", duration_days=None), **INVALID_STATUS)


# ---------------------------------------------------------------------------------------------
# On the clock: scenario 5
# ---------------------------------------------------------------------------------------------


@pytest.mark.clock
def test_scenario_5_pause_resume_reactivate(sandbox, wire, receiver):
    create_endpoint(sandbox, wire, receiver, PAUSE_EVENTS)
    sp = seat_plan(sandbox)  # 9900, 5 seats included, $25 each
    feature, plan = sp.feature, sp.plan
    sso = new_feature(sandbox, "boolean", "sso")
    addon = create_addon(sandbox, wire, name=unique("SSO"), base_price=5000, feature_id=sso.id, consumption_model="boolean")

    # ---- Setup: the 1st of a 30-day month; 6 seats -> 9900 + 2500 = 12400 ----------------------------
    start = first_of_month_after(clock_now(sandbox), 30)
    advance_to(sandbox, wire, start, "")
    customer, sub = subscribe_with_seats(sandbox, wire, sp, 6, "pause-scenario")
    sub_id = sub["id"]
    s0, e0 = assert_subscription_wire(sub, "full", customer=customer, seat_plan=sp, seats=6)
    assert (s0, period_days(s0, e0)) == (start, 30)
    view = {"customer": customer, "seat_plan": sp, "seats": 6}
    seat_advance = seat_advance_line(feature.name, count=6, included=INCLUDED_SEATS)
    [initial] = invoice_ids(sandbox, wire, sub_id)
    _, body = get_invoice(sandbox, wire, initial)
    assert_invoice_wire(
        body,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="recurring",
        plan_name=plan.name,
        period_start=s0,
        period_end=e0,
        issued_at=s0,
        lines=[plan_base_line(MONTHLY_PRICE), seat_advance],
        total=12400,
    )

    # ---- Day 21: paused at once, indefinitely ------------------------------------------------------
    day21 = shift(start, 20 * DAY)
    assert advance_to(sandbox, wire, day21, sub_id) == []
    paused = pause(sandbox, wire, sub_id, "immediate", None)
    immediate = pause_wire("active", "immediate", day21, day21, None)
    assert_subscription_wire(
        paused, "full", **view, status="paused", currentPeriod=None, nextBillingDate=None, pause=immediate, updatedAt=day21
    )
    assert get_subscription(sandbox, wire, sub_id) == paused
    expect_api_error(
        wire, lambda: sandbox.seats.add(customer_id=customer.id, feature_code=feature.code, count=1), **NOT_ACTIVE
    )
    expect_api_error(wire, lambda: sandbox.subscriptions.activate_addon(sub_id, addon_id=addon["id"]), **NOT_ACTIVE)
    expect_api_error(
        wire, lambda: sandbox.subscriptions.pause(sub_id, mode="period_end", duration_days=14), **ALREADY_SCHEDULED
    )
    expect_api_error(wire, lambda: sandbox.subscriptions.revoke_pause(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)
    assert get_subscription(sandbox, wire, sub_id) == paused, "the refusals changed nothing"

    # ---- Day 28: resumed; no charge; the period shifted by the 7 paused days -------------------------
    day28 = shift(start, 27 * DAY)
    assert advance_to(sandbox, wire, day28, sub_id) == [], "nothing runs while paused indefinitely"
    assert resume(sandbox, wire, sub_id) == resume_wire(sub_id, None)
    s1, e1 = shift(s0, 7 * DAY), shift(e0, 7 * DAY)  # Sep 8 -> Oct 8
    assert days_remaining(e1, day28) == 10
    resumed = get_subscription(sandbox, wire, sub_id)
    shifted = {"currentPeriod": {"start": s1, "end": e1, "daysRemaining": 10}, "billingDayOfMonth": instant(s1).day}
    assert_subscription_wire(resumed, "full", **view, **shifted, nextBillingDate=e1, updatedAt=day28)
    assert invoice_ids(sandbox, wire, sub_id) == [initial]

    # ---- The same day: paused at the period end for 14 days ----------------------------------------
    resume_at = shift(e1, 14 * DAY)  # Oct 22
    scheduled_pause = pause_wire("scheduled", "period_end", day28, e1, resume_at)
    scheduled = pause(sandbox, wire, sub_id, "period_end", 14)
    assert_subscription_wire(
        scheduled, "full", **view, **shifted, nextBillingDate=resume_at, pause=scheduled_pause, updatedAt=day28
    )
    # updated (30 days, then 14 again), revoked, scheduled again
    longer = update_pause(sandbox, wire, sub_id, 30)
    assert longer["pause"] == scheduled_pause | {"resumeAt": shift(e1, 30 * DAY)}
    assert longer["nextBillingDate"] == shift(e1, 30 * DAY)
    assert update_pause(sandbox, wire, sub_id, 14) == scheduled
    assert revoke_pause(sandbox, wire, sub_id) == resumed
    expect_api_error(wire, lambda: sandbox.subscriptions.revoke_pause(sub_id), **INVALID_STATUS)
    assert pause(sandbox, wire, sub_id, "period_end", 14) == scheduled
    # while scheduled: no second pause, nothing to resume, no cancellation
    expect_api_error(
        wire, lambda: sandbox.subscriptions.pause(sub_id, mode="immediate", duration_days=None), **ALREADY_SCHEDULED
    )
    expect_api_error(wire, lambda: sandbox.subscriptions.resume(sub_id), **INVALID_STATUS)
    expect_api_error(wire, lambda: sandbox.subscriptions.cancel(sub_id, immediate=True), **INVALID_STATUS)
    assert get_subscription(sandbox, wire, sub_id) == scheduled

    # ---- The period end: paused, no renewal, no invoice -----------------------------------------------
    [item] = advance_to(sandbox, wire, e1, sub_id)
    assert (item["kind"], item["status"], item["outcome"], item["dueAt"]) == ("billing_cycle", "completed", "paused", e1), item
    assert (item["invoiceId"], item["invoiceNumber"], item["error"]) == (None, None, None), item
    at_rest = get_subscription(sandbox, wire, sub_id)
    assert_subscription_wire(
        at_rest,
        "full",
        **view,
        status="paused",
        currentPeriod=None,
        billingDayOfMonth=instant(s1).day,
        nextBillingDate=resume_at,
        pause=scheduled_pause | {"status": "active"},
        updatedAt=e1,
    )
    assert invoice_ids(sandbox, wire, sub_id) == [initial]

    # ---- resumeAt: resumed automatically; a resume invoice 9900 + 2500; a new period from it ---------
    [item] = advance_to(sandbox, wire, resume_at, sub_id)
    assert (item["kind"], item["status"], item["outcome"], item["dueAt"]) == (
        "billing_cycle",
        "completed",
        "resumed",
        resume_at,
    ), item
    resume_invoice = item["invoiceId"]
    assert INVOICE_ID.match(resume_invoice or ""), item
    assert invoice_ids(sandbox, wire, sub_id) == [resume_invoice, initial]
    e2 = add_months(resume_at, 1)  # Nov 22
    _, body = get_invoice(sandbox, wire, resume_invoice)
    assert_invoice_wire(
        body,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="resume",
        plan_name=plan.name,
        period_start=resume_at,
        period_end=e2,
        issued_at=resume_at,
        lines=[plan_base_line(MONTHLY_PRICE), seat_advance],
        total=12400,
    )
    assert body["invoiceNumber"] == item["invoiceNumber"]
    back = get_subscription(sandbox, wire, sub_id)
    assert_subscription_wire(
        back,
        "full",
        **view,
        currentPeriod={"start": resume_at, "end": e2, "daysRemaining": period_days(resume_at, e2)},
        billingDayOfMonth=instant(resume_at).day,
        nextBillingDate=e2,
        updatedAt=resume_at,
    )

    # ---- 3 days later canceled at once; 5 days after that reactivated -----------------------------------
    day25 = shift(resume_at, 3 * DAY)  # Oct 25
    assert advance_to(sandbox, wire, day25, sub_id) == []
    sandbox.subscriptions.cancel(sub_id, immediate=True)
    assert wire.last.body["status"] == "canceled", wire.last.body
    day30 = shift(resume_at, 8 * DAY)  # Oct 30
    assert advance_to(sandbox, wire, day30, sub_id) == []
    result = sandbox.subscriptions.reactivate(sub_id)
    assert request_line(wire.last) == f"POST /api/v1/subscriptions/{sub_id}/reactivate"
    assert wire.last.request_body is None, "P9 sends no body without offer_id"
    assert wire.last.status == 200, wire.last.body
    reactivation = wire.last.body
    reactivation_invoice = reactivation.get("invoiceId")
    assert INVOICE_ID.match(reactivation_invoice or ""), reactivation
    assert reactivation == {
        "subscriptionId": sub_id,
        "invoiceId": reactivation_invoice,
        "status": "succeeded",
        "object": "subscription_reactivation",
        "livemode": False,
    }
    assert isinstance(result, ReactivatedSubscription)
    assert (result.subscription_id, result.invoice_id, result.status) == (sub_id, reactivation_invoice, "succeeded")
    assert result.offer_application is None

    e3 = add_months(day30, 1)  # Nov 30
    assert invoice_ids(sandbox, wire, sub_id) == [reactivation_invoice, resume_invoice, initial]
    _, reactivation_body = get_invoice(sandbox, wire, reactivation_invoice)
    assert_invoice_wire(
        reactivation_body,
        customer=customer,
        subscription_id=sub_id,
        invoice_type="reactivation",
        plan_name=plan.name,
        period_start=day30,
        period_end=e3,
        issued_at=day30,
        lines=[plan_base_line(MONTHLY_PRICE), seat_advance],
        total=12400,
    )
    active_again = get_subscription(sandbox, wire, sub_id)
    assert_subscription_wire(
        active_again,
        "full",
        **view,
        currentPeriod={"start": day30, "end": e3, "daysRemaining": period_days(day30, e3)},
        billingDayOfMonth=instant(day30).day,
        nextBillingDate=e3,
        updatedAt=day30,
    )
    assert (active_again["startDate"], active_again["createdAt"]) == (sub["startDate"], sub["createdAt"])
    expect_api_error(wire, lambda: sandbox.subscriptions.reactivate(sub_id), **INVALID_STATUS)

    # ---- Webhooks (lifecycle.md §11, payments.md §12) --------------------------------------------------
    events = deliveries(
        receiver,
        sub_id,
        {
            "subscription.paused": 2,
            "subscription.resumed": 2,
            "subscription.pause_scheduled": 2,
            "subscription.pause_updated": 2,
            "subscription.pause_revoked": 1,
            "subscription.reactivated": 1,
        },
    )
    ids = {"subscriptionId": sub_id, "customerId": customer.external_id}
    assert same_items(
        events["subscription.paused"],
        [
            ids | {"status": "paused", "mode": "immediate", "effectiveAt": day21, "resumeAt": None},
            ids | {"status": "paused", "mode": "period_end", "effectiveAt": e1, "resumeAt": resume_at},
        ],
    ), events["subscription.paused"]
    assert same_items(
        events["subscription.resumed"],
        [
            ids | {"status": "active", "mode": "immediate", "resumedAt": day28, "invoiceId": None},
            ids | {"status": "active", "mode": "period_end", "resumedAt": resume_at, "invoiceId": resume_invoice},
        ],
    ), events["subscription.resumed"]
    scheduled_event = ids | {"status": "active", "mode": "period_end", "effectiveAt": e1, "resumeAt": resume_at}
    assert events["subscription.pause_scheduled"] == [scheduled_event, scheduled_event]
    assert same_items(
        events["subscription.pause_updated"],
        [
            ids | {"status": "active", "effectiveAt": e1, "resumeAt": shift(e1, 30 * DAY)},
            ids | {"status": "active", "effectiveAt": e1, "resumeAt": resume_at},
        ],
    ), events["subscription.pause_updated"]
    assert events["subscription.pause_revoked"] == [ids | {"status": "active"}]
    assert events["subscription.reactivated"] == [
        ids
        | {
            "status": "active",
            "currentPeriodStart": day30,
            "currentPeriodEnd": e3,
            "name": plan.name,
            "invoiceId": reactivation_invoice,
            "invoiceNumber": reactivation_body["invoiceNumber"],
            "invoiceTotal": 12400,
            "invoiceCurrency": "usd",
            "provider": None,
        }
    ]
