// Plan changes through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// lifecycle.md §4, §12 scenario 3). Nothing here moves the test clock: the prorated upgrade
// scenarios on the clock are in test/clock/plan-changes.test.mjs. Changes made right after
// subscribing have d = P (ceil((E − t) / 1 day) with t a few ms after the start, or equal to it
// on a frozen clock), so the whole paid base is credited and the amounts are exact either way.
// No test here leaves a scheduled change pending (the clock tests would run it later).
//
// Wire mapping (dist/index.mjs SubscriptionsResource; prefix /api/v1):
//   subscriptions.changePlan({id, newPlanId?, newBillingInterval?, successUrl?})
//                                     POST /subscriptions/{id}/change-plan  body = params minus id
//   subscriptions.previewChange({id, planId, billingInterval?})
//                                     POST /subscriptions/{id}/preview-change
// Legacy results: PlanChange without `outcome`, object "subscription"; PreviewChange object
// "subscription". Errors: seat_limit_exceeded (billing_error), plans_not_in_same_group,
// no_change_requested (validation_error type, code of their own: N7 throws CommetAPIError),
// malformed bodies validation_error (N7 throws CommetValidationError).
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
  unique,
  unwrap,
} from "./helpers.mjs";
import { getInvoice, INVOICE_ID, planBaseLine } from "./invoicing.mjs";
import {
  assertLegacyCompleted,
  assertLegacyPreview,
  assertLegacySubscriptionOn,
  assertPlanChangeInvoice,
  BUSINESS,
  changePlan,
  periodDays,
  PRO,
  previewChange,
  prorationCreditLine,
  standardCatalog,
  subscribeToPro,
  TEAM,
} from "./lifecycle.mjs";

const UNKNOWN_SUBSCRIPTION = "sub_01J0000000000000000000000Z";

async function clockNow(sdk) {
  return unwrap(await sdk.testClock.get()).now;
}

/** The invoices of one subscription, newest first. */
async function invoicesOf(sdk, subscriptionId) {
  const res = await sdk.invoices.list({ subscriptionId, limit: 10 });
  assert.equal(res.hasMore, false);
  return assertLegacyList(res);
}

