// Webhooks through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope; webhooks.md,
// seats.md §6, examples.md scenario 3). Nothing here moves the test clock.
//
// Wire mapping (dist/index.mjs, class Webhooks; prefix /api/v1; `commet.webhooks` is an instance
// built with the client's HTTP client, `new Webhooks()` one without, for verification only):
//   webhooks.list({limit?, cursor?})     GET    /webhooks?limit=&cursor=
//   webhooks.create({url, events, description?, apiVersion?})
//                                        POST   /webhooks               (+ auto Idempotency-Key)
//   webhooks.get({id})                   GET    /webhooks/{id}
//   webhooks.update({id, ...fields})     PUT    /webhooks/{id}          body = the fields
//   webhooks.delete({id})                DELETE /webhooks/{id}
//   webhooks.test({id})                  POST   /webhooks/{id}/test     (no body)
// Verification helpers (no HTTP):
//   verify({payload, signature, secret}) -> boolean: false when any of the three is empty, else
//     timingSafeEqual(Buffer.from(signature, "hex"), hex HMAC-SHA256(secret, payload)) (a length
//     mismatch throws inside and yields false). The hex decoding makes it case-insensitive.
//   verifyAndParse({rawBody, signature, secret}) -> JSON.parse(rawBody), or null when verify fails.
//   on(event, handler) + process({rawBody, signature, secret}): verifyAndParse, then calls the
//     handler registered for payload.event with (payload.data, payload); returns the payload.
// Each test runs its own receiver (./receiver.mjs) on 127.0.0.1 (port 0, a random path) that
// records the raw bytes and headers of every request and answers 200 with `Connection: close` (so
// the server never reuses a connection the receiver may be closing), and deletes its endpoints
// before closing it.
// The sandbox organization is shared with every other test file (run in parallel) and with the
// Python suite, so every endpoint receives other tests' events too: deliveries are picked by the
// receiver's own path and by this test's customer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { API_VERSION, Webhooks } from "@commet/node";
import {
  assertTimestamp,
  base62,
  client,
  expectApiError,
  expectValidationError,
  findInList,
  lastExchange,
  LIVE_KEY,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unwrap,
} from "./helpers.mjs";
import { INCLUDED_SEATS, newCustomer, SEAT_UNIT_PRICE, seatPlan } from "./fixtures.mjs";
import { parsed, startReceiver, summary, until } from "./receiver.mjs";

const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
const ENDPOINT_ID = new RegExp(`^whe_${ULID}$`);
const EVENT_ID = new RegExp(`^whev_${ULID}$`);
const DELIVERY_ID = new RegExp(`^whd_${ULID}$`);
const WEBHOOK_SECRET = /^whsec_[0-9A-Za-z]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SIGNATURE = /^[0-9a-f]{64}$/;
const ENDPOINT_KEYS = ["apiVersion", "createdAt", "description", "events", "id", "isActive", "livemode", "object", "url"];
const ENVELOPE_KEYS = ["apiVersion", "data", "event", "id", "mode", "organizationId", "timestamp"];
const SEAT_EVENTS = ["seats.updated", "seats.limit_reached", "customer.state_changed"];

/** The sandbox clock's "now" (real time until the clock is first advanced). */
async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/** Creates an endpoint for `receiver` through the SDK, checks the answer, registers it for cleanup. */
async function createEndpoint(sdk, receiver, events, extra = {}) {
  const created = unwrap(await sdk.webhooks.create({ url: receiver.url, events, ...extra }));
  const wire = lastExchange();
  assert.equal(requestLine(wire), "POST /api/v1/webhooks");
  assert.deepEqual(JSON.parse(wire.requestBody), { url: receiver.url, events, ...extra });
  assert.match(created.id ?? "", ENDPOINT_ID);
  receiver.endpointIds.push(created.id);
  assert.deepEqual(sortedKeys(created), [...ENDPOINT_KEYS, "secretKey"].sort(), "creation answer = endpoint + secretKey");
  assert.match(created.secretKey, WEBHOOK_SECRET);
  assertTimestamp(created.createdAt, "createdAt");
  assert.deepEqual(created, {
    id: created.id,
    url: receiver.url,
    events,
    description: extra.description ?? null,
    isActive: true,
    // webhooks.md §1: no apiVersion pins the endpoint to the creating request's version
    apiVersion: extra.apiVersion ?? API_VERSION,
    createdAt: created.createdAt,
    secretKey: created.secretKey,
    object: "webhook",
    livemode: false,
  });
  return created;
}

