"""Webhooks through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; webhooks.md,
seats.md §6, examples.md scenario 3). Nothing here moves the test clock.

Wire mapping (commet/resources/generated_webhooks.py; base_url <TALLY_URL>/api/v1):
  webhooks.list(cursor=, limit=)                          GET    /webhooks?cursor=&limit=  -> WebhooksListResult
  webhooks.create(url=, events=, description=, api_version=)  POST /webhooks              -> CreatedWebhook
  webhooks.get(id)                                        GET    /webhooks/{id}            -> Webhook
  webhooks.update(id, url=, events=, description=, is_active=, api_version=)
                                                          PATCH  /webhooks/{id}            -> Webhook
  webhooks.delete(id)                                     DELETE /webhooks/{id}            -> DeletedObject
  webhooks.test(id)                                       POST   /webhooks/{id}/test       -> WebhookTest
Bodies drop None arguments (``build_body``), so ``description=None`` cannot clear a description.
Verification (commet/resources/webhooks.py, no HTTP):
  sign_payload(payload, secret) = hmac.new(secret.encode(), payload.encode(), sha256).hexdigest()
  verify_signature(payload=, signature=, secret=) -> False when any is empty, else
      hmac.compare_digest(signature, sign_payload(...)): a string compare, so case-sensitive
  verify_and_parse_payload(raw_body=, signature=, secret=) -> the parsed dict, or None
  Webhooks(http=None).verify(...) / .verify_and_parse(...): the same, as methods (``commet.webhooks``)
Typed payloads (commet/webhook_events.py): ``WebhookEvent(event, timestamp, organizationId, mode,
apiVersion, data)`` with ``as_seats_updated()`` & co. It has no ``id`` field, so
``WebhookEvent(**payload)`` raises TypeError on a real envelope (which carries ``id``); the tests
build it from the declared fields.

Each test runs its own receiver on 127.0.0.1 (port 0, a random path; ``http.server`` in a thread)
that records the raw bytes and headers of every request and answers 200 with ``Connection:
close``; at teardown the test's endpoints are deleted, then the receiver is closed. The sandbox
organization is shared with every other test (and the Node suite), so deliveries are picked by the
receiver's path and by this test's customer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from commet import API_VERSION, CommetAPIError, Webhooks
from commet.resources.webhooks import sign_payload, verify_and_parse_payload, verify_signature
from commet.types import WebhookPlanRef, WebhookSeatSummary
from commet.webhook_events import CustomerStateChangedData, SeatsLimitReachedData, SeatsUpdatedData, WebhookEvent

from catalog import INCLUDED_SEATS, SEAT_UNIT_PRICE, new_customer, seat_plan
from support import (
    add_months,
    assert_direct_list,
    base62,
    expect_api_error,
    expect_validation_error,
    find,
    instant,
    request_line,
)

_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
ENDPOINT_ID = re.compile(f"^whe_{_ULID}$")
EVENT_ID = re.compile(f"^whev_{_ULID}$")
DELIVERY_ID = re.compile(f"^whd_{_ULID}$")
WEBHOOK_SECRET = re.compile(r"^whsec_[0-9A-Za-z]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
ENDPOINT_KEYS = {"id", "url", "events", "description", "isActive", "apiVersion", "createdAt", "object", "livemode"}
ENVELOPE_KEYS = {"id", "event", "timestamp", "organizationId", "mode", "apiVersion", "data"}
SEAT_EVENTS = ["seats.updated", "seats.limit_reached", "customer.state_changed"]

# The dispatcher runs every 100 ms, so a delivery normally arrives well under a second after the
# change. 15 s leaves room for a loaded machine (2 cores, one server shared with the other tests)
# while still failing fast. Retries cannot help inside it: a failed first attempt is only retried
# after 60 s (webhooks.md §6).
DELIVERY_DEADLINE = 15.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lowercase names
    body: bytes  # the raw bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Receiver:
    """An HTTP receiver on 127.0.0.1, port 0, serving from a thread: records every request before
    answering 200."""

    def __init__(self) -> None:
        self.path = f"/hooks/{uuid.uuid4().hex}"
        self.endpoint_ids: list[str] = []  # deleted at teardown
        self._requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self._read_body()
                with receiver._lock:
                    receiver._requests.append(
                        Received(
                            method=self.command,
                            path=self.path,
                            headers={name.lower(): value for name, value in self.headers.items()},
                            body=body,
                        )
                    )
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"ok")
                self.close_connection = True

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self.path}"

    def mine(self) -> list[Received]:
        """Requests to this receiver's path (another endpoint may get its port after it closes)."""
        with self._lock:
            return [r for r in self._requests if r.path == self.path]

    def summary(self) -> str:
        """What arrived, for failure messages."""
        seen = []
        for r in self.mine():
            body = r.json or {}
            data = body.get("data") or {}
            seen.append(f"{body.get('event')}/{data.get('customerId', data.get('webhookId'))}/{data.get('trigger', '')}")
        return "received " + ", ".join(seen) if seen else "received nothing"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver(sandbox):
    """This test's receiver; at teardown its endpoints are deleted, then it stops listening."""
    r = Receiver()
    try:
        yield r
    finally:
        for endpoint_id in r.endpoint_ids:
            try:
                sandbox.webhooks.delete(endpoint_id)
            except CommetAPIError:
                pass
        r.close()