test("scenario 3: seat limit, plans outside the group, no change, malformed and unknown -> errors", async () => {
  const sandbox = client(SANDBOX_KEY);
  const catalog = await standardCatalog(sandbox);
  const { feature, pro, business, team, solo, group } = catalog;
  const { sub } = await subscribeToPro(sandbox, catalog, 12, "change-errors");
  const before = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  const [initial] = await invoicesOf(sandbox, sub.id);
  assert.equal(initial.total, PRO.price + 7 * 2500, "first invoice: 9900 + 7 x 2500");

  // to team: immediate (higher sortOrder), but 12 seats > 10 included with overage off
  const seatLimit = { featureCode: feature.code, currentSeats: 12, included: TEAM.included };
  let wire = await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: team.id }), {
    status: 400,
    code: "seat_limit_exceeded",
    type: "billing_error",
    param: "newPlanId",
  });
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/change-plan`);
  assert.deepEqual(wire.details, seatLimit);
  wire = await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: team.id }), {
    status: 400,
    code: "seat_limit_exceeded",
    type: "billing_error",
    param: "planId",
  });
  assert.equal(requestLine(lastExchange()), `POST /api/v1/subscriptions/${sub.id}/preview-change`);
  assert.deepEqual(wire.details, seatLimit);

  // to solo: not in the group
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: solo.id }), {
    status: 400,
    code: "plans_not_in_same_group",
    type: "validation_error",
    param: "newPlanId",
  });
  await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: solo.id }), {
    status: 400,
    code: "plans_not_in_same_group",
    type: "validation_error",
    param: "planId",
  });

  // to pro, monthly: the plan and interval it is on (by id, and by code with the interval)
  const noChange = { status: 400, code: "no_change_requested", type: "validation_error" };
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: pro.id }), noChange);
  await expectApiError(
    sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: pro.code, newBillingInterval: "monthly" }),
    noChange,
  );
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { newPlanId: pro.code, newBillingInterval: "monthly" });
  await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: pro.id }), noChange);

  // malformed: nothing requested, no planId, an interval this version does not know
  await expectValidationError(sandbox.subscriptions.changePlan({ id: sub.id }));
  assert.equal(lastExchange().requestBody, "{}");
  await expectValidationError(sandbox.subscriptions.previewChange({ id: sub.id }), "planId");
  await expectValidationError(
    sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: business.id, newBillingInterval: "semiannual" }),
    "newBillingInterval",
  );
  await expectValidationError(
    sandbox.subscriptions.changePlan({ id: sub.id, newBillingInterval: "fortnightly" }),
    "newBillingInterval",
  );

  // unknown target plan, unknown subscription
  const planNotFound = { status: 404, code: "plan_not_found", type: "not_found_error" };
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: unique("ghost") }), planNotFound);
  await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: unique("ghost") }), planNotFound);
  const subNotFound = { status: 404, code: "subscription_not_found", type: "not_found_error" };
  await expectApiError(
    sandbox.subscriptions.changePlan({ id: UNKNOWN_SUBSCRIPTION, newPlanId: business.id }),
    subNotFound,
  );
  await expectApiError(
    sandbox.subscriptions.previewChange({ id: UNKNOWN_SUBSCRIPTION, planId: business.id }),
    subNotFound,
  );

  // business with 12 seats is allowed (overage on): a preview only, full charge for 2 extra seats
  const p = periodDays(before.currentPeriod.start, before.currentPeriod.end);
  const t0 = await clockNow(sandbox);
  const preview = await previewChange(sandbox, sub.id, business.id);
  const t1 = await clockNow(sandbox);
  assert.ok(t0 <= preview.effectiveDate && preview.effectiveDate <= t1, `effectiveDate ${preview.effectiveDate} is now`);
  assertLegacyPreview(preview, {
    credit: PRO.price, // d = P: the whole paid base
    charge: BUSINESS.price + 2 * 2000, // 33900
    total: BUSINESS.price + 2 * 2000 - PRO.price, // 24000
    effectiveDate: preview.effectiveDate,
    d: p,
    p,
  });

  // nothing above changed the subscription or billed anything
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: sub.id })), before);
  assert.deepEqual((await invoicesOf(sandbox, sub.id)).map((i) => i.id), [initial.id]);

  // a plan removed from the group keeps its subscriptions, which can no longer change plan
  unwrap(await sandbox.planGroups.removePlan({ id: group.id, planId: pro.id }));
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: business.id }), {
    status: 400,
    code: "plans_not_in_same_group",
    type: "validation_error",
    param: "newPlanId",
  });
  await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: business.id }), {
    status: 400,
    code: "plans_not_in_same_group",
    type: "validation_error",
    param: "planId",
  });
  assert.deepEqual(unwrap(await sandbox.subscriptions.get({ id: sub.id })), before);
});

test("a scheduled cancellation or a canceled subscription blocks plan changes", async () => {
  const sandbox = client(SANDBOX_KEY);
  const catalog = await standardCatalog(sandbox);
  const { business } = catalog;
  const { sub } = await subscribeToPro(sandbox, catalog, 6, "change-status");

  // cancellation scheduled -> 409 invalid_subscription_status
  unwrap(await sandbox.subscriptions.cancel({ id: sub.id }));
  const invalid = { status: 409, code: "invalid_subscription_status", type: "conflict_error" };
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: business.id }), invalid);
  await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: business.id }), invalid);

  // uncanceled: the preview is allowed again
  unwrap(await sandbox.subscriptions.uncancel({ id: sub.id }));
  const preview = await previewChange(sandbox, sub.id, business.id);
  assert.equal(preview.isUpgrade, true);
  assert.equal(preview.currentPlanCredit, PRO.price);

  // canceled -> 409 subscription_not_active
  unwrap(await sandbox.subscriptions.cancel({ id: sub.id, immediate: true }));
  assert.equal(unwrap(await sandbox.subscriptions.get({ id: sub.id })).status, "canceled");
  const inactive = { status: 409, code: "subscription_not_active", type: "conflict_error" };
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: business.id }), inactive);
  await expectApiError(sandbox.subscriptions.previewChange({ id: sub.id, planId: business.id }), inactive);
});

test("immediate upgrades right after subscribing: full credit, new period from now, excess credit kept", async () => {
  const sandbox = client(SANDBOX_KEY);
  const catalog = await standardCatalog(sandbox);
  const { feature, pro, business, team } = catalog;
  const { customer, sub } = await subscribeToPro(sandbox, catalog, 8, "upgrade-now");
  const p = periodDays(sub.currentPeriod.start, sub.currentPeriod.end);
  const [initial] = await invoicesOf(sandbox, sub.id);
  assert.equal(initial.total, 17400, "9900 + 3 x 2500");

  // preview pro -> business: credit the whole base, charge the full new price (8 <= 10 seats)
  const preview = await previewChange(sandbox, sub.id, business.id);
  assertLegacyPreview(preview, {
    credit: 9900,
    charge: 29900,
    total: 20000,
    effectiveDate: preview.effectiveDate,
    d: p,
    p,
  });

  // change: completed, billed at once
  const before = await clockNow(sandbox);
  const change = await changePlan(sandbox, sub.id, business.id);
  const after = await clockNow(sandbox);
  const invoiceId = assertLegacyCompleted(change, {
    sub,
    customer,
    from: pro,
    to: business,
    price: BUSINESS.price,
    billing: { credit: 9900, charge: 29900, netAmount: 20000, totalCharged: 20000 },
  });

  // the subscription: business, a new period anchored at the change
  const upgraded = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  const t = upgraded.currentPeriod?.start;
  assert.ok(before <= t && t <= after, `the new period starts at the change (${before} .. ${after}), got ${t}`);
  const end = addMonths(t, 1);
  assertLegacySubscriptionOn(upgraded, {
    original: sub,
    customer,
    plan: business,
    terms: BUSINESS,
    feature,
    seats: 8,
    start: t,
    end,
    now: t,
    updatedAt: t,
  });

  // the plan_change invoice: plan base 29900, proration credit -9900, total 20000
  assertPlanChangeInvoice(await getInvoice(sandbox, invoiceId), {
    customer,
    subscriptionId: sub.id,
    planName: business.name,
    periodStart: t,
    periodEnd: end,
    issuedAt: t,
    lines: [planBaseLine(29900), prorationCreditLine(9900)],
    subtotal: 29900,
    creditApplied: 9900,
    total: 20000,
    days: `${p}/${p}`,
  });
  assert.deepEqual((await invoicesOf(sandbox, sub.id)).map((i) => i.id), [invoiceId, initial.id], "newest first");

  // business again: nothing to change
  await expectApiError(sandbox.subscriptions.changePlan({ id: sub.id, newPlanId: business.id }), {
    status: 400,
    code: "no_change_requested",
    type: "validation_error",
  });

  // business -> team: cheaper, but a higher sortOrder, so immediate (price never decides);
  // credit 29900 > charge 19900: nothing to pay, the 10000 excess becomes customer credit
  const p2 = periodDays(t, end);
  const toTeam = await previewChange(sandbox, sub.id, team.id);
  assertLegacyPreview(toTeam, {
    credit: 29900,
    charge: 19900,
    total: 0,
    effectiveDate: toTeam.effectiveDate,
    d: p2,
    p: p2,
  });
  const teamChange = await changePlan(sandbox, sub.id, team.id);
  const teamInvoiceId = assertLegacyCompleted(teamChange, {
    sub,
    customer,
    from: business,
    to: team,
    price: TEAM.price,
    billing: { credit: 29900, charge: 19900, netAmount: 0, totalCharged: 0, remainingCreditBalance: 10000 },
  });
  assert.match(teamInvoiceId, INVOICE_ID);
  const onTeam = unwrap(await sandbox.subscriptions.get({ id: sub.id }));
  const t2 = onTeam.currentPeriod?.start;
  assert.ok(t <= t2, "the second change is not before the first");
  assertLegacySubscriptionOn(onTeam, {
    original: sub,
    customer,
    plan: team,
    terms: TEAM,
    feature,
    seats: 8,
    start: t2,
    end: addMonths(t2, 1),
    now: t2,
  });
  assertPlanChangeInvoice(await getInvoice(sandbox, teamInvoiceId), {
    customer,
    subscriptionId: sub.id,
    planName: team.name,
    periodStart: t2,
    periodEnd: addMonths(t2, 1),
    issuedAt: t2,
    lines: [planBaseLine(19900), prorationCreditLine(19900)], // −min(credit, charge)
    subtotal: 19900,
    creditApplied: 19900,
    total: 0,
    days: `${p2}/${p2}`,
  });
});