/**
 * Checks one delivery: request line and headers, the signature (recomputed over the raw bytes and
 * through the SDK's own Webhooks.verify / verifyAndParse, which must also reject a forged body and
 * a wrong secret) and the envelope. Returns the envelope as verifyAndParse parsed it.
 */
function assertSignedDelivery(sdk, request, { secret, path, apiVersion = API_VERSION }) {
  assert.equal(request.method, "POST");
  assert.equal(request.path, path, "delivered to the endpoint URL as registered");
  const headers = request.headers;
  assert.match(headers["content-type"] ?? "", /^application\/json(;\s*charset=utf-8)?$/i, "Content-Type");
  assert.match(headers["user-agent"] ?? "", /^Tally-Webhooks\/\S+$/, "User-Agent");
  const signature = headers["x-commet-signature"];
  assert.match(signature ?? "", SIGNATURE, "X-Commet-Signature: one lowercase hex HMAC-SHA256, no prefix");
  assert.equal(
    signature,
    createHmac("sha256", secret).update(request.body).digest("hex"),
    "HMAC-SHA256 of the exact body bytes, keyed with the whole whsec_ string",
  );

  // the SDK's own verification
  assert.equal(sdk.webhooks.verify({ payload: request.text, signature, secret }), true, "Webhooks.verify");
  const envelope = sdk.webhooks.verifyAndParse({ rawBody: request.text, signature, secret });
  assert.notEqual(envelope, null, "Webhooks.verifyAndParse");
  assert.deepEqual(envelope, JSON.parse(request.text));

  // ... which does fail: a forged body, the same JSON with other bytes, a wrong secret
  const forged = JSON.stringify({ ...envelope, mode: "live" });
  assert.equal(sdk.webhooks.verify({ payload: forged, signature, secret }), false, "forged body");
  assert.equal(sdk.webhooks.verifyAndParse({ rawBody: forged, signature, secret }), null);
  assert.equal(sdk.webhooks.verify({ payload: `${request.text}\n`, signature, secret }), false, "other bytes");
  const wrong = `whsec_${base62(32)}`;
  assert.notEqual(wrong, secret);
  assert.equal(sdk.webhooks.verify({ payload: request.text, signature, secret: wrong }), false, "wrong secret");
  assert.equal(sdk.webhooks.verifyAndParse({ rawBody: request.text, signature, secret: wrong }), null);
  assert.equal(
    sdk.webhooks.verify({ payload: request.text, signature, secret: secret.slice("whsec_".length) }),
    false,
    "the key is the whole secret, whsec_ included",
  );

  // the envelope (webhooks.md §2) and the headers that repeat it (§3)
  assert.deepEqual(sortedKeys(envelope), ENVELOPE_KEYS, "envelope fields");
  assert.match(envelope.id, EVENT_ID);
  assert.equal(headers["x-commet-event-id"], envelope.id, "X-Commet-Event-Id = id");
  assert.equal(headers["x-commet-event"], envelope.event, "X-Commet-Event = event");
  assert.equal(headers["x-commet-timestamp"], envelope.timestamp, "X-Commet-Timestamp = timestamp");
  assertTimestamp(envelope.timestamp, "timestamp");
  assert.equal(envelope.mode, "sandbox");
  assert.equal(envelope.apiVersion, apiVersion, "shaped for the endpoint's version");
  assert.match(envelope.organizationId, UUID);
  return envelope;
}

// examples.md scenario 3: the exact body bytes, secret and signature of the contract's example.
const EXAMPLE_BODY =
  '{"id":"whev_01K3EVT1","event":"seats.updated","timestamp":"2026-09-16T00:00:00.000Z","organizationId":"8f14e45f-ceea-4e7a-9c3d-1c2b3a4d5e6f","mode":"sandbox","apiVersion":"2026-07-11","data":{"customerId":"user_123","subscriptionId":"sub_01K3SUB1","featureCode":"editor","previousSeats":6,"currentSeats":7}}';
const EXAMPLE_SECRET = "whsec_test_secret";
const EXAMPLE_SIGNATURE = "bf85151b3ebb8329908b1dcd771f29ab5d824fd1e9e141dd1bd9d62d73654dd5";

