// Customers through @commet/node 7.10.0 (commet-version 2026-07-11, legacy {success,data} envelope).
//
// Wire mapping (dist/index.mjs CustomersResource; every path is prefixed with /api/v1):
//   customers.create(p)      POST /customers        body p (JSON, undefined keys dropped)
//   customers.createBatch(p) POST /customers/batch  body p = {customers:[...]}
//   customers.get({id})      GET  /customers/{id}   id inserted unencoded
//   customers.list(p)        GET  /customers?externalId=&limit=&cursor= (String(value), null/undefined skipped)
//   customers.update({id,…}) PUT  /customers/{id}   body = the other params
// Idempotency: the SDK adds `Idempotency-Key: commet-node-retry-<uuid v4>` to every POST/PUT/PATCH
// (retries defaults to 3 > 0) and reuses it across its own retries; GET and DELETE get none unless
// the caller passes options.idempotencyKey. (src/utils/http.ts request()/generateIdempotencyKey())
import { test } from "node:test";
import assert from "node:assert/strict";
import { CommetAPIError, CommetValidationError } from "@commet/node";
import {
  assertLegacyList,
  assertTimestamp,
  client,
  CUSTOMER_ID,
  findInList,
  lastExchange,
  LIVE_KEY,
  rejection,
  SANDBOX_KEY,
  sleep,
  sortedKeys,
  unique,
} from "./helpers.mjs";

const CUSTOMER_KEYS = [
  "createdAt",
  "documentType",
  "email",
  "externalId",
  "fullName",
  "id",
  "livemode",
  "metadata",
  "object",
  "taxDocument",
  "timezone",
  "updatedAt",
];

/** Asserts a legacy single-object envelope and returns its data. */
function unwrap(res) {
  assert.deepEqual(sortedKeys(res), ["data", "success"], "legacy envelope is exactly {success, data}");
  assert.equal(res.success, true);
  assert.equal(typeof res.data, "object");
  assert.notEqual(res.data, null);
  return res.data;
}

function assertCustomer(customer, expected) {
  assert.deepEqual(sortedKeys(customer), CUSTOMER_KEYS, "Customer fields (catalog.md §2; no address)");
  assert.match(customer.id, CUSTOMER_ID);
  assertTimestamp(customer.createdAt, "createdAt");
  assertTimestamp(customer.updatedAt, "updatedAt");
  assert.equal(customer.object, "customer");
  assert.equal(customer.documentType, null, "documentType is always null in Tally");
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(customer[key], value, `customer.${key}`);
  }
}

