// Shared helpers for the @commet/node 7.10.0 tests (API version 2026-07-11, legacy envelope).
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { Commet } from "@commet/node";

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
