"""API keys through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects).

Wire mapping (commet/resources/api_keys.py):
  api_keys.list(cursor=, limit=)                        GET    /api-keys?limit=&cursor=
  api_keys.create(name=, expires_in_days=, permissions=) POST   /api-keys {name, expiresInDays?, permissions?}
  api_keys.delete(id)                                    DELETE /api-keys/{id}  (no body, no Idempotency-Key)
"""

from __future__ import annotations

import pytest

from commet import CommetAPIError

from support import API_KEY_ID, LIVE_SECRET, SANDBOX_SECRET, find, instant, unique

CREATED_KEY_FIELDS = {"id", "name", "apiKey", "prefix", "expiresAt", "createdAt", "object", "livemode"}
LISTED_KEY_FIELDS = {"id", "name", "prefix", "expiresAt", "lastUsedAt", "createdAt", "object", "livemode"}
DAY = 24 * 60 * 60


def find_key(client, key_id):
    return find(lambda cursor: client.api_keys.list(limit=100, cursor=cursor), lambda k: k.id == key_id)


def lifetime_days(created) -> float:
    return (instant(created.expires_at) - instant(created.created_at)).total_seconds() / DAY


def test_api_key_lifecycle(sandbox, make_client, wire):
    name = unique("key")

    created = sandbox.api_keys.create(name=name)
    assert set(wire.last.body) == CREATED_KEY_FIELDS
    assert API_KEY_ID.match(created.id), created.id
    assert created.name == name
    assert SANDBOX_SECRET.match(created.api_key), created.api_key
    assert created.prefix == created.api_key[:15]
    assert abs(lifetime_days(created) - 365) < 60 / DAY, "default expiry is 365 days"
    assert created.object == "api_key"
    assert created.livemode is False

    listed = find_key(sandbox, created.id)
    assert listed is not None, "the new key must be listed"
    assert listed.name == name
    assert listed.prefix == created.prefix
    assert listed.expires_at == created.expires_at
    assert listed.last_used_at is None
    assert listed.created_at == created.created_at
    assert listed.object == "api_key"
    assert listed.livemode is False
    raw = next(k for k in wire.last.body["data"] if k["id"] == created.id)
    assert set(raw) == LISTED_KEY_FIELDS, "no secret in list items"
    assert raw["lastUsedAt"] is None

    fresh = make_client(created.api_key)
    assert fresh.customers.list(limit=1).object == "list"

    deleted = sandbox.api_keys.delete(created.id)
    assert wire.last.body == {"id": created.id, "deleted": True, "object": "api_key", "livemode": False}
    assert deleted.id == created.id
    assert deleted.deleted is True
    assert deleted.object == "api_key"

    with pytest.raises(CommetAPIError) as caught:
        fresh.customers.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "unauthorized"
    assert caught.value.type == "authentication_error"

    assert find_key(sandbox, created.id) is None
    with pytest.raises(CommetAPIError) as caught:
        sandbox.api_keys.delete(created.id)
    assert caught.value.status_code == 404
    assert caught.value.code == "api_key_not_found"


def test_key_may_delete_itself(sandbox, make_client, wire):
    created = sandbox.api_keys.create(name=unique("self"))
    itself = make_client(created.api_key)
    itself.api_keys.delete(created.id)
    assert wire.last.body == {"id": created.id, "deleted": True, "object": "api_key", "livemode": False}
    with pytest.raises(CommetAPIError) as caught:
        itself.api_keys.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "unauthorized"


def test_live_key_creates_live_keys(live, sandbox, make_client, wire):
    name = unique("live-key")
    created = live.api_keys.create(name=name, expires_in_days=30)
    assert LIVE_SECRET.match(created.api_key), created.api_key
    assert created.livemode is True
    assert created.name == name
    assert abs(lifetime_days(created) - 30) < 60 / DAY

    listed = find_key(live, created.id)
    assert listed is not None and listed.livemode is True
    assert find_key(sandbox, created.id) is None

    customer = make_client(created.api_key).customers.create(
        id=unique("via-live-key"), email=f"{unique('via-live-key')}@example.test"
    )
    assert customer.livemode is True

    live.api_keys.delete(created.id)
    assert wire.last.body == {"id": created.id, "deleted": True, "object": "api_key", "livemode": True}
