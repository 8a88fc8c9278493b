"""Shared helpers for the commet-sdk 9.7.0 tests (API version 2026-08-27, direct objects)."""

from __future__ import annotations

import calendar
import math
import re
import secrets
import string
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, TypeVar

import httpx

from commet import CommetAPIError, CommetValidationError

T = TypeVar("T")

_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
CUSTOMER_ID = re.compile(f"^cus_{_ULID}$")
API_KEY_ID = re.compile(f"^key_{_ULID}$")
REQUEST_ID = re.compile(r"^req_[0-9A-Za-z]{24}$")
SANDBOX_SECRET = re.compile(r"^ck_sandbox_[0-9A-Za-z]{32}$")
LIVE_SECRET = re.compile(r"^ck_live_[0-9A-Za-z]{32}$")
_ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

ERROR_KEYS = {"type", "code", "message", "param", "details", "doc_url"}
CUSTOMER_KEYS = {
    "id",
    "externalId",
    "fullName",
    "email",
    "taxDocument",
    "documentType",
    "timezone",
    "metadata",
    "createdAt",
    "updatedAt",
    "object",
    "livemode",
}

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(length: int) -> str:
    return "".join(secrets.choice(_BASE62) for _ in range(length))


def unique(tag: str) -> str:
    """Unique, URL-safe token (both SDK suites share one database)."""
    return f"sdk-py-{tag}-{uuid.uuid4().hex[:16]}"


def instant(value: Any, label: str = "timestamp") -> datetime:
    """Asserts ISO 8601 UTC with milliseconds and Z; returns the instant."""
    assert isinstance(value, str), f"{label} must be a string, got {value!r}"
    assert _ISO_MS.match(value), f"{label} must look like 2026-06-23T14:30:00.000Z, got {value!r}"
    parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return parsed


def assert_direct_list(body: Any) -> list[Any]:
    """A direct-generation list object on the wire: {object:"list", data, hasMore, nextCursor?}."""
    assert isinstance(body, dict), body
    assert "success" not in body, "direct generation has no success/data envelope"
    assert body["object"] == "list"
    assert isinstance(body["data"], list)
    assert isinstance(body["hasMore"], bool)
    if body["hasMore"]:
        assert isinstance(body["nextCursor"], str)
        assert set(body) == {"object", "data", "hasMore", "nextCursor"}
    else:
        assert set(body) <= {"object", "data", "hasMore", "nextCursor"}
    return body["data"]


def walk(list_page: Callable[[str | None], Any]) -> Iterator[Any]:
    """Iterates the items of an SDK list result (``.data``/``.has_more``/``.next_cursor``)."""
    cursor: str | None = None
    for _ in range(50):
        page = list_page(cursor)
        assert page.object == "list"
        yield from page.data
        if not page.has_more:
            return
        assert page.next_cursor, "has_more without next_cursor"
        cursor = page.next_cursor
    raise AssertionError("more than 50 pages")


def find(list_page: Callable[[str | None], Any], predicate: Callable[[T], bool]) -> T | None:
    return next((item for item in walk(list_page) if predicate(item)), None)


# ---------------------------------------------------------------------------------------------
# Catalog, subscriptions and test clock (catalog.md).
# ---------------------------------------------------------------------------------------------

FEATURE_ID = re.compile(f"^ftr_{_ULID}$")
PLAN_ID = re.compile(f"^pln_{_ULID}$")
PRICE_ID = re.compile(f"^pp_{_ULID}$")
SUBSCRIPTION_ID = re.compile(f"^sub_{_ULID}$")
TEST_CLOCK_RUN_ID = re.compile(f"^tcr_{_ULID}$")
DAY = timedelta(days=1)


def feature_code(tag: str, sep: str = "") -> str:
    """A feature code unique to this run. Without ``sep`` it has no underscore, so P9's key
    camel-casing leaves it unchanged when it is used as a map key (``initial_seats``)."""
    return f"{tag}{sep}{uuid.uuid4().hex[:16]}"


