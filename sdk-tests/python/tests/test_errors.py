"""Authentication errors through commet-sdk 9.7.0 (commet-version 2026-08-27).

P9 error classes (commet/_exceptions.py, raised by commet/_shared.py handle_error):
  CommetAPIError(CommetError): status_code, code, type, param, details, doc_url, request_id
    (read from body["error"] if it is an object, else from the top-level body; defaults
    type "api_error", code "unknown"; request_id from the x-request-id response header).
  CommetValidationError(CommetAPIError): same plus validation_errors {field: [message, ...]};
    raised when code == "validation_error" and details is a list; keeps the real HTTP status.
"""

from __future__ import annotations

import pytest

from commet import CommetAPIError, CommetValidationError

from support import ERROR_KEYS, REQUEST_ID, base62


@pytest.mark.parametrize("prefix", ["ck_sandbox_", "ck_live_"])
def test_unknown_key_is_401_unauthorized(make_client, wire, prefix):
    stranger = make_client(prefix + base62(32))

    with pytest.raises(CommetAPIError) as caught:
        stranger.customers.list()
    error = caught.value

    assert not isinstance(error, CommetValidationError)
    assert error.status_code == 401
    assert error.code == "unauthorized"
    assert error.type == "authentication_error"
    assert isinstance(str(error), str) and str(error)
    assert error.param is None
    assert error.details is None
    assert error.doc_url.endswith("/docs/api-reference/2026-08-27/errors/unauthorized.md"), error.doc_url
    assert REQUEST_ID.match(error.request_id or ""), error.request_id

    # Direct-generation error body: {"error": {six keys}}, no "success".
    exchange = wire.last
    assert exchange.status == 401
    assert set(exchange.body) == {"error"}
    assert set(exchange.body["error"]) == ERROR_KEYS
    assert exchange.body["error"]["message"] == str(error)


def test_a_claim_link_for_a_pair_never_headless_is_404_claim_not_pending(sandbox):
    with pytest.raises(CommetAPIError) as caught:
        sandbox.provisioning.create_claim_link()
    assert (caught.value.status_code, caught.value.code, caught.value.type) == (404, "claim_not_pending", "not_found_error")


def test_unknown_route_is_json_404_not_found(sandbox):
    # Prepaid-period checkouts are not served (a decision of the contract): 404 not_found.
    with pytest.raises(CommetAPIError) as caught:
        sandbox.subscriptions.create_prepaid_periods_checkout("sub_01K00000000000000000000000", periods=2)
    assert caught.value.status_code == 404
    assert caught.value.code == "not_found"
    assert caught.value.type == "not_found_error"