test("the contract's signed example (examples.md scenario 3) passes Webhooks.verify; altered inputs do not", async () => {
  const hooks = new Webhooks(); // no client needed to verify
  const ok = { payload: EXAMPLE_BODY, signature: EXAMPLE_SIGNATURE, secret: EXAMPLE_SECRET };
  assert.equal(hooks.verify(ok), true);
  assert.deepEqual(hooks.verifyAndParse({ rawBody: EXAMPLE_BODY, signature: EXAMPLE_SIGNATURE, secret: EXAMPLE_SECRET }), JSON.parse(EXAMPLE_BODY));
  // N7 compares the hex-decoded bytes, so the uppercase form passes here (P9 compares strings and rejects it)
  assert.equal(hooks.verify({ ...ok, signature: EXAMPLE_SIGNATURE.toUpperCase() }), true);
  assert.equal(hooks.verify({ ...ok, payload: EXAMPLE_BODY.replace('"currentSeats":7', '"currentSeats":8') }), false);
  assert.equal(hooks.verify({ ...ok, secret: "whsec_test_secreT" }), false);
  assert.equal(hooks.verify({ ...ok, secret: "test_secret" }), false, "the key is the whole string, whsec_ included");
  assert.equal(hooks.verify({ ...ok, signature: `sha256=${EXAMPLE_SIGNATURE}` }), false, "no prefix");
  assert.equal(hooks.verify({ ...ok, signature: null }), false);
});

test("seat add 4 -> 5 (reaching the 5 included) delivers seats.updated, seats.limit_reached and customer.state_changed, signed", async () => {
  const sandbox = client(SANDBOX_KEY);
  const receiver = await startReceiver();
  try {
    const endpoint = await createEndpoint(sandbox, receiver, SEAT_EVENTS);

    const { feature, plan } = await seatPlan(sandbox); // 5 included, overage at $25
    const customer = await newCustomer(sandbox, "hook-cust");
    const sub = unwrap(
      await sandbox.subscriptions.create({
        customerId: customer.id,
        planCode: plan.code,
        billingInterval: "monthly",
        initialSeats: { [feature.code]: 4 },
      }),
    );
    assert.equal(sub.status, "active");

    const before = await clockNow(sandbox);
    const added = unwrap(await sandbox.seats.add({ customerId: customer.externalId, featureCode: feature.code, count: 1 }));
    const after = await clockNow(sandbox);
    assert.equal(added.previousBalance, 4);
    assert.equal(added.newBalance, 5);

    // this customer's deliveries (customerId = the externalId, seats.md §6); state changes from the
    // subscription's creation, if any, carry another trigger
    const ours = (request) => {
      const body = parsed(request);
      if (body?.data?.customerId !== customer.externalId) return false;
      return body.event !== "customer.state_changed" || body.data.trigger === "seats_updated";
    };
    const byEvent = (event) => receiver.mine().filter((r) => ours(r) && parsed(r).event === event);
    await until(
      () => SEAT_EVENTS.every((event) => byEvent(event).length > 0),
      () => `expected ${SEAT_EVENTS.join(", ")} for ${customer.externalId}; ${summary(receiver)}`,
    );

    const envelopes = {};
    for (const event of SEAT_EVENTS) {
      const requests = byEvent(event);
      // one event each; a repeated delivery must be the same event, byte for byte (webhooks.md §6)
      assert.equal(
        new Set(requests.map((r) => parsed(r).id)).size,
        1,
        `exactly one ${event} event for this change: ${requests.map((r) => JSON.stringify(parsed(r).data)).join(", ")}`,
      );
      for (const again of requests.slice(1)) assert.equal(again.text, requests[0].text, `${event} redelivered with other bytes`);
      const envelope = assertSignedDelivery(sandbox, requests[0], { secret: endpoint.secretKey, path: receiver.path });
      assert.equal(envelope.event, event);
      assert.ok(before <= envelope.timestamp && envelope.timestamp <= after, `${event} timestamp ${envelope.timestamp} is the clock at the change (${before} .. ${after})`);
      envelopes[event] = envelope;
    }
    const ids = SEAT_EVENTS.map((event) => envelopes[event].id);
    assert.equal(new Set(ids).size, 3, "one id per event");
    assert.equal(new Set(SEAT_EVENTS.map((event) => envelopes[event].organizationId)).size, 1, "one organization");

    assert.deepEqual(envelopes["seats.updated"].data, {
      customerId: customer.externalId,
      subscriptionId: sub.id,
      featureCode: feature.code,
      previousSeats: 4,
      currentSeats: 5,
    });
    assert.deepEqual(envelopes["seats.limit_reached"].data, {
      customerId: customer.externalId,
      subscriptionId: sub.id,
      featureCode: feature.code,
      currentSeats: 5,
      includedSeats: INCLUDED_SEATS,
    });
    // webhooks.md §5.3, 2026-07-11: features[] is the flat WebhookFeatureAccess
    assert.deepEqual(envelopes["customer.state_changed"].data, {
      customerId: customer.externalId,
      trigger: "seats_updated",
      status: "active",
      subscriptionId: sub.id,
      plan: { id: plan.id, name: plan.name },
      billingInterval: "monthly",
      consumptionModel: "metered",
      features: [
        {
          code: feature.code,
          name: feature.name,
          type: "seats",
          allowed: true,
          enabled: null,
          current: 5,
          included: INCLUDED_SEATS,
          remaining: 0,
          overageQuantity: 0,
          overageUnitPrice: SEAT_UNIT_PRICE,
          unlimited: false,
          overageEnabled: true,
          billedQuantity: null,
        },
      ],
      seats: [{ code: feature.code, current: 5, included: INCLUDED_SEATS, remaining: 0, unlimited: false }],
      credits: null,
      balance: null,
    });

    // the SDK's typed dispatch: on(event, handler) + process() hands each handler its data
    const handled = [];
    const hooks = new Webhooks();
    for (const event of SEAT_EVENTS) hooks.on(event, (data, payload) => handled.push({ event, data, payload }));
    for (const event of SEAT_EVENTS) {
      const request = byEvent(event)[0];
      const signature = request.headers["x-commet-signature"];
      assert.deepEqual(await hooks.process({ rawBody: request.text, signature, secret: endpoint.secretKey }), envelopes[event]);
      // a wrong secret: null, and no handler runs
      assert.equal(await hooks.process({ rawBody: request.text, signature, secret: `whsec_${base62(32)}` }), null);
    }
    assert.deepEqual(
      handled.map((h) => h.event),
      SEAT_EVENTS,
      "each handler ran once, for its own event",
    );
    const [updated] = handled;
    assert.deepEqual(updated.payload, envelopes["seats.updated"]);
    assert.equal(updated.data.featureCode, feature.code);
    assert.equal(updated.data.previousSeats, 4);
    assert.equal(updated.data.currentSeats, 5);
  } finally {
    await receiver.close(sandbox);
  }
});