def iso(value: datetime) -> str:
    """The wire form: ISO 8601 UTC with milliseconds and Z."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def add_months(value: str, months: int) -> str:
    """``value`` plus calendar months, same UTC time of day, day clamped to the month's last day
    (catalog.md §6: periods are always computed from the anchor, Jan 31 -> Feb 28 -> Mar 31)."""
    start = instant(value)
    total = start.year * 12 + start.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return iso(start.replace(year=year, month=month, day=min(start.day, last)))


def shift(value: str, delta: timedelta) -> str:
    return iso(instant(value) + delta)


def days_remaining(end: str, now: str) -> int:
    """catalog.md §6: ceil((end - now) / 24 h), min 0."""
    seconds = (instant(end) - instant(now)).total_seconds()
    return max(0, math.ceil(seconds / DAY.total_seconds()))


def request_line(exchange: Any) -> str:
    """Method and ``/api/v1/...`` path (+ query) of a recorded exchange."""
    url = httpx.URL(exchange.url)
    path = url.path[url.path.index("/api/v1/") :]
    query = url.query.decode()
    return f"{exchange.method} {path}" + (f"?{query}" if query else "")


def assert_wire_error(exchange: Any, status: int, code: str, type: str) -> dict[str, Any]:
    """A direct-generation error on the wire: ``{"error": {six keys}}``, no ``success``."""
    assert exchange.status == status, f"{request_line(exchange)} -> {exchange.status}: {exchange.body}"
    body = exchange.body
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_KEYS, sorted(error)
    assert error["code"] == code, error
    assert error["type"] == type, error
    assert error["doc_url"].endswith(f"/2026-08-27/errors/{code}.md"), error["doc_url"]
    return error


def expect_api_error(
    wire: Any, call: Callable[[], Any], *, status: int, code: str, type: str, param: Any = ...
) -> dict[str, Any]:
    """Runs an SDK call that must raise a (non-validation) CommetAPIError; checks it and the wire."""
    try:
        call()
    except CommetValidationError as error:  # pragma: no cover - reported as a failure
        raise AssertionError(f"expected {code}, got validation_error: {error} {error.validation_errors}")
    except CommetAPIError as error:
        assert error.status_code == status, f"{error.status_code} {error.code}: {error}"
        assert error.code == code, f"{error.code}: {error}"
        assert error.type == type
        wire_error = assert_wire_error(wire.last, status, code, type)
        assert wire_error["message"] == str(error)
        if param is not ...:
            assert wire_error["param"] == param, wire_error
            assert error.param == param
        return wire_error
    raise AssertionError(f"expected {status} {code}, the call succeeded")


def expect_validation_error(wire: Any, call: Callable[[], Any], param: Any = ...) -> dict[str, Any]:
    """Runs an SDK call that must raise ``400 validation_error`` with ``details`` an array of
    ``{field, message}`` (P9 then raises CommetValidationError, keeping the status). When
    ``param`` is given, error.param equals it and details name it."""
    try:
        call()
    except CommetValidationError as error:
        assert error.status_code == 400, error.status_code
        assert error.code == "validation_error"
        assert error.type == "validation_error"
        wire_error = assert_wire_error(wire.last, 400, "validation_error", "validation_error")
        assert isinstance(wire_error["details"], list), wire_error
        for detail in wire_error["details"]:
            assert set(detail) == {"field", "message"}, detail
            assert isinstance(detail["field"], str)
            assert isinstance(detail["message"], str) and detail["message"]
        if param is not ...:
            assert wire_error["param"] == param, wire_error
            assert error.param == param
            assert any(d["field"] == param for d in wire_error["details"]), wire_error["details"]
            assert error.validation_errors.get(param), error.validation_errors
        return wire_error
    except CommetAPIError as error:  # pragma: no cover - reported as a failure
        raise AssertionError(f"expected validation_error, got {error.status_code} {error.code}: {error}")
    raise AssertionError("expected validation_error, the call succeeded")