def until(check: Callable[[], Any], describe: Callable[[], str]) -> Any:
    """Polls ``check`` until it returns something truthy; fails after DELIVERY_DEADLINE."""
    deadline = time.monotonic() + DELIVERY_DEADLINE
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{describe()} (waited {DELIVERY_DEADLINE:.0f} s)")
        time.sleep(0.05)


def clock_now(sdk) -> str:
    """The sandbox clock's "now" (real time until the clock is first advanced)."""
    return sdk.test_clock.get().now


def create_endpoint(sdk, wire, receiver: Receiver, events: list[str], **extra: Any) -> dict[str, Any]:
    """Creates an endpoint for ``receiver`` through the SDK, checks the raw answer and the SDK's
    CreatedWebhook, registers it for deletion. Returns the raw answer."""
    created = sdk.webhooks.create(url=receiver.url, events=events, **extra)
    exchange = wire.last
    assert request_line(exchange) == "POST /api/v1/webhooks"
    wire_extra = {{"api_version": "apiVersion"}.get(k, k): v for k, v in extra.items()}
    assert exchange.request_body == {"url": receiver.url, "events": events, **wire_extra}
    assert exchange.status == 200, exchange.body
    body = exchange.body
    assert ENDPOINT_ID.match(body["id"]), body["id"]
    receiver.endpoint_ids.append(body["id"])
    assert set(body) == ENDPOINT_KEYS | {"secretKey"}, "creation answer = endpoint + secretKey"
    assert WEBHOOK_SECRET.match(body["secretKey"]), body["secretKey"]
    instant(body["createdAt"], "createdAt")
    assert body == {
        "id": body["id"],
        "url": receiver.url,
        "events": events,
        "description": extra.get("description"),
        "isActive": True,
        # webhooks.md §1: no apiVersion pins the endpoint to the creating request's version
        "apiVersion": extra.get("api_version", API_VERSION),
        "createdAt": body["createdAt"],
        "secretKey": body["secretKey"],
        "object": "webhook",
        "livemode": False,
    }
    assert created.id == body["id"]
    assert created.secret_key == body["secretKey"]
    assert created.api_version == body["apiVersion"]
    assert created.is_active is True
    assert created.events == events
    return body