test("webhooks.test: one signed webhook.test envelope, sent before the call returns; on() handlers ignore it", async () => {
  const sandbox = client(SANDBOX_KEY);
  const receiver = await startReceiver();
  try {
    // an event Tally never emits (webhooks.md §5.1), so only the test send arrives
    const endpoint = await createEndpoint(sandbox, receiver, ["payout.paid"], { description: "test sends" });
    const clockBefore = await clockNow(sandbox);

    const result = unwrap(await sandbox.webhooks.test({ id: endpoint.id }));
    assert.equal(requestLine(lastExchange()), `POST /api/v1/webhooks/${endpoint.id}/test`);
    const clockAfter = await clockNow(sandbox);
    assert.deepEqual(sortedKeys(result), ["deliveredAt", "deliveryId", "livemode", "object", "success"]);
    assert.match(result.deliveryId, DELIVERY_ID);
    assertTimestamp(result.deliveredAt, "deliveredAt");
    assert.deepEqual(result, {
      success: true,
      deliveryId: result.deliveryId,
      deliveredAt: result.deliveredAt,
      object: "webhook",
      livemode: false,
    });

    // synchronous: the receiver already has it, and it was the only request
    const requests = receiver.mine();
    assert.equal(requests.length, 1, summary(receiver));
    const [request] = requests;
    const envelope = assertSignedDelivery(sandbox, request, { secret: endpoint.secretKey, path: receiver.path });
    assert.equal(envelope.event, "webhook.test");
    assert.deepEqual(envelope.data, { webhookId: endpoint.id });
    assert.ok(clockBefore <= envelope.timestamp && envelope.timestamp <= clockAfter, `timestamp ${envelope.timestamp} in [${clockBefore}, ${clockAfter}]`);

    // outside the SDK's event union: process() verifies and returns it, no handler runs
    const handled = [];
    const hooks = new Webhooks().on("seats.updated", () => handled.push("seats.updated"));
    const signature = request.headers["x-commet-signature"];
    assert.deepEqual(await hooks.process({ rawBody: request.text, signature, secret: endpoint.secretKey }), envelope);
    assert.deepEqual(handled, []);

    // a second test send is a new event and a new delivery
    const second = unwrap(await sandbox.webhooks.test({ id: endpoint.id }));
    assert.equal(second.success, true);
    assert.notEqual(second.deliveryId, result.deliveryId);
    assert.equal(receiver.mine().length, 2, summary(receiver));
    const again = assertSignedDelivery(sandbox, receiver.mine()[1], { secret: endpoint.secretKey, path: receiver.path });
    assert.equal(again.event, "webhook.test");
    assert.notEqual(again.id, envelope.id);
  } finally {
    await receiver.close(sandbox);
  }
});

