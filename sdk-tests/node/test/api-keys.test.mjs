// API keys through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
// Wire mapping (dist/index.mjs ApiKeysResource, prefix /api/v1):
//   apiKeys.list(p)      GET    /api-keys?limit=&cursor=
//   apiKeys.create(p)    POST   /api-keys        body {name, expiresInDays?}  (+ auto Idempotency-Key)
//   apiKeys.delete({id}) DELETE /api-keys/{id}   no body, but Content-Type: application/json is still
//                                                sent; no Idempotency-Key
import { test } from "node:test";
import assert from "node:assert/strict";
import { CommetAPIError } from "@commet/node";
import {
  API_KEY_ID,
  assertLegacyList,
  assertTimestamp,
  client,
  findInList,
  LIVE_KEY,
  LIVE_SECRET,
  rejection,
  SANDBOX_KEY,
  SANDBOX_SECRET,
  sortedKeys,
  unique,
} from "./helpers.mjs";

const DAY_MS = 24 * 60 * 60 * 1000;

function unwrap(res) {
  assert.deepEqual(sortedKeys(res), ["data", "success"], "legacy envelope is exactly {success, data}");
  assert.equal(res.success, true);
  return res.data;
}

function assertCreatedKey(created, { name, livemode, secret }) {
  assert.deepEqual(sortedKeys(created), [
    "apiKey",
    "createdAt",
    "expiresAt",
    "id",
    "livemode",
    "name",
    "object",
    "prefix",
  ]);
  assert.match(created.id, API_KEY_ID);
  assert.equal(created.name, name);
  assert.match(created.apiKey, secret);
  assert.equal(created.prefix, created.apiKey.slice(0, 15), "prefix = first 15 chars of the secret");
  assertTimestamp(created.createdAt, "createdAt");
  assertTimestamp(created.expiresAt, "expiresAt");
  const lifetime = Date.parse(created.expiresAt) - Date.parse(created.createdAt);
  assert.ok(
    Math.abs(lifetime - 365 * DAY_MS) <= 60_000,
    `default expiry is 365 days after creation, got ${lifetime / DAY_MS} days`,
  );
  assert.equal(created.object, "api_key");
  assert.equal(created.livemode, livemode);
}

async function findKey(c, id) {
  return findInList((cursor) => c.apiKeys.list({ limit: 100, cursor }), (k) => k.id === id);
}

test("api key create -> list -> use -> delete -> rejected", async () => {
  const sandbox = client(SANDBOX_KEY);
  const name = unique("key");

  const created = unwrap(await sandbox.apiKeys.create({ name }));
  assertCreatedKey(created, { name, livemode: false, secret: SANDBOX_SECRET });

  // listed by id, without the secret
  const listed = await findKey(sandbox, created.id);
  assert.ok(listed, "the new key must be listed");
  assert.deepEqual(listed, {
    id: created.id,
    name,
    prefix: created.prefix,
    expiresAt: created.expiresAt,
    lastUsedAt: null,
    createdAt: created.createdAt,
    object: "api_key",
    livemode: false,
  });

  // a client built with the new key works
  const fresh = client(created.apiKey);
  const page = await fresh.customers.list({ limit: 1 });
  assert.ok(assertLegacyList(page).length <= 1);

  // delete (with the original key)
  const deleted = unwrap(await sandbox.apiKeys.delete({ id: created.id }));
  assert.deepEqual(deleted, { id: created.id, deleted: true, object: "api_key", livemode: false });

  // the deleted key is rejected
  const error = await rejection(fresh.customers.list());
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.equal(error.statusCode, 401);
  assert.equal(error.code, "unauthorized");
  assert.equal(error.type, "authentication_error");

  // gone from the list; deleting again is a 404
  assert.equal(await findKey(sandbox, created.id), undefined);
  const again = await rejection(sandbox.apiKeys.delete({ id: created.id }));
  assert.ok(again instanceof CommetAPIError, `expected CommetAPIError, got ${again?.name}: ${again?.message}`);
  assert.equal(again.statusCode, 404);
  assert.equal(again.code, "api_key_not_found");
});

test("a key may delete itself", async () => {
  const sandbox = client(SANDBOX_KEY);
  const created = unwrap(await sandbox.apiKeys.create({ name: unique("self") }));
  const self = client(created.apiKey);
  const deleted = unwrap(await self.apiKeys.delete({ id: created.id }));
  assert.deepEqual(deleted, { id: created.id, deleted: true, object: "api_key", livemode: false });
  const error = await rejection(self.apiKeys.list());
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.equal(error.statusCode, 401);
  assert.equal(error.code, "unauthorized");
});

test("live key creates ck_live_ keys in the live org", async () => {
  const live = client(LIVE_KEY);
  const sandbox = client(SANDBOX_KEY);
  const name = unique("live-key");

  const created = unwrap(await live.apiKeys.create({ name, expiresInDays: 30 }));
  assert.match(created.apiKey, LIVE_SECRET);
  assert.equal(created.livemode, true);
  assert.equal(created.object, "api_key");
  assert.equal(created.name, name);
  const lifetime = Date.parse(created.expiresAt) - Date.parse(created.createdAt);
  assert.ok(Math.abs(lifetime - 30 * DAY_MS) <= 60_000, `expiresInDays:30, got ${lifetime / DAY_MS} days`);

  const listed = await findKey(live, created.id);
  assert.ok(listed, "listed in the live org");
  assert.equal(listed.livemode, true);
  assert.equal(await findKey(sandbox, created.id), undefined, "not listed in the sandbox org");

  const withNewKey = unwrap(await client(created.apiKey).customers.create({
    id: unique("via-live-key"),
    email: `${unique("via-live-key")}@example.test`,
  }));
  assert.equal(withNewKey.livemode, true);

  const deleted = unwrap(await live.apiKeys.delete({ id: created.id }));
  assert.deepEqual(deleted, { id: created.id, deleted: true, object: "api_key", livemode: true });
});
