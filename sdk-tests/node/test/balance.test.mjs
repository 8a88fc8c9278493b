// Balance and credits through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// balance.md §1–§3, §5). Nothing here moves the test clock: timestamps are checked against the
// sandbox clock read around the calls (equal when the clock is frozen, a window in real time).
//
// Wire mapping (dist/index.mjs SubscriptionsResource; prefix /api/v1):
//   subscriptions.adjustBalance({id, amount, reason?, type?})  POST /subscriptions/{id}/balance/adjust
//                                  body {amount, reason?, type?} -> BalanceAdjustment
//                                  {amount, newBalance, reason, object:"subscription", livemode}
//   subscriptions.topupBalance({id, amount})  POST /subscriptions/{id}/balance/topup  body {amount}
//                                  -> BalanceTopup {amount, object:"subscription", livemode}
// Invoices: see invoicing.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addMonths,
  assertLegacyList,
  client,
  expectApiError,
  expectValidationError,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  sortedKeys,
  unique,
  unwrap,
} from "./helpers.mjs";
import { newCustomer } from "./fixtures.mjs";
import { assertInvoice, getInvoice, invoiceSeq, planBaseLine, topUpLine } from "./invoicing.mjs";

const PLAN_PRICE = 2900; // cents
const INCLUDED_BALANCE = 50000; // rate scale: $5.00
const INCLUDED_CREDITS = 100;
const ADJUSTMENT_KEYS = ["amount", "livemode", "newBalance", "object", "reason"];
const TOPUP_KEYS = ["amount", "livemode", "object"];
const UNKNOWN_SUBSCRIPTION = "sub_01K3ZZZZZZZZZZZZZZZZZZZZZZ";

async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/** A plan of one consumption model with a monthly price granting balance or credits. */
async function ledgerPlan(sdk, model) {
  const plan = unwrap(
    await sdk.plans.create({ name: unique(`${model} plan`), code: unique(model), consumptionModel: model }),
  );
  assert.equal(plan.consumptionModel, model);
  const grant = model === "balance" ? { includedBalance: INCLUDED_BALANCE } : { includedCredits: INCLUDED_CREDITS };
  const price = unwrap(await sdk.plans.addPrice({ id: plan.id, billingInterval: "monthly", price: PLAN_PRICE, ...grant }));
  assert.equal(price.isDefault, true);
  return plan;
}

async function subscribe(sdk, model) {
  const plan = await ledgerPlan(sdk, model);
  const customer = await newCustomer(sdk, model);
  const sub = unwrap(
    await sdk.subscriptions.create({ customerId: customer.id, planCode: plan.code, billingInterval: "monthly" }),
  );
  assert.equal(sub.status, "active");
  assert.equal(sub.consumptionModel, model);
  assert.deepEqual(sub.features, []);
  return { plan, customer, sub };
}

async function adjust(sdk, params) {
  const adjusted = unwrap(await sdk.subscriptions.adjustBalance(params));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${params.id}/balance/adjust`);
  const { id, ...body } = params;
  assert.deepEqual(JSON.parse(lastExchange().requestBody), body);
  assert.deepEqual(sortedKeys(adjusted), ADJUSTMENT_KEYS, "BalanceAdjustment fields");
  return adjusted;
}

test("balance plan: adjust, overdraw refused, top-up issues a paid balance_topup invoice", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { plan, customer, sub } = await subscribe(sandbox, "balance");
  assert.deepEqual(sub.balance, { remaining: INCLUDED_BALANCE, included: INCLUDED_BALANCE, currency: "usd" });
  assert.equal(sub.credits, null);

  // the opening invoice bills the plan base only
  const [opening, ...rest] = assertLegacyList(await sandbox.invoices.list({ subscriptionId: sub.id }));
  assert.deepEqual(rest, []);
  const openingInvoice = assertInvoice(await getInvoice(sandbox, opening.id), {
    customer,
    subscriptionId: sub.id,
    invoiceType: "recurring",
    planName: plan.name,
    periodStart: sub.startDate,
    periodEnd: addMonths(sub.startDate, 1),
    issuedAt: sub.startDate,
    lines: [planBaseLine(PLAN_PRICE)],
    total: PLAN_PRICE,
  });

  // adjust -20000 -> 30000 left
  const spent = await adjust(sandbox, { id: sub.id, amount: -20000, reason: "usage correction" });
  assert.deepEqual(spent, {
    amount: -20000,
    newBalance: INCLUDED_BALANCE - 20000,
    reason: "usage correction",
    object: "subscription",
    livemode: false,
  });
  const afterSpend = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.deepEqual(afterSpend.balance, { remaining: 30000, included: INCLUDED_BALANCE, currency: "usd" });

  // more than what is left: 400 insufficient_balance, nothing applied
  const refused = await expectApiError(sandbox.subscriptions.adjustBalance({ id: sub.id, amount: -30001 }), {
    status: 400,
    code: "insufficient_balance",
    type: "billing_error",
  });
  assert.deepEqual(refused.details, { remaining: 30000, requested: 30001 });
  const unchanged = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.deepEqual(unchanged.balance, afterSpend.balance, "a refused adjustment changes nothing");

  // a reason is optional (null in the answer)
  const back = await adjust(sandbox, { id: sub.id, amount: 5000 });
  assert.equal(back.reason, null);
  assert.equal(back.newBalance, 35000);

  // top-up 100000 ($10.00) -> balance +100000 and a paid 1000-cent invoice
  const before = await clockNow(sandbox);
  const topup = unwrap(await sandbox.subscriptions.topupBalance({ id: sub.id, amount: 100000 }));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/balance/topup`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { amount: 100000 });
  assert.deepEqual(sortedKeys(topup), TOPUP_KEYS, "BalanceTopup fields");
  assert.deepEqual(topup, { amount: 100000, object: "subscription", livemode: false });
  const after = await clockNow(sandbox);

  const topped = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.deepEqual(topped.balance, { remaining: 135000, included: INCLUDED_BALANCE, currency: "usd" });

  const listed = assertLegacyList(await sandbox.invoices.list({ subscriptionId: sub.id }));
  assert.equal(listed.length, 2);
  const topupItem = listed.find((i) => i.invoiceType === "balance_topup");
  assert.ok(topupItem, `a balance_topup invoice: ${JSON.stringify(listed)}`);
  const issuedAt = topupItem.issueDate;
  assert.ok(before <= issuedAt && issuedAt <= after, `issued between ${before} and ${after}: ${issuedAt}`);
  const topupInvoice = assertInvoice(await getInvoice(sandbox, topupItem.id), {
    customer,
    subscriptionId: sub.id,
    invoiceType: "balance_topup",
    planName: plan.name,
    periodStart: issuedAt,
    periodEnd: issuedAt,
    issuedAt,
    lines: [topUpLine(1000)],
    total: 1000,
  });
  assert.ok(invoiceSeq(topupInvoice.invoiceNumber) > invoiceSeq(openingInvoice.invoiceNumber));

  // by customer, only this customer's two invoices; filtered by type through status paid
  const mine = assertLegacyList(await sandbox.invoices.list({ customerId: customer.externalId, status: "paid" }));
  assert.deepEqual(mine.map((i) => i.id).sort(), [openingInvoice.id, topupInvoice.id].sort());
});

