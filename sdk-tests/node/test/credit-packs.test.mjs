// Credit packs through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
//   creditPacks.list()                                  GET    /credit-packs
//   creditPacks.create({name,credits,price,...})        POST   /credit-packs/manage
//   creditPacks.update({id,...})                        PUT    /credit-packs/{id}
//   creditPacks.delete({id})                            DELETE /credit-packs/{id}
//   subscriptions.purchaseCredits({id,creditPackId})    POST   /subscriptions/{id}/credits
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertTimestamp,
  client,
  expectApiError,
  expectValidationError,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unique,
  unwrap,
} from "./helpers.mjs";
import { newCustomer } from "./fixtures.mjs";

const sdk = client(SANDBOX_KEY);
const PACK_ID = /^cpk_[0-9A-HJKMNP-TV-Z]{26}$/;

/** A credits plan with a monthly price and 1000 included credits; returns its id. */
async function creditsPlan() {
  const plan = unwrap(await sdk.plans.create({ name: unique("Studio"), code: unique("studio").toLowerCase(), consumptionModel: "credits" }));
  unwrap(await sdk.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: 2900, includedCredits: 1000 }));
  return plan.id;
}

test("a pack is created, listed, bought and deleted", async () => {
  const name = unique("Starter Pack");
  const created = unwrap(await sdk.creditPacks.create({ name, credits: 100, price: 1000 }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/credit-packs/manage");
  assert.match(created.id, PACK_ID);
  assertTimestamp(created.createdAt);
  assert.deepEqual(created, {
    id: created.id,
    name,
    description: null,
    credits: 100,
    price: 1000,
    currency: "usd",
    isActive: true,
    createdAt: created.createdAt,
    updatedAt: created.createdAt,
    object: "credit_pack",
    livemode: false,
  });
  const listed = unwrap(await sdk.creditPacks.list());
  assert.deepEqual(listed.filter((p) => p.id === created.id), [created]);

  const updated = unwrap(await sdk.creditPacks.update({ id: created.id, price: 900, description: "Small top-up" }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/credit-packs/${created.id}`);
  assert.deepEqual([updated.price, updated.description, updated.name, updated.credits], [900, "Small top-up", name, 100]);

  const planId = await creditsPlan();
  const customer = await newCustomer(sdk, "packs");
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planId }));
  const grant = unwrap(await sdk.subscriptions.purchaseCredits({ id: sub.id, creditPackId: created.id }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/credits`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { creditPackId: created.id });
  assert.deepEqual(grant, { credits: 100, object: "subscription", livemode: false });
  const after = unwrap(await sdk.subscriptions.get({ id: sub.id }));
  assert.deepEqual(after.credits, { remaining: 1100, included: 1000, purchased: 100 });
  const invoices = (await sdk.invoices.list({ subscriptionId: sub.id })).data;
  const purchase = invoices.find((i) => i.invoiceType === "credit_purchase");
  assert.deepEqual([purchase.status, purchase.total], ["paid", 900]);

  const deleted = unwrap(await sdk.creditPacks.delete({ id: created.id }));
  assert.deepEqual(deleted, { id: created.id, deleted: true, object: "credit_pack", livemode: false });
  await expectApiError(sdk.subscriptions.purchaseCredits({ id: sub.id, creditPackId: created.id }), {
    status: 404,
    code: "credit_pack_not_found",
    type: "not_found_error",
    param: "creditPackId",
  });
  assert.deepEqual(unwrap(await sdk.subscriptions.get({ id: sub.id })).credits, after.credits, "nothing more was granted");
});

test("bad packs are refused", async () => {
  await expectValidationError(sdk.creditPacks.create({ name: unique("Zero"), credits: 0, price: 100 }), "credits");
  await expectValidationError(sdk.creditPacks.create({ name: unique("Neg"), credits: 5, price: -1 }), "price");
  const name = unique("Taken");
  unwrap(await sdk.creditPacks.create({ name, credits: 5, price: 100 }));
  await expectApiError(sdk.creditPacks.create({ name: name.toUpperCase(), credits: 5, price: 100 }), {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
    param: "name",
  });
});
