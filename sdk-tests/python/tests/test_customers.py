"""Customers through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects).

Wire mapping (commet/resources/customers.py; base_url <TALLY_URL>/api/v1):
  customers.create(email=, id=, external_id=, full_name=, tax_document=, address=, address_id=,
                   timezone=, metadata=)    POST  /customers        JSON body, None dropped
  customers.create_batch(customers=[...])   POST  /customers/batch  {"customers": [...]}
  customers.get(id)                         GET   /customers/{id}   f-string, unencoded
  customers.list(cursor=, limit=, external_id=)
                                            GET   /customers?externalId=&limit=&cursor=
  customers.update(id, email=, full_name=, tax_document=, external_id=, timezone=, metadata=,
                   address=)                PATCH /customers/{id}
Every body key is camel-cased recursively (metadata keys too: "plan_tier" -> "planTier") and every
response key snake-cased recursively before parsing into dataclasses.
Idempotency: POST/PUT/PATCH get ``Idempotency-Key: commet-python-retry-<uuid4>`` when retries > 0
(default 3) unless idempotency_key= is passed; GET/DELETE get none (commet/_http.py _request).
"""

from __future__ import annotations

import time

import pytest

from commet import CommetAPIError, CommetValidationError, Timezone
from commet.types import BatchCreateCustomersParamsCustomersItem

from support import (
    CUSTOMER_ID,
    CUSTOMER_KEYS,
    ERROR_KEYS,
    assert_direct_list,
    find,
    instant,
    unique,
)


def assert_customer_wire(body, **expected):
    """The raw direct-generation Customer object."""
    assert isinstance(body, dict), body
    assert set(body) == CUSTOMER_KEYS, f"Customer fields (catalog.md §2; no address): {sorted(body)}"
    assert CUSTOMER_ID.match(body["id"]), body["id"]
    instant(body["createdAt"], "createdAt")
    instant(body["updatedAt"], "updatedAt")
    assert body["object"] == "customer"
    assert body["documentType"] is None
    for key, value in expected.items():
        assert body[key] == value, f"{key}: {body[key]!r} != {value!r}"


def assert_customer(customer, **expected):
    """The SDK's Customer dataclass."""
    assert CUSTOMER_ID.match(customer.id), customer.id
    instant(customer.created_at, "created_at")
    instant(customer.updated_at, "updated_at")
    assert customer.object == "customer"
    assert customer.document_type is None
    for key, value in expected.items():
        assert getattr(customer, key) == value, f"{key}: {getattr(customer, key)!r} != {value!r}"


def test_customer_lifecycle(sandbox, wire):
    external_id = unique("cust")
    email = f"{external_id}@example.test"

    created = sandbox.customers.create(
        id=external_id,
        email=email,
        full_name="Ada Lovelace",
        tax_document="B12345678",
        timezone=Timezone.EUROPE_MADRID,
        metadata={"plan_tier": "gold", "source": "sdk-tests", "seats": 3},
        address={"line1": "1 Test St", "city": "Madrid", "postal_code": "28001", "country": "ES"},
    )
    assert wire.last.status == 200
    assert_customer_wire(
        wire.last.body,
        externalId=external_id,
        email=email,
        fullName="Ada Lovelace",
        taxDocument="B12345678",
        timezone="Europe/Madrid",
        # P9 sent the metadata keys camel-cased; Tally stores them as received.
        metadata={"planTier": "gold", "source": "sdk-tests", "seats": 3},
        livemode=False,
    )
    assert_customer(
        created,
        external_id=external_id,
        email=email,
        full_name="Ada Lovelace",
        tax_document="B12345678",
        timezone="Europe/Madrid",
        # ... and P9 snake-cases them again on the way back.
        metadata={"plan_tier": "gold", "source": "sdk-tests", "seats": 3},
        livemode=False,
    )
    assert created.created_at == created.updated_at

    # get by cus_ id and by externalId
    assert sandbox.customers.get(created.id) == created
    assert_customer_wire(wire.last.body, id=created.id)
    assert sandbox.customers.get(external_id) == created

    # list filtered by externalId
    filtered = sandbox.customers.list(external_id=external_id)
    assert filtered.object == "list"
    assert filtered.data == [created]
    assert filtered.has_more is False
    assert filtered.next_cursor is None
    assert len(assert_direct_list(wire.last.body)) == 1

    # unfiltered, paging until found; and limit is honoured
    assert find(lambda cursor: sandbox.customers.list(limit=10, cursor=cursor), lambda c: c.id == created.id) == created
    page = sandbox.customers.list(limit=1)
    assert len(page.data) == 1
    assert_direct_list(wire.last.body)

    # update fullName (PATCH /customers/{id})
    time.sleep(0.01)
    updated = sandbox.customers.update(created.id, full_name="Ada King")
    assert_customer_wire(wire.last.body, id=created.id, fullName="Ada King")
    assert_customer(
        updated,
        id=created.id,
        external_id=external_id,
        email=email,
        full_name="Ada King",
        tax_document="B12345678",
        timezone="Europe/Madrid",
        metadata={"plan_tier": "gold", "source": "sdk-tests", "seats": 3},
        livemode=False,
        created_at=created.created_at,
    )
    assert instant(updated.updated_at) > instant(created.updated_at)
    assert sandbox.customers.get(created.id) == updated

    # creating again with the same id returns the existing customer unchanged
    again = sandbox.customers.create(id=external_id, email=email, full_name="Someone Else")
    assert wire.last.status == 200
    assert again == updated
    # externalId is an alias of id
    assert sandbox.customers.create(external_id=external_id, email=email) == updated


