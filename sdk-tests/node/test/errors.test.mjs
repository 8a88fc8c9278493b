// Authentication errors through @commet/node 7.10.0 (commet-version 2026-07-11).
//
// N7 error classes (dist/index.mjs, src/types/common.ts):
//   CommetAPIError extends CommetError: statusCode, code, details, type, param, docUrl, message
//     (read from body.error.{type,code,message,param,details,doc_url}; defaults api_error/unknown).
//   CommetValidationError extends CommetError (NOT CommetAPIError): only message + validationErrors
//     ({field: [message, ...]}); thrown instead of CommetAPIError when error.code is
//     "validation_error" and error.details is an array. It has no statusCode/code/type/param.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CommetAPIError, CommetValidationError } from "@commet/node";
import {
  base62,
  client,
  lastExchange,
  REQUEST_ID,
  rejection,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
} from "./helpers.mjs";

const ERROR_KEYS = ["code", "details", "doc_url", "message", "param", "type"];

for (const prefix of ["ck_sandbox_", "ck_live_"]) {
  test(`unknown but well-formed ${prefix} key -> 401 unauthorized`, async () => {
    const stranger = client(prefix + base62(32));

    const error = await rejection(stranger.customers.list());

    assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
    assert.ok(!(error instanceof CommetValidationError));
    assert.equal(error.name, "CommetAPIError");
    assert.equal(error.statusCode, 401);
    assert.equal(error.code, "unauthorized");
    assert.equal(error.type, "authentication_error");
    assert.equal(typeof error.message, "string");
    assert.ok(error.message.length > 0);
    assert.equal(error.param, null);
    assert.equal(error.details, null);
    assert.match(error.docUrl, /\/docs\/api-reference\/2026-07-11\/errors\/unauthorized\.md$/);

    // Legacy error envelope on the wire: {"success":false,"error":{six keys}}.
    const wire = lastExchange();
    assert.equal(wire.status, 401);
    assert.match(wire.headers["x-request-id"] ?? "", REQUEST_ID);
    const body = await wire.json();
    assert.deepEqual(sortedKeys(body), ["error", "success"]);
    assert.equal(body.success, false);
    assert.deepEqual(sortedKeys(body.error), ERROR_KEYS);
    assert.equal(body.error.message, error.message);
    assert.equal(body.error.doc_url, error.docUrl);
  });
}

test("unknown routes are JSON 404 not_found", async () => {
  // Every call of this SDK is served, so ask for a path none of them uses, as the SDK would.
  const url = `${process.env.TALLY_URL.replace(/\/+$/, "")}/api/v1/no-such-route`;
  const res = await fetch(url, { headers: { "x-api-key": SANDBOX_KEY, "commet-version": "2026-07-11" } });
  assert.equal(res.status, 404);
  const body = await res.json();
  assert.deepEqual(sortedKeys(body), ["error", "success"]);
  assert.deepEqual([body.success, body.error.code, body.error.type], [false, "not_found", "not_found_error"]);
});

test("a claim link for a pair that was not provisioned headless -> 404 claim_not_pending", async () => {
  const sandbox = client(SANDBOX_KEY);
  const error = await rejection(sandbox.provisioning.createClaimLink());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/claim-link");
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.deepEqual([error.statusCode, error.code, error.type], [404, "claim_not_pending", "not_found_error"]);
});
