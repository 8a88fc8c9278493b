"""Points the official Commet Python SDK (commet-sdk 9.7.0) at a Tally server.

The SDK hard-codes ``_BASE_URL = "https://commet.co"`` in ``commet/_shared.py`` and has no base-URL
option. ``commet/_http.py`` (and ``commet/_async_http.py``) import the name with
``from ._shared import _BASE_URL`` and build ``httpx.Client(base_url=f"{_BASE_URL}/api/v1")`` in
``CommetHTTPClient.__init__``, reading the module global at construction time. So the redirect is
to set ``_BASE_URL`` (without ``/api/v1``, which the SDK appends) in those modules before any
client is built. Setting it only in ``commet._shared`` would have no effect. No SDK file is touched.

Fixtures also attach an httpx response hook (public httpx API, on the client's ``_http._client``)
that records every exchange, because the SDK hides the wire: it snake-cases every response key,
drops keys its dataclasses do not declare, fills missing ones with defaults (``livemode`` -> False,
nullable fields -> None) and silently unwraps a legacy ``{success, data}`` envelope.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import commet._async_http
import commet._http
import commet._shared
from commet import Commet


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise pytest.UsageError(f"{name} is not set (run the tests through sdk-tests/run)")
    return value


TALLY_URL = _require("TALLY_URL").rstrip("/")
SANDBOX_KEY = _require("TALLY_SANDBOX_KEY")
LIVE_KEY = _require("TALLY_LIVE_KEY")

for _module in (commet._shared, commet._http, commet._async_http):
    assert _module._BASE_URL == "https://commet.co", f"unexpected {_module.__name__}._BASE_URL"
    _module._BASE_URL = TALLY_URL


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    request_headers: httpx.Headers
    request_body: Any  # parsed JSON the SDK sent, None when it sent no body
    headers: httpx.Headers
    body: Any  # parsed JSON, or the raw text when it is not JSON


class Wire:
    """Every HTTP exchange made by clients from ``make_client`` in one test, oldest first."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def hook(self, response: httpx.Response) -> None:
        response.read()
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        sent = response.request.content
        self.exchanges.append(
            Exchange(
                method=response.request.method,
                url=str(response.request.url),
                status=response.status_code,
                request_headers=response.request.headers,
                request_body=json.loads(sent) if sent else None,
                headers=response.headers,
                body=body,
            )
        )

    @property
    def last(self) -> Exchange:
        assert self.exchanges, "no request was made"
        return self.exchanges[-1]


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def make_client(wire: Wire):
    """Builds ``Commet(api_key)`` exactly as a user would (default version, retries, timeout)."""
    clients: list[Commet] = []

    def make(api_key: str) -> Commet:
        client = Commet(api_key)
        http = client._http._client
        assert str(http.base_url) == f"{TALLY_URL}/api/v1/", f"SDK not redirected: {http.base_url}"
        hooks = http.event_hooks
        hooks["response"] = [*hooks.get("response", []), wire.hook]
        http.event_hooks = hooks
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def sandbox(make_client) -> Commet:
    return make_client(SANDBOX_KEY)


@pytest.fixture
def live(make_client) -> Commet:
    return make_client(LIVE_KEY)
