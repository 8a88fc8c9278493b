"""Shared helpers for the commet-sdk 9.7.0 tests (API version 2026-08-27, direct objects)."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

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