def assert_signed_delivery(sdk, request: Received, *, secret: str, path: str) -> dict[str, Any]:
    """Checks one delivery: request line and headers, the signature (recomputed over the raw bytes
    and through the SDK's own verify_signature / webhooks.verify_and_parse, which must also reject
    a forged body and a wrong secret) and the envelope. Returns the envelope the SDK parsed."""
    assert request.method == "POST"
    assert request.path == path, "delivered to the endpoint URL as registered"
    headers = request.headers
    assert re.match(r"^application/json(;\s*charset=utf-8)?$", headers.get("content-type", ""), re.I), headers
    assert re.match(r"^Tally-Webhooks/\S+$", headers.get("user-agent", "")), headers.get("user-agent")
    signature = headers.get("x-commet-signature", "")
    assert SIGNATURE.match(signature), f"one lowercase hex HMAC-SHA256, no prefix: {signature!r}"
    assert signature == hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest(), (
        "HMAC-SHA256 of the exact body bytes, keyed with the whole whsec_ string"
    )

    # the SDK's own verification
    text = request.text
    assert sign_payload(text, secret) == signature
    assert verify_signature(payload=text, signature=signature, secret=secret) is True
    assert sdk.webhooks.verify(payload=text, signature=signature, secret=secret) is True
    envelope = sdk.webhooks.verify_and_parse(raw_body=text, signature=signature, secret=secret)
    assert envelope is not None, "webhooks.verify_and_parse"
    assert envelope == json.loads(request.body)
    assert verify_and_parse_payload(raw_body=text, signature=signature, secret=secret) == envelope

    # ... which does fail: a forged body, the same JSON with other bytes, a wrong secret
    forged = json.dumps({**envelope, "mode": "live"}, separators=(",", ":"))
    assert verify_signature(payload=forged, signature=signature, secret=secret) is False, "forged body"
    assert sdk.webhooks.verify_and_parse(raw_body=forged, signature=signature, secret=secret) is None
    assert verify_signature(payload=text + "\n", signature=signature, secret=secret) is False, "other bytes"
    wrong = "whsec_" + base62(32)
    assert wrong != secret
    assert verify_signature(payload=text, signature=signature, secret=wrong) is False, "wrong secret"
    assert sdk.webhooks.verify_and_parse(raw_body=text, signature=signature, secret=wrong) is None
    assert verify_signature(payload=text, signature=signature, secret=secret[len("whsec_") :]) is False, (
        "the key is the whole secret, whsec_ included"
    )

    # the envelope (webhooks.md §2) and the headers that repeat it (§3)
    assert set(envelope) == ENVELOPE_KEYS, sorted(envelope)
    assert EVENT_ID.match(envelope["id"]), envelope["id"]
    assert headers.get("x-commet-event-id") == envelope["id"], "X-Commet-Event-Id = id"
    assert headers.get("x-commet-event") == envelope["event"], "X-Commet-Event = event"
    assert headers.get("x-commet-timestamp") == envelope["timestamp"], "X-Commet-Timestamp = timestamp"
    instant(envelope["timestamp"], "timestamp")
    assert envelope["mode"] == "sandbox"
    assert envelope["apiVersion"] == API_VERSION, "shaped for the endpoint's version"
    assert UUID.match(envelope["organizationId"]), envelope["organizationId"]
    return envelope


def typed(envelope: dict[str, Any]) -> WebhookEvent:
    """P9's WebhookEvent from an envelope (its declared fields: it has no ``id``)."""
    return WebhookEvent(**{f.name: envelope[f.name] for f in dataclasses.fields(WebhookEvent)})


# examples.md scenario 3: the exact body bytes, secret and signature of the contract's example.
EXAMPLE_BODY = (
    '{"id":"whev_01K3EVT1","event":"seats.updated","timestamp":"2026-09-16T00:00:00.000Z",'
    '"organizationId":"8f14e45f-ceea-4e7a-9c3d-1c2b3a4d5e6f","mode":"sandbox","apiVersion":"2026-07-11",'
    '"data":{"customerId":"user_123","subscriptionId":"sub_01K3SUB1","featureCode":"editor","previousSeats":6,"currentSeats":7}}'
)
EXAMPLE_SECRET = "whsec_test_secret"
EXAMPLE_SIGNATURE = "bf85151b3ebb8329908b1dcd771f29ab5d824fd1e9e141dd1bd9d62d73654dd5"


def test_contract_example_verifies_with_the_sdk():
    ok = {"payload": EXAMPLE_BODY, "signature": EXAMPLE_SIGNATURE, "secret": EXAMPLE_SECRET}
    assert sign_payload(EXAMPLE_BODY, EXAMPLE_SECRET) == EXAMPLE_SIGNATURE
    assert verify_signature(**ok) is True
    hooks = Webhooks()  # no client needed to verify
    assert hooks.verify(**ok) is True
    assert hooks.verify_and_parse(raw_body=EXAMPLE_BODY, signature=EXAMPLE_SIGNATURE, secret=EXAMPLE_SECRET) == json.loads(
        EXAMPLE_BODY
    )
    # P9 compares strings: the uppercase form fails here (N7 accepts it)
    assert verify_signature(**{**ok, "signature": EXAMPLE_SIGNATURE.upper()}) is False
    assert verify_signature(**{**ok, "payload": EXAMPLE_BODY.replace('"currentSeats":7', '"currentSeats":8')}) is False
    assert verify_signature(**{**ok, "secret": "whsec_test_secreT"}) is False
    assert verify_signature(**{**ok, "secret": "test_secret"}) is False, "the key is the whole string"
    assert verify_signature(**{**ok, "signature": "sha256=" + EXAMPLE_SIGNATURE}) is False, "no prefix"
    assert verify_signature(**{**ok, "signature": None}) is False
    # the typed helper on the example
    event = typed(json.loads(EXAMPLE_BODY))
    assert event.as_seats_updated() == SeatsUpdatedData(
        customerId="user_123", subscriptionId="sub_01K3SUB1", featureCode="editor", previousSeats=6, currentSeats=7
    )


