// Promo codes through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
//   promoCodes.create({code,discountType,discountValue,durationCycles,...})  POST /promo-codes
//   promoCodes.list({limit,cursor})                                          GET  /promo-codes
//   promoCodes.get({id})                                                     GET  /promo-codes/{id}
//   promoCodes.update({id,...})                                              PUT  /promo-codes/{id}
//   subscriptions.create({..., promoCode})                                   POST /subscriptions
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
import { MONTHLY_PRICE, newCustomer, seatPlan } from "./fixtures.mjs";

const sdk = client(SANDBOX_KEY);
const CODE_ID = /^prc_[0-9A-HJKMNP-TV-Z]{26}$/;

/** A code of letters and digits only, unique to this run. */
function newCode(tag) {
  return unique(tag).replace(/[^A-Za-z0-9]/g, "").slice(-40);
}

test("a code is created, read, listed, updated and redeemed with the discount on the first invoice", async () => {
  const text = newCode("LAUNCH");
  const created = unwrap(await sdk.promoCodes.create({ code: text, discountType: "percentage", discountValue: 5000, durationCycles: 3, maxRedemptions: 2 }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/promo-codes");
  assert.match(created.id, CODE_ID);
  assertTimestamp(created.createdAt);
  assert.deepEqual(created, {
    id: created.id,
    code: text,
    discountType: "percentage",
    discountValue: 5000,
    durationCycles: 3,
    billingInterval: null,
    maxRedemptions: 2,
    expiresAt: null,
    isActive: true,
    redemptionCount: 0,
    createdAt: created.createdAt,
    updatedAt: created.createdAt,
    object: "promo_code",
    livemode: false,
  });
  assert.deepEqual(unwrap(await sdk.promoCodes.get({ id: created.id })), created);
  const page = await sdk.promoCodes.list({ limit: 1 });
  assert.equal(requestLine(lastExchange()), "GET /api/v1/promo-codes?limit=1");
  assert.equal(page.data.length, 1);
  assert.equal(page.data[0].id, created.id, "newest first");

  const { plan } = await seatPlan(sdk);
  const customer = await newCustomer(sdk, "promo");
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planId: plan.id, promoCode: text.toLowerCase() }));
  assert.deepEqual(sub.discount, { type: "percentage", value: 5000, name: text, endsAt: sub.discount.endsAt });
  assertTimestamp(sub.discount.endsAt);
  const invoice = (await sdk.invoices.list({ subscriptionId: sub.id })).data[0];
  const full = unwrap(await sdk.invoices.get({ id: invoice.id }));
  assert.deepEqual([full.subtotal, full.discountAmount, full.total], [MONTHLY_PRICE, MONTHLY_PRICE / 2, MONTHLY_PRICE / 2]);
  const discount = full.lineItems.find((l) => l.lineType === "promo_code_discount");
  assert.deepEqual([discount.amount, discount.discountType, discount.discountValue, discount.discountName], [-MONTHLY_PRICE / 2, "percentage", 5000, text]);

  const updated = unwrap(await sdk.promoCodes.update({ id: created.id, maxRedemptions: null, active: false }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/promo-codes/${created.id}`);
  assert.deepEqual([updated.maxRedemptions, updated.isActive, updated.redemptionCount], [null, false, 1]);
  const other = await newCustomer(sdk, "promo-off");
  await expectApiError(sdk.subscriptions.create({ customerId: other.id, planId: plan.id, promoCode: text }), {
    status: 404,
    code: "promo_code_not_found",
    type: "not_found_error",
    param: "promoCode",
  });
});

test("bad codes are refused", async () => {
  const text = newCode("DUP");
  unwrap(await sdk.promoCodes.create({ code: text, discountType: "amount", discountValue: 500 }));
  await expectApiError(sdk.promoCodes.create({ code: text.toLowerCase(), discountType: "amount", discountValue: 500 }), {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
    param: "code",
  });
  await expectValidationError(sdk.promoCodes.create({ code: newCode("FULL"), discountType: "percentage", discountValue: 10000 }), "discountValue");
  await expectValidationError(sdk.promoCodes.create({ code: "not valid!", discountType: "amount", discountValue: 5 }), "code");
  await expectApiError(sdk.promoCodes.get({ id: "prc_01JAAAAAAAAAAAAAAAAAAAAAAA" }), {
    status: 404,
    code: "promo_code_not_found",
    type: "not_found_error",
  });
});

test("a price's introductory offer applies, refuses promo codes, and gives way to custom terms", async () => {
  const { plan, monthly } = await seatPlan(sdk);
  const price = unwrap(await sdk.plans.updatePrice({ id: plan.id, priceId: monthly.id, introOffer: { enabled: true, discountType: "percentage", discountValue: 2000, durationCycles: 2 } }));
  assert.deepEqual(price.introOffer, { enabled: true, discountType: "percentage", discountValue: 2000, durationCycles: 2 });
  const read = unwrap(await sdk.plans.get({ id: plan.id }));
  assert.deepEqual(read.prices.find((p) => p.billingInterval === "monthly").introOffer, price.introOffer);

  const customer = await newCustomer(sdk, "intro");
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planId: plan.id }));
  assert.deepEqual([sub.discount.type, sub.discount.value], ["percentage", 2000]);
  const text = newCode("INTRO");
  unwrap(await sdk.promoCodes.create({ code: text, discountType: "amount", discountValue: 100 }));
  const other = await newCustomer(sdk, "intro-code");
  await expectApiError(sdk.subscriptions.create({ customerId: other.id, planId: plan.id, promoCode: text }), {
    status: 409,
    code: "intro_offer_active",
    type: "conflict_error",
    param: "promoCode",
  });
  const custom = unwrap(await sdk.subscriptions.create({ customerId: other.id, planId: plan.id, introOffer: { discountType: "amount", discountValue: 1000, durationCycles: 1 } }));
  assert.deepEqual([custom.discount.type, custom.discount.value, custom.discount.name], ["amount", 1000, "Custom discount"]);
  const off = unwrap(await sdk.plans.updatePrice({ id: plan.id, priceId: monthly.id, introOffer: { enabled: false, discountType: "percentage", discountValue: 2000, durationCycles: 2 } }));
  assert.equal(off.introOffer, null);
});
