// Add-ons on the sandbox test clock through @commet/node 7.10.0 (commet-version 2026-07-11,
// legacy envelope): lifecycle.md §12 scenario 4 ($32.26) to the cent.
//
// Runs with the other clock tests, after every non-clock test (sdk-tests/run), one file at a time.
// The spec's clock starts at 2026-01-01T00:00:00.000Z; the shared clock only moves forward and may
// already be past it, so the test starts at the first 1st of a 31-day month (Jan, Mar, May, Jul,
// Aug, Oct, Dec), 00:00 UTC, after the clock's current time. That keeps the spec's numbers exact:
// a 31-day first period, activation 11 days in (d = 20) -> 5000 × 20/31 = 3225.8 -> 3226; the
// renewal a month after the start bills 9900 + 5000; deactivated on the 10th of that period, the
// next renewal bills 9900.
//
// Wire mapping: testClock.advance({frozenTime}) POST /test-clock moves time only (200 TestClock);
// testClock.processBilling() POST /test-clock/process-billing runs the renewals due. Add-on calls:
// ../lifecycle.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addMonths, addMs, client, DAY_MS, expectApiError, SANDBOX_KEY, unwrap } from "../helpers.mjs";
import { assertInvoice, getInvoice, planBaseLine } from "../invoicing.mjs";
import {
  activateAddon,
  addonLine,
  advanceTo,
  assertAddon,
  assertLegacyPlainSubscription,
  createAddon,
  deactivateAddon,
  expectedAddon,
  firstOfMonthAfter,
  hex16,
  invoicesOf,
  legacyActivation,
  legacyActiveAddon,
  legacyBooleanItem,
  legacyDeactivation,
  listActive,
  newFeature,
  periodDays,
  plainPlan,
  processBilling,
  prorate,
  renewAt,
  subscribePlain,
} from "../lifecycle.mjs";

const PRO_PRICE = 9900;
const SSO_PRICE = 5000;

