"""Claim links through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects;
payments.md §10.2), against the second server, which sdk-tests/run expects started ``--headless``.
The Node suite issues links on it first without completing one; this test completes the claim, so
the pair is then owned: run it on a fresh server.

Wire mapping (commet/resources/provisioning.py; base_url <TALLY_URL>/api/v1):
  provisioning.create_claim_link()   POST /claim-link  (no body)
                                     -> ClaimLink {url, expiresAt, object:"claim_link", livemode}
The page is used as a browser would, without a key, in JSON: ``GET {url}`` answers its state;
``POST {url}`` with ``{"action": "claim", "email", "name"}`` claims the pair for that person.
"""

from __future__ import annotations

import os
import re

import httpx
import pytest

from commet import CommetAPIError

TALLY_URL = os.environ["TALLY_URL"].rstrip("/")

pytestmark = pytest.mark.provisioning

CLAIM_URL = re.compile(re.escape(TALLY_URL) + r"/claim/tok_[^/?#]+")


def claim_link(sdk, wire) -> dict:
    sdk.provisioning.create_claim_link()
    assert (wire.last.method, wire.last.url.split("/api/v1")[1], wire.last.request_body) == ("POST", "/claim-link", None)
    link = wire.last.body
    assert sorted(link) == ["expiresAt", "livemode", "object", "url"], link
    assert CLAIM_URL.fullmatch(link["url"]), link
    assert link["object"] == "claim_link"
    return link


def test_a_headless_pair_is_claimed_once_and_then_refuses_new_links(sandbox, wire):
    link = claim_link(sandbox, wire)
    assert link["livemode"] is False
    state = httpx.get(link["url"], headers={"Accept": "application/json"}).json()
    assert (state["kind"], state["status"], state["owner"]) == ("claim", "open", None), state

    refused = httpx.post(link["url"], headers={"Accept": "application/json"}, json={"action": "claim", "email": "nobody", "name": "Jane"})
    assert (refused.status_code, refused.json()["error"]["param"]) == (422, "email")
    claimed = httpx.post(
        link["url"], headers={"Accept": "application/json"}, json={"action": "claim", "email": "jane@acme.test", "name": "Jane Doe"}
    )
    assert claimed.status_code == 200
    body = claimed.json()
    assert (body["status"], body["owner"]) == ("succeeded", {"email": "jane@acme.test", "name": "Jane Doe"}), body
    assert body["organization"] == state["organization"]
    assert httpx.get(link["url"], headers={"Accept": "application/json"}).status_code == 410, "claimed once"

    with pytest.raises(CommetAPIError) as caught:
        sandbox.provisioning.create_claim_link()
    assert (caught.value.status_code, caught.value.code, caught.value.type) == (409, "organization_already_claimed", "conflict_error")
