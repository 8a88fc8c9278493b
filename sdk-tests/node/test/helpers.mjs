// Shared helpers for the @commet/node 7.10.0 tests (API version 2026-07-11, legacy envelope).
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { Commet, CommetAPIError, CommetValidationError } from "@commet/node";
import { lastExchange as lastExchangeInternal } from "../redirect.mjs";

export { lastExchange, exchanges } from "../redirect.mjs";

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run the tests through sdk-tests/run)`);
  return value;
}

export const SANDBOX_KEY = env("TALLY_SANDBOX_KEY");
export const LIVE_KEY = env("TALLY_LIVE_KEY");

/** A client exactly as a user builds it: only the API key; version, retries, timeout default. */
export function client(apiKey) {
  return new Commet({ apiKey });
}

// IDs: prefix + 26-char Crockford ULID (wire.md §10).
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
export const CUSTOMER_ID = new RegExp(`^cus_${ULID}$`);
export const API_KEY_ID = new RegExp(`^key_${ULID}$`);
export const REQUEST_ID = /^req_[0-9A-Za-z]{24}$/;
export const SANDBOX_SECRET = /^ck_sandbox_[0-9A-Za-z]{32}$/;
export const LIVE_SECRET = /^ck_live_[0-9A-Za-z]{32}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** ISO 8601 UTC with milliseconds and Z, and a real instant. */
export function assertTimestamp(value, label = "timestamp") {
  assert.equal(typeof value, "string", `${label} must be a string, got ${value}`);
  assert.match(value, ISO_MS, `${label} must look like 2026-06-23T14:30:00.000Z`);
  assert.equal(new Date(value).toISOString(), value, `${label} must be a valid instant`);
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export function base62(length) {
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length)) {
      // 248 = 4 * 62: reject the top bytes so every character is equally likely.
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

/** Unique, URL-safe token for external ids, emails and names (both suites share one database). */
export function unique(tag) {
  return `sdk-node-${tag}-${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** Awaits a promise that must reject, returns the error. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the SDK call to throw");
}

export function sortedKeys(object) {
  return Object.keys(object).sort();
}

/** Checks the 2026-07-11 paginated list envelope and returns its data. */
export function assertLegacyList(res) {
  assert.equal(res.success, true);
  assert.ok(Array.isArray(res.data), "data must be an array");
  assert.equal(typeof res.hasMore, "boolean");
  if (res.hasMore) {
    assert.equal(typeof res.nextCursor, "string");
    assert.deepEqual(sortedKeys(res), ["data", "hasMore", "nextCursor", "success"]);
  } else {
    // wire.md §3.3: nextCursor omitted when there is no next page.
    assert.deepEqual(sortedKeys(res), ["data", "hasMore", "success"]);
  }
  return res.data;
}

/**
 * Walks a legacy paginated list (`fetchPage(cursor)` -> envelope) until `predicate` matches.
 * Returns the matching item or undefined after the last page.
 */
