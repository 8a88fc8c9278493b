// Regional pricing through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope).
//
//   plans.setRegionalPricing({id,currency,exchangeRate,prices,features})  PUT    /plans/{id}/regional
//   plans.setRegionalPrices({id,priceId,overrides})                       PUT    /plans/{id}/prices/{priceId}/regional
//   plans.deleteRegionalPrices({id,priceId})                              DELETE /plans/{id}/prices/{priceId}/regional
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  client,
  expectApiError,
  expectValidationError,
  lastExchange,
  requestLine,
  SANDBOX_KEY,
  unique,
  unwrap,
} from "./helpers.mjs";
import { MONTHLY_PRICE, SEAT_UNIT_PRICE, seatPlan } from "./fixtures.mjs";

const sdk = client(SANDBOX_KEY);

test("a rate derives every price, entries by hand win, and the plan reads them back", async () => {
  const { plan, monthly, yearly, feature } = await seatPlan(sdk);
  const result = unwrap(await sdk.plans.setRegionalPricing({ id: plan.id, currency: "brl", exchangeRate: 5, prices: [{ priceId: yearly.id, price: 400000 }] }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plans/${plan.id}/regional`);
  assert.deepEqual(result, { planId: plan.id, currency: "brl", exchangeRate: 5, pricesConfigured: 2, featuresConfigured: 1, object: "plan", livemode: false });
  const read = unwrap(await sdk.plans.get({ id: plan.id }));
  assert.deepEqual(read.exchangeRates, [{ currency: "brl", exchangeRate: 5 }]);
  const byInterval = Object.fromEntries(read.prices.map((p) => [p.billingInterval, p.regionalPrices]));
  assert.deepEqual(byInterval.monthly, [{ currency: "brl", price: MONTHLY_PRICE * 5, includedBalance: null, autoSynced: true }]);
  assert.deepEqual(byInterval.yearly, [{ currency: "brl", price: 400000, includedBalance: null, autoSynced: false }]);
  const seats = read.features.find((f) => f.code === feature.code);
  assert.deepEqual(seats.regionalPrices, [{ currency: "brl", overageUnitPrice: 1250000, autoSynced: true }]);

  const overrides = unwrap(await sdk.plans.setRegionalPrices({ id: plan.id, priceId: monthly.id, overrides: [{ currency: "eur", price: 8900 }, { currency: "brl", price: 45000 }] }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plans/${plan.id}/prices/${monthly.id}/regional`);
  assert.deepEqual(overrides, { priceId: monthly.id, overrides: [{ currency: "brl", price: 45000 }, { currency: "eur", price: 8900 }], object: "plan", livemode: false });
  const deleted = unwrap(await sdk.plans.deleteRegionalPrices({ id: plan.id, priceId: monthly.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/plans/${plan.id}/prices/${monthly.id}/regional`);
  assert.deepEqual(deleted, { deleted: true, object: "plan", livemode: false });
  const after = unwrap(await sdk.plans.get({ id: plan.id }));
  const monthlyAfter = after.prices.find((p) => p.billingInterval === "monthly");
  assert.deepEqual(monthlyAfter.regionalPrices, [{ currency: "brl", price: MONTHLY_PRICE * 5, includedBalance: null, autoSynced: true }], "the derived entry is back");
});

test("bad regional pricing is refused", async () => {
  const { plan, monthly } = await seatPlan(sdk);
  await expectValidationError(sdk.plans.setRegionalPricing({ id: plan.id, currency: "brl", exchangeRate: 0 }), "exchangeRate");
  await expectValidationError(
    sdk.plans.setRegionalPricing({ id: plan.id, currency: "brl", exchangeRate: 2, introOffers: [{ priceId: monthly.id, discountType: "percentage", discountValue: 10, durationCycles: 1 }] }),
    "introOffers",
  );
  await expectApiError(sdk.plans.setRegionalPricing({ id: plan.id, currency: "brl", exchangeRate: 2, prices: [{ priceId: "pp_01JAAAAAAAAAAAAAAAAAAAAAAA", price: 1 }] }), {
    status: 404,
    code: "price_not_found",
    type: "not_found_error",
  });
  await expectValidationError(sdk.plans.setRegionalPrices({ id: plan.id, priceId: monthly.id, overrides: [] }), "overrides");
  assert.deepEqual(unwrap(await sdk.plans.get({ id: plan.id })).exchangeRates, [], "nothing was set");
});

test("a customer in the rate's country is billed in its currency, extra seats included", async () => {
  const { plan, feature } = await seatPlan(sdk);
  unwrap(await sdk.plans.setRegionalPricing({ id: plan.id, currency: "brl", exchangeRate: 5 }));
  const customer = unwrap(await sdk.customers.create({ email: `${unique("rio")}@example.test`, address: { line1: "Rua 1", city: "Rio", country: "BR" } }));
  const sub = unwrap(await sdk.subscriptions.create({ customerId: customer.id, planId: plan.id, initialSeats: { [feature.code]: 7 } }));
  const invoice = unwrap(await sdk.invoices.get({ id: (await sdk.invoices.list({ subscriptionId: sub.id })).data[0].id }));
  // The base × 5, and two extra seats at 25.00 × 5 each.
  assert.equal(invoice.currency, "brl");
  assert.equal(invoice.total, MONTHLY_PRICE * 5 + 2 * ((SEAT_UNIT_PRICE * 5) / 100));
  unwrap(await sdk.subscriptions.cancel({ id: sub.id, immediate: true }));
});