test("customer create -> get (id, externalId) -> list -> update -> idempotent re-create", async () => {
  const sandbox = client(SANDBOX_KEY);
  const externalId = unique("cust");
  const email = `${externalId}@example.test`;
  const metadata = { plan_tier: "gold", source: "sdk-tests", seats: 3 };

  // create, with the merchant's own id in `id` (stored as externalId) and an address (stored, not echoed)
  const createRes = await sandbox.customers.create({
    id: externalId,
    email,
    fullName: "Ada Lovelace",
    taxDocument: "B12345678",
    timezone: "Europe/Madrid",
    metadata,
    address: { line1: "1 Test St", city: "Madrid", postalCode: "28001", country: "ES" },
  });
  const created = unwrap(createRes);
  assertCustomer(created, {
    externalId,
    email,
    fullName: "Ada Lovelace",
    taxDocument: "B12345678",
    timezone: "Europe/Madrid",
    metadata,
    livemode: false,
  });
  assert.equal(created.createdAt, created.updatedAt, "a new customer has updatedAt == createdAt");
  assert.equal(lastExchange().status, 200);

  // get by cus_ id
  const byId = unwrap(await sandbox.customers.get({ id: created.id }));
  assert.deepEqual(byId, created);

  // get by externalId (fallback lookup)
  const byExternal = unwrap(await sandbox.customers.get({ id: externalId }));
  assert.deepEqual(byExternal, created);

  // list filtered by externalId: exactly this customer, no next page
  const filtered = await sandbox.customers.list({ externalId });
  assert.deepEqual(assertLegacyList(filtered), [created]);
  assert.equal(filtered.hasMore, false);

  // unfiltered list, paging until found
  const listed = await findInList(
    (cursor) => sandbox.customers.list({ limit: 10, cursor }),
    (c) => c.id === created.id,
  );
  assert.deepEqual(listed, created);

  // small page: limit is honoured
  const page = await sandbox.customers.list({ limit: 1 });
  assert.equal(assertLegacyList(page).length, 1);

  // update fullName only (PUT /customers/{id})
  await sleep(10);
  const updated = unwrap(await sandbox.customers.update({ id: created.id, fullName: "Ada King" }));
  assertCustomer(updated, {
    ...created,
    fullName: "Ada King",
    updatedAt: updated.updatedAt,
  });
  assert.equal(updated.createdAt, created.createdAt);
  assert.ok(
    Date.parse(updated.updatedAt) > Date.parse(created.updatedAt),
    `updatedAt must move forward: ${created.updatedAt} -> ${updated.updatedAt}`,
  );
  assert.deepEqual(unwrap(await sandbox.customers.get({ id: created.id })), updated);

  // creating again with the same id returns the existing customer, unchanged
  const again = unwrap(
    await sandbox.customers.create({ id: externalId, email, fullName: "Someone Else" }),
  );
  assert.deepEqual(again, updated);
  assert.equal(lastExchange().status, 200);

  // externalId is an alias of id for the idempotent lookup
  const viaAlias = unwrap(await sandbox.customers.create({ externalId, email }));
  assert.deepEqual(viaAlias, updated);
});

test("customer create with externalId and nothing optional", async () => {
  const sandbox = client(SANDBOX_KEY);
  const externalId = unique("min");
  const email = `${externalId}@example.test`;
  const created = unwrap(await sandbox.customers.create({ externalId, email }));
  assertCustomer(created, {
    externalId,
    email,
    fullName: null,
    taxDocument: null,
    timezone: null,
    metadata: null,
    livemode: false,
  });
});

test("customer without id/externalId always creates a new one", async () => {
  const sandbox = client(SANDBOX_KEY);
  const email = `${unique("anon")}@example.test`;
  const first = unwrap(await sandbox.customers.create({ email }));
  const second = unwrap(await sandbox.customers.create({ email }));
  assertCustomer(first, { externalId: null, email, livemode: false });
  assertCustomer(second, { externalId: null, email, livemode: false });
  assert.notEqual(first.id, second.id);
});

test("unknown customer -> 404 customer_not_found", async () => {
  const sandbox = client(SANDBOX_KEY);
  const error = await rejection(sandbox.customers.get({ id: unique("ghost") }));
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.equal(error.statusCode, 404);
  assert.equal(error.code, "customer_not_found");
  assert.equal(error.type, "not_found_error");
});

test("invalid email -> validation_error keyed by field email", async () => {
  const sandbox = client(SANDBOX_KEY);
  const externalId = unique("bademail");

  const error = await rejection(sandbox.customers.create({ id: externalId, email: "not-an-email" }));

  // N7 turns {code:"validation_error", details:[{field,message}]} into CommetValidationError,
  // which has no statusCode/code (see errors.test.mjs); the status is checked on the wire.
  assert.ok(
    error instanceof CommetValidationError,
    `expected CommetValidationError, got ${error?.name}: ${error?.message}`,
  );
  assert.equal(error.name, "CommetValidationError");
  assert.ok(Array.isArray(error.validationErrors.email), "validationErrors.email must be present");
  assert.ok(error.validationErrors.email.length >= 1);
  for (const message of error.validationErrors.email) {
    assert.equal(typeof message, "string");
    assert.ok(message.length > 0);
  }

  const wire = lastExchange();
  assert.equal(wire.status, 400);
  const body = await wire.json();
  assert.deepEqual(sortedKeys(body), ["error", "success"]);
  assert.equal(body.success, false);
  assert.deepEqual(sortedKeys(body.error), ["code", "details", "doc_url", "message", "param", "type"]);
  assert.equal(body.error.type, "validation_error");
  assert.equal(body.error.code, "validation_error");
  assert.equal(body.error.param, "email");
  assert.equal(body.error.message, error.message);
  assert.match(body.error.doc_url, /\/2026-07-11\/errors\/validation_error\.md$/);
  assert.ok(body.error.details.some((d) => d.field === "email" && typeof d.message === "string"));

  // nothing was created
  const list = await sandbox.customers.list({ externalId });
  assert.deepEqual(assertLegacyList(list), []);
});