def test_create_with_nothing_optional(sandbox, wire):
    external_id = unique("min")
    email = f"{external_id}@example.test"
    created = sandbox.customers.create(external_id=external_id, email=email)
    # null-valued keys must be present on the wire (P9 would default missing ones to None)
    assert_customer_wire(
        wire.last.body,
        externalId=external_id,
        email=email,
        fullName=None,
        taxDocument=None,
        timezone=None,
        metadata=None,
        livemode=False,
    )
    assert_customer(created, external_id=external_id, email=email, full_name=None, metadata=None)


def test_create_without_external_id_always_creates(sandbox):
    email = f"{unique('anon')}@example.test"
    first = sandbox.customers.create(email=email)
    second = sandbox.customers.create(email=email)
    assert_customer(first, external_id=None, email=email, livemode=False)
    assert_customer(second, external_id=None, email=email, livemode=False)
    assert first.id != second.id


def test_unknown_customer_is_404(sandbox):
    with pytest.raises(CommetAPIError) as caught:
        sandbox.customers.get(unique("ghost"))
    assert caught.value.status_code == 404
    assert caught.value.code == "customer_not_found"
    assert caught.value.type == "not_found_error"


def test_invalid_email_is_validation_error(sandbox, wire):
    external_id = unique("bademail")

    with pytest.raises(CommetValidationError) as caught:
        sandbox.customers.create(id=external_id, email="not-an-email")
    error = caught.value

    assert isinstance(error, CommetAPIError)
    assert error.status_code == 400
    assert error.code == "validation_error"
    assert error.type == "validation_error"
    assert error.param == "email"
    assert error.doc_url.endswith("/2026-08-27/errors/validation_error.md"), error.doc_url
    assert set(error.validation_errors) >= {"email"}, error.validation_errors
    assert error.validation_errors["email"], "at least one message for email"
    assert all(isinstance(m, str) and m for m in error.validation_errors["email"])

    body = wire.last.body
    assert wire.last.status == 400
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    assert any(d["field"] == "email" for d in body["error"]["details"])

    assert sandbox.customers.list(external_id=external_id).data == []


def test_batch_one_valid_one_invalid(sandbox, wire):
    good_id = unique("batch-ok")
    bad_id = unique("batch-bad")
    good_email = f"{good_id}@example.test"

    batch = sandbox.customers.create_batch(
        customers=[
            BatchCreateCustomersParamsCustomersItem(email=good_email, id=good_id, full_name="Batch Good"),
            BatchCreateCustomersParamsCustomersItem(email="no-at-sign", id=bad_id),
        ]
    )

    body = wire.last.body
    assert wire.last.status == 200
    assert "success" not in body
    assert set(body) == {"successful", "failed", "object", "livemode"}
    assert body["object"] == "customer_batch"
    assert body["livemode"] is False
    assert set(body["successful"][0]) == {"id", "externalId", "email"}
    assert set(body["failed"][0]) == {"index", "error", "data"}
    assert body["failed"][0]["data"] == {"email": "no-at-sign", "id": bad_id}

    assert batch.object == "customer_batch"
    assert batch.livemode is False
    assert len(batch.successful) == 1
    ok = batch.successful[0]
    assert CUSTOMER_ID.match(ok.id)
    assert ok.external_id == good_id
    assert ok.email == good_email
    assert len(batch.failed) == 1
    failed = batch.failed[0]
    assert failed.index == 1
    assert isinstance(failed.error, str) and failed.error
    assert failed.data.email == "no-at-sign"
    assert failed.data.id == bad_id

    assert_customer(
        sandbox.customers.get(ok.id), external_id=good_id, email=good_email, full_name="Batch Good"
    )
    assert sandbox.customers.list(external_id=bad_id).data == []


def test_live_key_is_livemode_and_separate(live, sandbox, wire):
    external_id = unique("live")
    email = f"{external_id}@example.test"

    live_customer = live.customers.create(id=external_id, email=email)
    assert_customer_wire(wire.last.body, externalId=external_id, email=email, livemode=True)
    assert_customer(live_customer, external_id=external_id, email=email, livemode=True)
    assert live.customers.get(live_customer.id) == live_customer
    assert live.customers.list(external_id=external_id).data == [live_customer]

    with pytest.raises(CommetAPIError) as caught:
        sandbox.customers.get(live_customer.id)
    assert caught.value.status_code == 404
    assert caught.value.code == "customer_not_found"
    assert sandbox.customers.list(external_id=external_id).data == []

    sandbox_customer = sandbox.customers.create(id=external_id, email=email)
    assert_customer(sandbox_customer, external_id=external_id, email=email, livemode=False)
    assert sandbox_customer.id != live_customer.id