test("credits plan: adjustments in whole credits, overdraw -> insufficient_credits, no top-up", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { sub } = await subscribe(sandbox, "credits");
  assert.deepEqual(sub.credits, { remaining: INCLUDED_CREDITS, included: INCLUDED_CREDITS, purchased: 0 });
  assert.equal(sub.balance, null);

  const granted = await adjust(sandbox, { id: sub.id, amount: 25, reason: "goodwill" });
  assert.deepEqual(granted, { amount: 25, newBalance: 125, reason: "goodwill", object: "subscription", livemode: false });
  const explicit = await adjust(sandbox, { id: sub.id, amount: -5, type: "credits" });
  assert.equal(explicit.newBalance, 120);

  const refused = await expectApiError(sandbox.subscriptions.adjustBalance({ id: sub.id, amount: -121 }), {
    status: 400,
    code: "insufficient_credits",
    type: "billing_error",
  });
  assert.deepEqual(refused.details, { remaining: 120, requested: 121 });
  const after = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  assert.deepEqual(after.credits, { remaining: 120, included: INCLUDED_CREDITS, purchased: 0 });

  // type must match the plan's model; credits plans cannot be topped up
  await expectValidationError(sandbox.subscriptions.adjustBalance({ id: sub.id, amount: 1, type: "balance" }), "type");
  await expectValidationError(sandbox.subscriptions.topupBalance({ id: sub.id, amount: 10000 }), "amount");
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: sub.id })).credits, after.credits);
});

test("balance and invoice errors", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { sub } = await subscribe(sandbox, "balance");

  await expectValidationError(sandbox.subscriptions.adjustBalance({ id: sub.id, amount: 0 }), "amount");
  await expectValidationError(sandbox.subscriptions.adjustBalance({ id: sub.id, amount: 10, type: "credits" }), "type");
  await expectValidationError(sandbox.subscriptions.topupBalance({ id: sub.id, amount: 150 }), "amount");
  await expectValidationError(sandbox.subscriptions.topupBalance({ id: sub.id, amount: 0 }), "amount");
  await expectValidationError(sandbox.subscriptions.topupBalance({ id: sub.id, amount: -100 }), "amount");
  assert.deepEqual(
    unwrap(await sandbox.subscriptions.get({ id: sub.id })).balance,
    { remaining: INCLUDED_BALANCE, included: INCLUDED_BALANCE, currency: "usd" },
    "refused calls change nothing",
  );
  assert.equal(assertLegacyList(await sandbox.invoices.list({ subscriptionId: sub.id })).length, 1, "no top-up invoice");

  const notFound = { status: 404, code: "subscription_not_found", type: "not_found_error" };
  await expectApiError(sandbox.subscriptions.adjustBalance({ id: UNKNOWN_SUBSCRIPTION, amount: 100 }), notFound);
  await expectApiError(sandbox.subscriptions.topupBalance({ id: UNKNOWN_SUBSCRIPTION, amount: 100 }), notFound);
  await expectApiError(sandbox.invoices.get({ id: "inv_01K3ZZZZZZZZZZZZZZZZZZZZZZ" }), {
    status: 404,
    code: "invoice_not_found",
    type: "not_found_error",
  });
  await expectApiError(sandbox.invoices.list({ customerId: unique("ghost") }), {
    status: 404,
    code: "customer_not_found",
    type: "not_found_error",
    param: "customerId",
  });
});