export async function findInList(fetchPage, predicate, maxPages = 50) {
  let cursor;
  for (let page = 0; page < maxPages; page++) {
    const res = await fetchPage(cursor);
    const found = assertLegacyList(res).find(predicate);
    if (found) return found;
    if (!res.hasMore) return undefined;
    cursor = res.nextCursor;
  }
  assert.fail(`item not found within ${maxPages} pages`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Catalog, subscriptions and test clock (catalog.md).
// ---------------------------------------------------------------------------------------------

export const FEATURE_ID = new RegExp(`^ftr_${ULID}$`);
export const PLAN_ID = new RegExp(`^pln_${ULID}$`);
export const PRICE_ID = new RegExp(`^pp_${ULID}$`);
export const SUBSCRIPTION_ID = new RegExp(`^sub_${ULID}$`);
export const ERROR_KEYS = ["code", "details", "doc_url", "message", "param", "type"];
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Asserts the legacy single-object envelope `{success:true, data}` and returns `data`. */
export function unwrap(res) {
  assert.deepEqual(sortedKeys(res), ["data", "success"], "legacy envelope is exactly {success, data}");
  assert.equal(res.success, true);
  return res.data;
}

/** A feature code unique to this run: `<tag>_<16 hex>` (codes match ^[a-z0-9_]+$). */
export function featureCode(tag) {
  return `${tag}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/**
 * `iso` plus `months` calendar months, same UTC time of day, day clamped to the target month's
 * last day (catalog.md §6: always computed from the anchor, Jan 31 -> Feb 28 -> Mar 31).
 */
export function addMonths(iso, months) {
  const d = new Date(iso);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const out = new Date(
    Date.UTC(year, month, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()),
  );
  return out.toISOString();
}

export function addMs(iso, ms) {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** catalog.md §6: ceil((end - now) / 24 h), min 0. */
export function daysRemaining(end, now) {
  return Math.max(0, Math.ceil((Date.parse(end) - Date.parse(now)) / DAY_MS));
}

/** Method and `/api/v1/...` path (+ query) of a recorded exchange, as the SDK built it. */
export function requestLine(exchange) {
  const url = new URL(exchange.originalUrl);
  return `${exchange.method} ${url.pathname}${url.search}`;
}

/** The legacy error envelope of the last exchange; checks status and the six error keys. */
export async function wireError(status) {
  const wire = lastExchangeInternal();
  assert.equal(wire.status, status, `HTTP status of ${requestLine(wire)}`);
  const body = await wire.json();
  assert.deepEqual(sortedKeys(body), ["error", "success"]);
  assert.equal(body.success, false);
  assert.deepEqual(sortedKeys(body.error), ERROR_KEYS);
  assert.match(body.error.doc_url, new RegExp(`/2026-07-11/errors/${body.error.code}\\.md$`));
  return body.error;
}

/**
 * Awaits an SDK call that must fail with a non-validation API error and checks it, on the SDK
 * error and on the wire. Returns the wire error object.
 */
export async function expectApiError(promise, { status, code, type, param }) {
  const error = await rejection(promise);
  assert.ok(error instanceof CommetAPIError, `expected CommetAPIError, got ${error?.name}: ${error?.message}`);
  assert.equal(error.statusCode, status, `statusCode (${error.code}: ${error.message})`);
  assert.equal(error.code, code);
  assert.equal(error.type, type);
  const wire = await wireError(status);
  assert.equal(wire.code, code);
  assert.equal(wire.type, type);
  if (param !== undefined) assert.equal(wire.param, param, "error.param");
  return wire;
}

/**
 * Awaits an SDK call that must fail with `400 validation_error` whose `details` is an array of
 * {field, message}: N7 then throws CommetValidationError (no status/code/param on it), so those
 * are checked on the wire. When `param` is given, error.param must equal it and details must name
 * it as a field. Returns the wire error object.
 */
export async function expectValidationError(promise, param) {
  const error = await rejection(promise);
  assert.ok(
    error instanceof CommetValidationError,
    `expected CommetValidationError, got ${error?.name} ${error?.code ?? ""}: ${error?.message}`,
  );
  const wire = await wireError(400);
  assert.equal(wire.type, "validation_error");
  assert.equal(wire.code, "validation_error");
  assert.equal(wire.message, error.message);
  assert.ok(Array.isArray(wire.details), "validation_error details must be an array");
  for (const detail of wire.details) {
    assert.deepEqual(sortedKeys(detail), ["field", "message"]);
    assert.equal(typeof detail.field, "string");
    assert.equal(typeof detail.message, "string");
    assert.ok(detail.message.length > 0);
  }
  if (param !== undefined) {
    assert.equal(wire.param, param, "error.param");
    assert.ok(
      wire.details.some((d) => d.field === param),
      `details must name ${param}: ${JSON.stringify(wire.details)}`,
    );
    assert.ok(Array.isArray(error.validationErrors[param]), `validationErrors.${param}`);
  }
  return wire;
}