test("webhook endpoints: create, list and get without the secret, update (PUT) only the sent fields, delete -> 404; validation errors", async () => {
  const sandbox = client(SANDBOX_KEY);
  const receiver = await startReceiver();
  try {
    // events Tally never emits (webhooks.md §5.1), so nothing arrives while this test runs
    const created = await createEndpoint(sandbox, receiver, ["payout.paid", "payout.failed"], { description: "payouts" });
    const { secretKey, ...endpoint } = created;
    assert.match(secretKey, WEBHOOK_SECRET);

    // listed and fetched without secretKey
    const listed = await findInList((cursor) => sandbox.webhooks.list({ limit: 100, cursor }), (w) => w.id === created.id);
    assert.ok(listed, "the new endpoint must be listed");
    assert.deepEqual(listed, endpoint, "list item = the endpoint without secretKey");
    const got = unwrap(await sandbox.webhooks.get({ id: created.id }));
    assert.equal(requestLine(lastExchange()), `GET /api/v1/webhooks/${created.id}`);
    assert.deepEqual(got, endpoint, "get = the endpoint without secretKey");

    // update: PUT with only the sent fields; the others keep their values
    const updated = unwrap(await sandbox.webhooks.update({ id: created.id, events: ["payout.created"], isActive: false }));
    assert.equal(requestLine(lastExchange()), `PUT /api/v1/webhooks/${created.id}`);
    assert.deepEqual(JSON.parse(lastExchange().requestBody), { events: ["payout.created"], isActive: false });
    assert.deepEqual(updated, { ...endpoint, events: ["payout.created"], isActive: false });
    assert.deepEqual(unwrap(await sandbox.webhooks.get({ id: created.id })), updated);
    const described = unwrap(await sandbox.webhooks.update({ id: created.id, description: null, isActive: true }));
    assert.deepEqual(described, { ...updated, description: null, isActive: true });
    const repinned = unwrap(await sandbox.webhooks.update({ id: created.id, apiVersion: "2026-08-27" }));
    assert.deepEqual(repinned, { ...described, apiVersion: "2026-08-27" });
    await expectValidationError(sandbox.webhooks.update({ id: created.id, url: "not a url" }), "url");
    assert.deepEqual(unwrap(await sandbox.webhooks.get({ id: created.id })), repinned, "a rejected update changes nothing");

    // an explicit pin at creation
    const pinned = await createEndpoint(sandbox, receiver, ["payout.available"], { apiVersion: "2026-08-27" });
    assert.equal(pinned.apiVersion, "2026-08-27");
    assert.notEqual(pinned.secretKey, secretKey, "one secret per endpoint");

    // delete, then 404 webhook_not_found
    const deleted = unwrap(await sandbox.webhooks.delete({ id: created.id }));
    assert.equal(requestLine(lastExchange()), `DELETE /api/v1/webhooks/${created.id}`);
    assert.deepEqual(deleted, { id: created.id, deleted: true, object: "webhook", livemode: false });
    await expectApiError(sandbox.webhooks.get({ id: created.id }), { status: 404, code: "webhook_not_found", type: "not_found_error" });
    await expectApiError(sandbox.webhooks.delete({ id: created.id }), { status: 404, code: "webhook_not_found", type: "not_found_error" });
    await expectApiError(sandbox.webhooks.test({ id: created.id }), { status: 404, code: "webhook_not_found", type: "not_found_error" });
    assert.equal(
      await findInList((cursor) => sandbox.webhooks.list({ limit: 100, cursor }), (w) => w.id === created.id),
      undefined,
      "gone from the list",
    );

    // validation errors
    await expectValidationError(sandbox.webhooks.create({ url: "not a url", events: SEAT_EVENTS }), "url");
    const unknown = await expectValidationError(sandbox.webhooks.create({ url: receiver.url, events: ["seats.updated", "seats.exploded"] }));
    assert.ok(unknown.details.some((d) => d.field.startsWith("events")), `details name events: ${JSON.stringify(unknown.details)}`);
    assert.match(unknown.param ?? "", /^events/);
    await expectValidationError(sandbox.webhooks.create({ url: receiver.url, events: [] }), "events");
    await expectValidationError(sandbox.webhooks.create({ url: receiver.url, events: SEAT_EVENTS, apiVersion: "2020-01-01" }), "apiVersion");
    // http:// is for sandbox organizations only
    const live = client(LIVE_KEY);
    await expectValidationError(live.webhooks.create({ url: receiver.url, events: SEAT_EVENTS }), "url");
    assert.equal(receiver.mine().length, 0, summary(receiver));
  } finally {
    await receiver.close(sandbox);
  }
});
