"""Customer credits through commet-sdk 9.7.0 (`customers.create_credit`, `list_credits`,
`revoke_credit`): the grant as the SDK parses it and on the wire, a renewal-free lifecycle
(granted, listed newest first, revoked once), and the refusals."""

from __future__ import annotations

import re

from catalog import new_customer
from support import expect_api_error, expect_validation_error, request_line, unique

CREDIT_ID = re.compile(r"crd_[0-9A-HJKMNP-TV-Z]{26}")


def test_a_credit_is_granted_listed_and_revoked_once(sandbox, wire):
    customer = new_customer(sandbox, "credits")
    reason = unique("Outage")
    created = sandbox.customers.create_credit(customer.external_id, amount=2500, currency="usd", reason=reason)
    assert request_line(wire.last) == f"POST /api/v1/customers/{customer.external_id}/credits"
    assert wire.last.request_body == {"amount": 2500, "currency": "usd", "reason": reason}
    body = wire.last.body
    assert CREDIT_ID.fullmatch(body["id"]), body
    assert body == {
        "id": created.id,
        "amount": 2500,
        "appliedAmount": 0,
        "reversedAmount": 0,
        "revokedAmount": 0,
        "remainingAmount": 2500,
        "currency": "usd",
        "reason": reason,
        "source": "api",
        "expiresAt": None,
        "createdAt": body["createdAt"],
        "object": "customer_credit",
        "livemode": False,
    }
    assert (created.amount, created.remaining_amount, created.source) == (2500, 2500, "api")
    later = sandbox.customers.create_credit(customer.id, amount=700, currency="eur", reason="Second")

    listed = sandbox.customers.list_credits(customer.id)
    assert listed.object == "list" and listed.has_more is False
    assert [c.id for c in listed.data] == [later.id, created.id], "newest first"
    assert [c.currency for c in listed.data] == ["eur", "usd"]

    revoked = sandbox.customers.revoke_credit(customer.id, created.id)
    assert request_line(wire.last) == f"POST /api/v1/customers/{customer.id}/credits/{created.id}/revoke"
    assert wire.last.body == {
        "id": created.id,
        "remainingAmount": 0,
        "revokedAmount": 2500,
        "currency": "usd",
        "object": "customer_credit",
        "livemode": False,
    }
    assert (revoked.remaining_amount, revoked.revoked_amount) == (0, 2500)
    again = sandbox.customers.revoke_credit(customer.id, created.id)
    assert again == revoked
    after = {c.id: c for c in sandbox.customers.list_credits(customer.id).data}
    assert (after[created.id].revoked_amount, after[created.id].remaining_amount) == (2500, 0)
    assert after[later.id].remaining_amount == 700


def test_refused_credits_grant_nothing(sandbox, wire):
    customer = new_customer(sandbox, "credits-refused")
    expect_validation_error(
        wire, lambda: sandbox.customers.create_credit(customer.id, amount=0, currency="usd", reason="x"), "amount"
    )
    expect_validation_error(
        wire, lambda: sandbox.customers.create_credit(customer.id, amount=5, currency="usd", reason=""), "reason"
    )
    expect_validation_error(
        wire,
        lambda: sandbox.customers.create_credit(
            customer.id, amount=5, currency="usd", reason="x", expires_at="2020-01-01T00:00:00.000Z"
        ),
        "expiresAt",
    )
    expect_api_error(
        wire,
        lambda: sandbox.customers.create_credit("nobody-" + unique("x"), amount=5, currency="usd", reason="x"),
        status=404,
        code="customer_not_found",
        type="not_found_error",
    )
    expect_api_error(
        wire,
        lambda: sandbox.customers.revoke_credit(customer.id, "crd_01J0000000000000000000000Z"),
        status=404,
        code="not_found",
        type="not_found_error",
        param="creditId",
    )
    assert sandbox.customers.list_credits(customer.id).data == []