test("scenario 4: SSO add-on on day 12 of 31 -> 3226; renewal 14900; deactivated on the 10th; renewal 9900", async () => {
  const sandbox = client(SANDBOX_KEY);
  const { plan } = await plainPlan(sandbox, "Pro", PRO_PRICE);
  const sso = await newFeature(sandbox, "boolean", "sso");
  const tag = hex16();
  const addon = await createAddon(sandbox, {
    name: `SSO ${tag}`,
    basePrice: SSO_PRICE,
    featureId: sso.id,
    consumptionModel: "boolean",
  });
  assertAddon(addon, expectedAddon(sso, { name: `SSO ${tag}`, basePrice: SSO_PRICE, consumptionModel: "boolean" }));
  assert.equal(addon.slug, `sso-${tag}`);

  // ---- Setup: the 1st of a 31-day month; pro -> first invoice 9900 -----------------------------
  const start = firstOfMonthAfter(unwrap(await sandbox.testClock.get()).now, 31);
  await advanceTo(sandbox, start);
  await processBilling(sandbox); // whatever else was due; nothing of ours yet
  const { customer, sub } = await subscribePlain(sandbox, plan, "addon-scenario");
  const end1 = addMonths(start, 1);
  const end2 = addMonths(start, 2);
  const end3 = addMonths(start, 3);
  assert.equal(periodDays(start, end1), 31);
  assert.equal(sub.startDate, start, "startDate is the simulated time");
  assert.deepEqual(sub.currentPeriod, { start, end: end1, daysRemaining: 31 });
  const view = (got, { start: s, end: e, now, features }) =>
    assertLegacyPlainSubscription(got, { original: sub, customer, plan, basePrice: PRO_PRICE, start: s, end: e, now, features });

  const [initialItem, ...older] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(older, [], "one invoice at creation");
  const common = { customer, subscriptionId: sub.id, planName: plan.name };
  const initial = assertInvoice(await getInvoice(sandbox, initialItem.id), {
    ...common,
    invoiceType: "recurring",
    periodStart: start,
    periodEnd: end1,
    issuedAt: start,
    lines: [planBaseLine(PRO_PRICE)],
    total: PRO_PRICE,
  });

  // ---- 11 days later (d = 20 of 31): activate -> 3226 -----------------------------------------
  const day12 = addMs(start, 11 * DAY_MS);
  await advanceTo(sandbox, day12);
  assert.equal(prorate(SSO_PRICE, 20, 31), 3226);
  assert.deepEqual(await activateAddon(sandbox, sub.id, addon.id), legacyActivation(addon, 3226));

  const [activationItem, ...rest] = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(rest.map((i) => i.id), [initial.id], "newest first");
  const activationInvoice = assertInvoice(await getInvoice(sandbox, activationItem.id), {
    ...common,
    invoiceType: "addon_activation",
    periodStart: day12,
    periodEnd: end1,
    issuedAt: day12,
    lines: [addonLine(SSO_PRICE, 3226)],
    total: 3226,
  });
  const description = activationInvoice.lineItems[0].description;
  assert.ok(description.includes("20/31 days"), `the line states 20/31 days: ${description}`);

  const active = legacyActiveAddon(addon, "boolean", day12);
  assert.deepEqual(await listActive(sandbox, customer.externalId), [active]);
  view(unwrap(await sandbox.subscriptions.get({ id: sub.id })), {
    start,
    end: end1,
    now: day12,
    features: [legacyBooleanItem(sso)],
  });

  // activate again -> 409; delete while active -> 409; nothing billed by either
  await expectApiError(sandbox.subscriptions.activateAddon({ id: sub.id, addonId: addon.id }), {
    status: 409,
    code: "addon_already_active",
    type: "conflict_error",
  });
  await expectApiError(sandbox.addons.delete({ id: addon.id }), {
    status: 409,
    code: "addon_has_activations",
    type: "conflict_error",
  });
  assert.deepEqual((await invoicesOf(sandbox, sub.id)).map((i) => i.id), [activationItem.id, initial.id]);

  // ---- The renewal: 9900 + 5000 = 14900, the add-on billed for the whole period ---------------
  await renewAt(sandbox, end1);
  const afterRenewal = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(afterRenewal.slice(1).map((i) => i.id), [activationItem.id, initial.id]);
  assert.equal(afterRenewal.length, 3);
  const renewal1 = assertInvoice(await getInvoice(sandbox, afterRenewal[0].id), {
    ...common,
    invoiceType: "recurring",
    periodStart: end1,
    periodEnd: end2,
    issuedAt: end1,
    lines: [planBaseLine(PRO_PRICE), addonLine(SSO_PRICE, SSO_PRICE)],
    total: 14900,
  });
  assert.deepEqual(await listActive(sandbox, customer.id), [active], "still active, activatedAt unchanged");
  view(unwrap(await sandbox.subscriptions.get({ id: sub.id })), {
    start: end1,
    end: end2,
    now: end1,
    features: [legacyBooleanItem(sso)],
  });

  // ---- The 10th of the second period: deactivate, no credit ----------------------------------
  const day10 = addMs(end1, 9 * DAY_MS);
  await advanceTo(sandbox, day10);
  assert.deepEqual(await deactivateAddon(sandbox, sub.id, addon.id), legacyDeactivation(addon, day10));
  assert.deepEqual(await listActive(sandbox, customer.id), []);
  view(unwrap(await sandbox.subscriptions.get({ id: sub.id })), { start: end1, end: end2, now: day10, features: [] });
  assert.deepEqual(
    (await invoicesOf(sandbox, sub.id)).map((i) => i.id),
    [renewal1.id, activationItem.id, initial.id],
    "no credit and no refund for the unused days",
  );

  // ---- The next renewal: the plan alone, 9900 ---------------------------------------------------
  await renewAt(sandbox, end2);
  const all = await invoicesOf(sandbox, sub.id);
  assert.deepEqual(all.slice(1).map((i) => i.id), [renewal1.id, activationItem.id, initial.id]);
  assert.equal(all.length, 4);
  assertInvoice(await getInvoice(sandbox, all[0].id), {
    ...common,
    invoiceType: "recurring",
    periodStart: end2,
    periodEnd: end3,
    issuedAt: end2,
    lines: [planBaseLine(PRO_PRICE)],
    total: PRO_PRICE,
  });
  view(unwrap(await sandbox.subscriptions.get({ id: sub.id })), { start: end2, end: end3, now: end2, features: [] });

  // deactivate again -> 400 addon_not_active; the add-on has no active activation: it can go
  await expectApiError(sandbox.subscriptions.deactivateAddon({ id: sub.id, addonId: addon.id }), {
    status: 400,
    code: "addon_not_active",
    type: "billing_error",
  });
  assert.deepEqual(unwrap(await sandbox.addons.delete({ id: addon.id })), {
    id: addon.id,
    deleted: true,
    object: "addon",
    livemode: false,
  });
  assert.equal((await invoicesOf(sandbox, sub.id)).length, 4);
});