def test_seat_limit_crossing_delivers_three_signed_events(sandbox, wire, receiver):
    """Seat add 4 -> 5 (reaching the 5 included): seats.updated, seats.limit_reached and
    customer.state_changed (trigger seats_updated) reach the endpoint, signed with its secret."""
    endpoint = create_endpoint(sandbox, wire, receiver, SEAT_EVENTS)
    secret = endpoint["secretKey"]

    sp = seat_plan(sandbox)  # 5 included, overage at $25; the code has no underscore
    feature, plan = sp.feature, sp.plan
    customer = new_customer(sandbox, "hook-cust")
    sandbox.subscriptions.create(
        customer_id=customer.id, plan_code=plan.code, billing_interval="monthly", initial_seats={feature.code: 4}
    )
    assert request_line(wire.last) == "POST /api/v1/subscriptions" and wire.last.status == 200, wire.last.body
    sub = wire.last.body
    assert sub["status"] == "active"

    before = clock_now(sandbox)
    added = sandbox.seats.add(customer_id=customer.external_id, feature_code=feature.code, count=1)
    after = clock_now(sandbox)
    assert (added.previous_balance, added.new_balance) == (4, 5)

    # this customer's deliveries (customerId = the externalId, seats.md §6); state changes from the
    # subscription's creation, if any, carry another trigger
    def ours(request: Received, event: str) -> bool:
        body = request.json or {}
        data = body.get("data") or {}
        if body.get("event") != event or data.get("customerId") != customer.external_id:
            return False
        return event != "customer.state_changed" or data.get("trigger") == "seats_updated"

    def by_event(event: str) -> list[Received]:
        return [r for r in receiver.mine() if ours(r, event)]

    until(
        lambda: all(by_event(event) for event in SEAT_EVENTS),
        lambda: f"expected {', '.join(SEAT_EVENTS)} for {customer.external_id}; {receiver.summary()}",
    )

    envelopes: dict[str, dict[str, Any]] = {}
    for event in SEAT_EVENTS:
        requests = by_event(event)
        # one event each; a repeated delivery must be the same event, byte for byte (webhooks.md §6)
        assert len({r.json["id"] for r in requests}) == 1, f"exactly one {event}: {[r.json['data'] for r in requests]}"
        assert all(r.body == requests[0].body for r in requests), f"{event} redelivered with other bytes"
        envelope = assert_signed_delivery(sandbox, requests[0], secret=secret, path=receiver.path)
        assert envelope["event"] == event
        assert before <= envelope["timestamp"] <= after, (
            f"{event} timestamp {envelope['timestamp']} is the clock at the change ({before} .. {after})"
        )
        envelopes[event] = envelope
    assert len({envelopes[e]["id"] for e in SEAT_EVENTS}) == 3, "one id per event"
    assert len({envelopes[e]["organizationId"] for e in SEAT_EVENTS}) == 1, "one organization"

    assert envelopes["seats.updated"]["data"] == {
        "customerId": customer.external_id,
        "subscriptionId": sub["id"],
        "featureCode": feature.code,
        "previousSeats": 4,
        "currentSeats": 5,
    }
    assert envelopes["seats.limit_reached"]["data"] == {
        "customerId": customer.external_id,
        "subscriptionId": sub["id"],
        "featureCode": feature.code,
        "currentSeats": 5,
        "includedSeats": INCLUDED_SEATS,
    }
    # webhooks.md §5.3, 2026-08-27: features[] discriminated by type; seats carry a usage block
    period = sub["currentPeriod"]
    assert period["end"] == add_months(sub["startDate"], 1)
    seats_summary = {"code": feature.code, "current": 5, "included": INCLUDED_SEATS, "remaining": 0, "unlimited": False}
    assert envelopes["customer.state_changed"]["data"] == {
        "customerId": customer.external_id,
        "trigger": "seats_updated",
        "status": "active",
        "subscriptionId": sub["id"],
        "plan": {"id": plan.id, "name": plan.name},
        "billingInterval": "monthly",
        "consumptionModel": "metered",
        "features": [
            {
                "code": feature.code,
                "name": feature.name,
                "unitName": "seat",
                "allowed": True,
                "type": "seats",
                "usage": {
                    "period": {"start": period["start"], "end": period["end"]},
                    "unitsUsed": 5,
                    "includedUnits": INCLUDED_SEATS,
                    "remainingUnits": 0,
                    "unlimited": False,
                    "overage": {
                        "enabled": True,
                        "units": 0,
                        "unitPrice": {"amount": SEAT_UNIT_PRICE, "currency": "usd", "scale": 10000},
                    },
                },
            }
        ],
        "seats": [seats_summary],
        "credits": None,
        "balance": None,
    }

    # the SDK's typed payloads
    updated = typed(envelopes["seats.updated"])
    assert (updated.event, updated.mode, updated.apiVersion) == ("seats.updated", "sandbox", API_VERSION)
    assert updated.as_seats_updated() == SeatsUpdatedData(
        customerId=customer.external_id,
        subscriptionId=sub["id"],
        featureCode=feature.code,
        previousSeats=4,
        currentSeats=5,
    )
    assert typed(envelopes["seats.limit_reached"]).as_seats_limit_reached() == SeatsLimitReachedData(
        customerId=customer.external_id,
        subscriptionId=sub["id"],
        featureCode=feature.code,
        currentSeats=5,
        includedSeats=INCLUDED_SEATS,
    )
    state = typed(envelopes["customer.state_changed"]).as_customer_state_changed()
    assert isinstance(state, CustomerStateChangedData)
    assert state.trigger == "seats_updated"
    assert state.plan == WebhookPlanRef(id=plan.id, name=plan.name)
    assert state.seats == [WebhookSeatSummary(**seats_summary)]
    assert state.features == envelopes["customer.state_changed"]["data"]["features"], "kept as raw dicts"


