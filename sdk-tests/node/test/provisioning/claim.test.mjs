// Claim links through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// payments.md §10.2), against the second server, which sdk-tests/run expects started
// `--headless` (its organization pair has no owner yet). This file issues links and reads their
// page but never completes a claim: the Python suite, which runs after it on the same server,
// completes one. Run it on a fresh server.
//
// Wire mapping (dist/index.mjs ProvisioningResource; prefix /api/v1):
//   provisioning.createClaimLink()   POST /claim-link  body {}
//                                    -> ClaimLink {url, expiresAt, object:"claim_link", livemode}
// The page is used as a browser would, without a key: `GET {url}` with `Accept: application/json`
// answers its state {kind:"claim", status, livemode, organization {name, liveId, sandboxId},
// owner, error, redirectUrl}; a link replaced by a newer one is `410`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertTimestamp, client, DAY_MS, env, lastExchange, LIVE_KEY, requestLine, SANDBOX_KEY, sortedKeys, unwrap } from "../helpers.mjs";

const TALLY = env("TALLY_URL").replace(/\/+$/, "");
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const CLAIM_URL = new RegExp(`^${escapeRegExp(TALLY)}/claim/tok_[^/?#]+$`);

async function pageState(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  return [res.status, res.status === 200 ? await res.json() : null];
}

async function claimLink(sdk, livemode) {
  const link = unwrap(await sdk.provisioning.createClaimLink());
  assert.equal(requestLine(lastExchange()), "POST /api/v1/claim-link");
  assert.equal(lastExchange().requestBody, "{}", "N7 sends an empty object");
  assert.deepEqual(sortedKeys(link), ["expiresAt", "livemode", "object", "url"]);
  assert.match(link.url, CLAIM_URL);
  assertTimestamp(link.expiresAt, "expiresAt");
  assert.deepEqual([link.object, link.livemode], ["claim_link", livemode]);
  return link;
}

test("a headless pair's claim links: either key issues one, valid a week, and each replaces the ones before", async () => {
  const sandbox = client(SANDBOX_KEY);
  const live = client(LIVE_KEY);
  const first = await claimLink(sandbox, false);
  const [status, open] = await pageState(first.url);
  assert.equal(status, 200);
  assert.deepEqual(sortedKeys(open), ["error", "kind", "livemode", "organization", "owner", "redirectUrl", "status"]);
  assert.deepEqual([open.kind, open.status, open.owner, open.livemode], ["claim", "open", null, false]);
  assert.notEqual(open.organization.liveId, open.organization.sandboxId);

  const second = await claimLink(live, true);
  // The live organization runs on real time (the sandbox's clock may have been moved).
  assert.ok(Math.abs(Date.parse(second.expiresAt) - (Date.now() + 7 * DAY_MS)) < 60_000, second.expiresAt);
  assert.equal((await pageState(first.url))[0], 410, "the older link stops working");
  const [, fromLive] = await pageState(second.url);
  assert.deepEqual([fromLive.status, fromLive.livemode, fromLive.organization], ["open", true, open.organization], "both keys name one pair");
});