test("batch create: one valid, one invalid item", async () => {
  const sandbox = client(SANDBOX_KEY);
  const goodId = unique("batch-ok");
  const badId = unique("batch-bad");
  const good = { id: goodId, email: `${goodId}@example.test`, fullName: "Batch Good" };
  const bad = { id: badId, email: "no-at-sign" };

  const res = await sandbox.customers.createBatch({ customers: [good, bad] });
  assert.equal(lastExchange().status, 200);
  const batch = unwrap(res);
  assert.deepEqual(sortedKeys(batch), ["failed", "livemode", "object", "successful"]);
  assert.equal(batch.object, "customer", "legacy CustomerBatch object name is 'customer'");
  assert.equal(batch.livemode, false);

  assert.equal(batch.successful.length, 1);
  const [ok] = batch.successful;
  assert.deepEqual(sortedKeys(ok), ["email", "externalId", "id"]);
  assert.match(ok.id, CUSTOMER_ID);
  assert.equal(ok.externalId, goodId);
  assert.equal(ok.email, good.email);

  assert.equal(batch.failed.length, 1);
  const [failed] = batch.failed;
  assert.deepEqual(sortedKeys(failed), ["data", "error", "index"]);
  assert.equal(failed.index, 1);
  assert.equal(typeof failed.error, "string");
  assert.ok(failed.error.length > 0);
  assert.deepEqual(failed.data, bad, "failed[].data echoes the submitted item");

  // the good one exists, the bad one does not
  assertCustomer(unwrap(await sandbox.customers.get({ id: ok.id })), {
    id: ok.id,
    externalId: goodId,
    email: good.email,
    fullName: "Batch Good",
    livemode: false,
  });
  assert.deepEqual(assertLegacyList(await sandbox.customers.list({ externalId: badId })), []);
});

test("live key: livemode true, and the sandbox org cannot see live customers", async () => {
  const live = client(LIVE_KEY);
  const sandbox = client(SANDBOX_KEY);
  const externalId = unique("live");
  const email = `${externalId}@example.test`;

  const liveCustomer = unwrap(await live.customers.create({ id: externalId, email }));
  assertCustomer(liveCustomer, { externalId, email, livemode: true });
  assert.deepEqual(unwrap(await live.customers.get({ id: liveCustomer.id })), liveCustomer);
  const liveList = await live.customers.list({ externalId });
  assert.deepEqual(assertLegacyList(liveList), [liveCustomer]);

  // IDs are not valid across the paired orgs
  const error = await rejection(sandbox.customers.get({ id: liveCustomer.id }));
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.equal(error.statusCode, 404);
  assert.equal(error.code, "customer_not_found");
  assert.deepEqual(assertLegacyList(await sandbox.customers.list({ externalId })), []);

  // the same externalId in the sandbox org is a different customer
  const sandboxCustomer = unwrap(await sandbox.customers.create({ id: externalId, email }));
  assertCustomer(sandboxCustomer, { externalId, email, livemode: false });
  assert.notEqual(sandboxCustomer.id, liveCustomer.id);
});