def test_webhook_test_send(sandbox, wire, receiver):
    """webhooks.test: one signed webhook.test envelope, sent before the call returns."""
    # an event Tally never emits (webhooks.md §5.1), so only the test sends arrive
    endpoint = create_endpoint(sandbox, wire, receiver, ["payout.paid"], description="test sends")
    clock_before = clock_now(sandbox)

    result = sandbox.webhooks.test(endpoint["id"])
    exchange = wire.last
    clock_after = clock_now(sandbox)
    assert request_line(exchange) == f"POST /api/v1/webhooks/{endpoint['id']}/test"
    assert exchange.status == 200, exchange.body
    body = exchange.body
    assert DELIVERY_ID.match(body["deliveryId"]), body["deliveryId"]
    instant(body["deliveredAt"], "deliveredAt")
    assert body == {
        "success": True,
        "deliveryId": body["deliveryId"],
        "deliveredAt": body["deliveredAt"],
        "object": "webhook_delivery",
        "livemode": False,
    }
    assert result.success is True
    assert result.delivery_id == body["deliveryId"]
    assert result.delivered_at == body["deliveredAt"]
    assert result.object == "webhook_delivery"

    # synchronous: the receiver already has it, and it was the only request
    requests = receiver.mine()
    assert len(requests) == 1, receiver.summary()
    envelope = assert_signed_delivery(sandbox, requests[0], secret=endpoint["secretKey"], path=receiver.path)
    assert envelope["event"] == "webhook.test"
    assert envelope["data"] == {"webhookId": endpoint["id"]}
    assert clock_before <= envelope["timestamp"] <= clock_after, (clock_before, envelope["timestamp"], clock_after)

    # a second test send is a new event and a new delivery
    second = sandbox.webhooks.test(endpoint["id"])
    assert second.success is True
    assert second.delivery_id != result.delivery_id
    requests = receiver.mine()
    assert len(requests) == 2, receiver.summary()
    again = assert_signed_delivery(sandbox, requests[1], secret=endpoint["secretKey"], path=receiver.path)
    assert again["event"] == "webhook.test"
    assert again["id"] != envelope["id"]


def test_webhook_endpoint_crud_and_errors(sandbox, live, wire, receiver):
    # events Tally never emits (webhooks.md §5.1), so nothing arrives while this test runs
    created = create_endpoint(sandbox, wire, receiver, ["payout.paid", "payout.failed"], description="payouts")
    endpoint_id = created["id"]
    endpoint = {k: v for k, v in created.items() if k != "secretKey"}

    # listed and fetched without secretKey
    listed = find(lambda cursor: sandbox.webhooks.list(limit=100, cursor=cursor), lambda w: w.id == endpoint_id)
    assert listed is not None, "the new endpoint must be listed"
    raw = next(w for w in assert_direct_list(wire.last.body) if w["id"] == endpoint_id)
    assert raw == endpoint, "list item = the endpoint without secretKey"
    assert (listed.url, listed.events, listed.is_active, listed.api_version) == (
        receiver.url,
        ["payout.paid", "payout.failed"],
        True,
        API_VERSION,
    )
    got = sandbox.webhooks.get(endpoint_id)
    assert request_line(wire.last) == f"GET /api/v1/webhooks/{endpoint_id}"
    assert wire.last.body == endpoint, "get = the endpoint without secretKey"
    assert got.id == endpoint_id and got.description == "payouts"

    # update: PATCH with only the sent fields; the others keep their values
    updated = sandbox.webhooks.update(endpoint_id, events=["payout.created"], is_active=False)
    assert request_line(wire.last) == f"PATCH /api/v1/webhooks/{endpoint_id}"
    assert wire.last.request_body == {"events": ["payout.created"], "isActive": False}
    expected = {**endpoint, "events": ["payout.created"], "isActive": False}
    assert wire.last.body == expected
    assert updated.events == ["payout.created"] and updated.is_active is False
    sandbox.webhooks.get(endpoint_id)
    assert wire.last.body == expected
    sandbox.webhooks.update(endpoint_id, description="renamed", is_active=True, api_version="2026-07-11")
    assert wire.last.request_body == {"description": "renamed", "isActive": True, "apiVersion": "2026-07-11"}
    expected = {**expected, "description": "renamed", "isActive": True, "apiVersion": "2026-07-11"}
    assert wire.last.body == expected
    expect_validation_error(wire, lambda: sandbox.webhooks.update(endpoint_id, url="not a url"), "url")
    sandbox.webhooks.get(endpoint_id)
    assert wire.last.body == expected, "a rejected update changes nothing"

    # an explicit pin at creation
    pinned = create_endpoint(sandbox, wire, receiver, ["payout.available"], api_version="2026-07-11")
    assert pinned["apiVersion"] == "2026-07-11"
    assert pinned["secretKey"] != created["secretKey"], "one secret per endpoint"

    # delete, then 404 webhook_not_found
    deleted = sandbox.webhooks.delete(endpoint_id)
    assert request_line(wire.last) == f"DELETE /api/v1/webhooks/{endpoint_id}"
    assert wire.last.body == {"id": endpoint_id, "deleted": True, "object": "webhook", "livemode": False}
    assert (deleted.id, deleted.deleted, deleted.object) == (endpoint_id, True, "webhook")
    for call in (
        lambda: sandbox.webhooks.get(endpoint_id),
        lambda: sandbox.webhooks.delete(endpoint_id),
        lambda: sandbox.webhooks.test(endpoint_id),
    ):
        expect_api_error(wire, call, status=404, code="webhook_not_found", type="not_found_error")
    assert find(lambda cursor: sandbox.webhooks.list(limit=100, cursor=cursor), lambda w: w.id == endpoint_id) is None

    # validation errors
    expect_validation_error(wire, lambda: sandbox.webhooks.create(url="not a url", events=SEAT_EVENTS), "url")
    unknown = expect_validation_error(
        wire, lambda: sandbox.webhooks.create(url=receiver.url, events=["seats.updated", "seats.exploded"])
    )
    assert any(d["field"].startswith("events") for d in unknown["details"]), unknown["details"]
    assert (unknown["param"] or "").startswith("events"), unknown
    expect_validation_error(wire, lambda: sandbox.webhooks.create(url=receiver.url, events=[]), "events")
    expect_validation_error(
        wire, lambda: sandbox.webhooks.create(url=receiver.url, events=SEAT_EVENTS, api_version="2020-01-01"), "apiVersion"
    )
    # http:// is for sandbox organizations only
    expect_validation_error(wire, lambda: live.webhooks.create(url=receiver.url, events=SEAT_EVENTS), "url")
    assert receiver.mine() == [], receiver.summary()
