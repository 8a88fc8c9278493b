// Plan groups through @commet/node 7.10.0 (commet-version 2026-07-11, legacy envelope;
// lifecycle.md §1–§3). Nothing here moves the test clock.
//
// Wire mapping (dist/index.mjs PlanGroupsResource; prefix /api/v1; path parameters inserted
// unencoded; bodies = the params minus the path ones, undefined keys dropped):
//   planGroups.list({limit?, cursor?})             GET    /plan-groups?limit=&cursor=
//   planGroups.get({id})                           GET    /plan-groups/{id}       -> PlanGroupDetail
//   planGroups.create({name, description?, isPublic?})  POST /plan-groups         -> PlanGroup
//   planGroups.update({id, name?, description?, isPublic?})  PUT /plan-groups/{id}  -> PlanGroup
//   planGroups.delete({id})                        DELETE /plan-groups/{id}       -> DeletedObject
//   planGroups.addPlan({id, planId, sortOrder?})   POST   /plan-groups/{id}/plans -> AddedPlanToGroup
//   planGroups.removePlan({id, planId})            DELETE /plan-groups/{id}/plans/{planId}
//                                                  -> RemovedPlanFromGroup
//   planGroups.reorderPlans({id, planIds})         PUT    /plan-groups/{id}/plans/reorder
//                                                  -> ReorderedPlans
// Legacy objects: PlanGroup(Detail) "plan_group"; AddedPlanToGroup {success:true},
// RemovedPlanFromGroup {id, removed:true} and ReorderedPlans {reordered:true}, all with object
// "plan_group"; DeletedObject {id, deleted:true, object:"plan_group"}. Plans show their group in
// `planGroupId` and their membership order in `sortOrder` (0 outside a group).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assertLegacyList,
  assertTimestamp,
  client,
  expectApiError,
  expectValidationError,
  lastExchange,
  PLAN_ID,
  requestLine,
  SANDBOX_KEY,
  sleep,
  sortedKeys,
  unique,
  unwrap,
} from "./helpers.mjs";
import { PLAN_GROUP_ID } from "./lifecycle.mjs";

const PLAN_GROUP_KEYS = ["createdAt", "description", "id", "isPublic", "livemode", "name", "object", "updatedAt"];
const UNKNOWN_GROUP = "plg_01J0000000000000000000000Z";
const ADDED = { success: true, object: "plan_group", livemode: false };
const REORDERED = { reordered: true, object: "plan_group", livemode: false };
const GROUP_NOT_FOUND = { status: 404, code: "plan_group_not_found", type: "not_found_error" };
const PLAN_NOT_FOUND = { status: 404, code: "plan_not_found", type: "not_found_error" };

function assertPlanGroup(group, expected) {
  assert.deepEqual(sortedKeys(group), PLAN_GROUP_KEYS, "legacy PlanGroup fields (no plans)");
  assert.match(group.id, PLAN_GROUP_ID);
  assertTimestamp(group.createdAt, "createdAt");
  assertTimestamp(group.updatedAt, "updatedAt");
  assert.ok(group.updatedAt >= group.createdAt, "updatedAt is not before createdAt");
  assert.equal(group.object, "plan_group");
  assert.equal(group.livemode, false);
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(group[key], value, `group.${key}`);
  }
}

async function newGroup(sdk, params = {}) {
  const group = unwrap(await sdk.planGroups.create({ name: unique("Group"), ...params }));
  assert.match(group.id, PLAN_GROUP_ID);
  return group;
}

async function newPlan(sdk, tag = "Tier", params = {}) {
  const plan = unwrap(await sdk.plans.create({ name: unique(tag), code: unique(tag.toLowerCase().replaceAll(" ", "-")), ...params }));
  assert.match(plan.id, PLAN_ID);
  return plan;
}

/** The group's plans as `get` lists them, checking the detail shape. */
async function members(sdk, group) {
  const detail = unwrap(await sdk.planGroups.get({ id: group.id }));
  assert.equal(requestLine(lastExchange()), `GET /api/v1/plan-groups/${group.id}`);
  assert.deepEqual(sortedKeys(detail), [...PLAN_GROUP_KEYS, "plans"].sort(), "legacy PlanGroupDetail fields");
  assert.equal(detail.id, group.id);
  assert.ok(Array.isArray(detail.plans));
  for (const item of detail.plans) assert.deepEqual(sortedKeys(item), ["id", "name", "sortOrder"]);
  return detail.plans;
}

const entry = (plan, sortOrder) => ({ id: plan.id, name: plan.name, sortOrder });

/** The plan's own view of its membership (plans.get). */
async function membership(sdk, plan) {
  const view = unwrap(await sdk.plans.get({ id: plan.id }));
  return { planGroupId: view.planGroupId, sortOrder: view.sortOrder };
}

async function addPlan(sdk, group, planId, sortOrder) {
  const params = sortOrder === undefined ? { id: group.id, planId } : { id: group.id, planId, sortOrder };
  const added = unwrap(await sdk.planGroups.addPlan(params));
  assert.equal(requestLine(lastExchange()), `POST /api/v1/plan-groups/${group.id}/plans`);
  const { id, ...body } = params;
  assert.deepEqual(JSON.parse(lastExchange().requestBody), body);
  assert.equal(lastExchange().status, 200);
  assert.deepEqual(added, ADDED, "AddedPlanToGroup");
  return added;
}

// ---------------------------------------------------------------------------------------------

test("plan group create -> get -> update (legacy PUT) -> delete", async () => {
  const sandbox = client(SANDBOX_KEY);

  // create: isPublic defaults to true
  const name = unique("Standard");
  const created = unwrap(await sandbox.planGroups.create({ name, description: "Self-serve tiers" }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/plan-groups");
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { name, description: "Self-serve tiers" });
  assert.equal(lastExchange().status, 200);
  assertPlanGroup(created, { name, description: "Self-serve tiers", isPublic: true });
  assert.equal(created.createdAt, created.updatedAt, "a new group has updatedAt == createdAt");

  // a private group without description
  const hiddenName = unique("Internal");
  const hidden = unwrap(await sandbox.planGroups.create({ name: hiddenName, isPublic: false }));
  assertPlanGroup(hidden, { name: hiddenName, description: null, isPublic: false });
  assert.notEqual(hidden.id, created.id);

  // get: the PlanGroupDetail, an empty group has plans: []
  assert.deepEqual(unwrap(await sandbox.planGroups.get({ id: created.id })), { ...created, plans: [] });
  assert.equal(requestLine(lastExchange()), `GET /api/v1/plan-groups/${created.id}`);

  // update the name only: description and isPublic stay
  await sleep(10);
  const renamed = unique("Standard renamed");
  const updated = unwrap(await sandbox.planGroups.update({ id: created.id, name: renamed }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plan-groups/${created.id}`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { name: renamed });
  assertPlanGroup(updated, {});
  assert.deepEqual(updated, { ...created, name: renamed, updatedAt: updated.updatedAt });
  assert.ok(updated.updatedAt >= created.updatedAt, "updatedAt does not go back");

  // description can be cleared with null; isPublic flips; the name stays
  const cleared = unwrap(await sandbox.planGroups.update({ id: created.id, description: null, isPublic: false }));
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { description: null, isPublic: false });
  assert.deepEqual(cleared, { ...updated, description: null, isPublic: false, updatedAt: cleared.updatedAt });
  assert.deepEqual(unwrap(await sandbox.planGroups.get({ id: created.id })), { ...cleared, plans: [] });

  // an update needs at least one field
  await expectValidationError(sandbox.planGroups.update({ id: created.id }));
  assert.equal(lastExchange().requestBody, "{}");

  // and back to public with a description
  const reopened = unwrap(
    await sandbox.planGroups.update({ id: created.id, description: "Back again", isPublic: true }),
  );
  assert.deepEqual(reopened, { ...cleared, description: "Back again", isPublic: true, updatedAt: reopened.updatedAt });

  // delete: DeletedObject, then 404 everywhere
  const deleted = unwrap(await sandbox.planGroups.delete({ id: created.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/plan-groups/${created.id}`);
  assert.deepEqual(deleted, { id: created.id, deleted: true, object: "plan_group", livemode: false });
  await expectApiError(sandbox.planGroups.get({ id: created.id }), GROUP_NOT_FOUND);
  await expectApiError(sandbox.planGroups.update({ id: created.id, name: unique("Ghost") }), GROUP_NOT_FOUND);
  await expectApiError(sandbox.planGroups.delete({ id: created.id }), GROUP_NOT_FOUND);
  // the other group is untouched
  assert.deepEqual(unwrap(await sandbox.planGroups.get({ id: hidden.id })), { ...hidden, plans: [] });
});

test("plan group list: newest first, limit and cursor, deleted groups gone", async () => {
  const sandbox = client(SANDBOX_KEY);
  const mine = [];
  for (let i = 0; i < 3; i++) {
    mine.push(await newGroup(sandbox, { name: unique(`List ${i}`) }));
    await sleep(5);
  }
  const newestFirst = [...mine].reverse();

  // one small page
  const first = await sandbox.planGroups.list({ limit: 2 });
  assert.equal(requestLine(lastExchange()), "GET /api/v1/plan-groups?limit=2");
  const firstItems = assertLegacyList(first);
  assert.equal(firstItems.length, 2);
  assert.equal(first.hasMore, true, "at least three groups exist");
  for (const item of firstItems) assertPlanGroup(item, {});

  // walk every page: items are ordered newest first (createdAt descending) across pages
  const seen = [];
  let cursor;
  for (let page = 0; page < 200; page++) {
    const res = await sandbox.planGroups.list({ limit: 2, cursor });
    const items = assertLegacyList(res);
    assert.ok(items.length <= 2, "limit is honoured");
    seen.push(...items);
    if (!res.hasMore) break;
    cursor = res.nextCursor;
  }
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i - 1].createdAt >= seen[i].createdAt, `newest first: ${seen[i - 1].id} before ${seen[i].id}`);
  }
  assert.equal(new Set(seen.map((g) => g.id)).size, seen.length, "no group listed twice");
  const found = seen.filter((g) => mine.some((m) => m.id === g.id));
  assert.deepEqual(found, newestFirst, "our groups, newest first, exactly as created (list items have no plans)");

  // a deleted group is no longer listed
  unwrap(await sandbox.planGroups.delete({ id: mine[1].id }));
  const after = [];
  cursor = undefined;
  for (let page = 0; page < 200; page++) {
    const res = await sandbox.planGroups.list({ limit: 100, cursor });
    after.push(...assertLegacyList(res));
    if (!res.hasMore) break;
    cursor = res.nextCursor;
  }
  assert.deepEqual(
    after.filter((g) => mine.some((m) => m.id === g.id)).map((g) => g.id),
    [mine[2].id, mine[0].id],
  );

  // limit out of range
  await expectValidationError(sandbox.planGroups.list({ limit: 0 }), "limit");
  await expectValidationError(sandbox.planGroups.list({ limit: 101 }), "limit");
});

test("addPlan default and explicit orders, get ordering, plan view, reorder, removePlan", async () => {
  const sandbox = client(SANDBOX_KEY);
  const group = await newGroup(sandbox);
  // created in this order, a few ms apart: a, b, c, d (ties in sortOrder break on plan createdAt)
  const a = await newPlan(sandbox, "Starter");
  await sleep(5);
  const b = await newPlan(sandbox, "Growth");
  await sleep(5);
  const c = await newPlan(sandbox, "Scale");
  await sleep(5);
  const d = await newPlan(sandbox, "Enterprise");
  assert.deepEqual(await membership(sandbox, a), { planGroupId: null, sortOrder: 0 });

  // the first member of an empty group gets 0
  await addPlan(sandbox, group, a.id);
  assert.deepEqual(await membership(sandbox, a), { planGroupId: group.id, sortOrder: 0 });
  assert.deepEqual(await members(sandbox, group), [entry(a, 0)]);

  // explicit orders, equal ones allowed; d joins before c
  await addPlan(sandbox, group, d.id, 5);
  await addPlan(sandbox, group, c.id, 5);
  // default = highest + 1; the plan may be given by its code
  await addPlan(sandbox, group, b.code, undefined);
  assert.deepEqual(await membership(sandbox, b), { planGroupId: group.id, sortOrder: 6 });
  // by sortOrder, then plan createdAt (c was created before d, though it joined later)
  assert.deepEqual(await members(sandbox, group), [entry(a, 0), entry(c, 5), entry(d, 5), entry(b, 6)]);
  for (const [plan, sortOrder] of [[c, 5], [d, 5]]) {
    assert.deepEqual(await membership(sandbox, plan), { planGroupId: group.id, sortOrder });
  }
  // the plans list carries the membership too
  const listed = await sandbox.plans.list({ includePrivate: "true" });
  assert.equal(listed.success, true);
  const listedC = listed.data.find((p) => p.id === c.id);
  assert.ok(listedC, "plans.list lists the member");
  assert.deepEqual({ planGroupId: listedC.planGroupId, sortOrder: listedC.sortOrder }, { planGroupId: group.id, sortOrder: 5 });

  // adding a member again with a sortOrder moves it
  await addPlan(sandbox, group, a.id, 7);
  assert.deepEqual(await membership(sandbox, a), { planGroupId: group.id, sortOrder: 7 });
  assert.deepEqual(await members(sandbox, group), [entry(c, 5), entry(d, 5), entry(b, 6), entry(a, 7)]);

  // reorder: every member once; sortOrder = 0-based position
  const order = [b.id, a.id, d.id, c.id];
  const reordered = unwrap(await sandbox.planGroups.reorderPlans({ id: group.id, planIds: order }));
  assert.equal(requestLine(lastExchange()), `PUT /api/v1/plan-groups/${group.id}/plans/reorder`);
  assert.deepEqual(JSON.parse(lastExchange().requestBody), { planIds: order });
  assert.equal(lastExchange().status, 200);
  assert.deepEqual(reordered, REORDERED);
  const afterReorder = [entry(b, 0), entry(a, 1), entry(d, 2), entry(c, 3)];
  assert.deepEqual(await members(sandbox, group), afterReorder);
  assert.deepEqual(await membership(sandbox, c), { planGroupId: group.id, sortOrder: 3 });
  assert.deepEqual(await membership(sandbox, b), { planGroupId: group.id, sortOrder: 0 });

  // reorder must name every member exactly once, and only members
  const outsider = await newPlan(sandbox, "Outsider");
  for (const planIds of [
    [b.id, a.id, d.id],
    [b.id, a.id, d.id, c.id, c.id],
    [b.id, a.id, d.id, c.id, outsider.id],
    [b.id, a.id, d.id, outsider.id],
    [],
  ]) {
    await expectValidationError(sandbox.planGroups.reorderPlans({ id: group.id, planIds }), "planIds");
  }
  assert.deepEqual(await members(sandbox, group), afterReorder, "rejected reorders change nothing");

  // removePlan: {id: planId, removed: true}; the plan is unlinked, the others keep their order
  const removed = unwrap(await sandbox.planGroups.removePlan({ id: group.id, planId: d.id }));
  assert.equal(requestLine(lastExchange()), `DELETE /api/v1/plan-groups/${group.id}/plans/${d.id}`);
  assert.equal(lastExchange().status, 200);
  assert.deepEqual(removed, { id: d.id, removed: true, object: "plan_group", livemode: false });
  assert.deepEqual(await membership(sandbox, d), { planGroupId: null, sortOrder: 0 });
  assert.deepEqual(await members(sandbox, group), [entry(b, 0), entry(a, 1), entry(c, 3)]);

  // a non-member cannot be removed (neither the one just removed nor one never added)
  for (const planId of [d.id, outsider.id]) {
    const wire = await expectApiError(sandbox.planGroups.removePlan({ id: group.id, planId }), PLAN_NOT_FOUND);
    assert.equal(wire.param, "planId");
  }
  await expectApiError(sandbox.planGroups.removePlan({ id: UNKNOWN_GROUP, planId: a.id }), GROUP_NOT_FOUND);

  // the remaining members can be reordered among themselves; the removed plan may join again
  assert.deepEqual(
    unwrap(await sandbox.planGroups.reorderPlans({ id: group.id, planIds: [c.id, b.id, a.id] })),
    REORDERED,
  );
  await addPlan(sandbox, group, d.id);
  assert.deepEqual(await members(sandbox, group), [entry(c, 0), entry(b, 1), entry(a, 2), entry(d, 3)]);
});

test("one group per plan (409 duplicate), unknown plans and groups, validation errors", async () => {
  const sandbox = client(SANDBOX_KEY);
  const first = await newGroup(sandbox);
  const second = await newGroup(sandbox);
  const plan = await newPlan(sandbox);
  await addPlan(sandbox, first, plan.id);

  // a member of one group cannot join another
  await expectApiError(sandbox.planGroups.addPlan({ id: second.id, planId: plan.id }), {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
  });
  await expectApiError(sandbox.planGroups.addPlan({ id: second.id, planId: plan.id, sortOrder: 3 }), {
    status: 409,
    code: "duplicate",
    type: "conflict_error",
  });
  assert.deepEqual(await membership(sandbox, plan), { planGroupId: first.id, sortOrder: 0 });
  assert.deepEqual(await members(sandbox, second), []);

  // unknown group / plan
  await expectApiError(sandbox.planGroups.get({ id: UNKNOWN_GROUP }), GROUP_NOT_FOUND);
  assert.equal(requestLine(lastExchange()), `GET /api/v1/plan-groups/${UNKNOWN_GROUP}`);
  await expectApiError(sandbox.planGroups.addPlan({ id: UNKNOWN_GROUP, planId: plan.id }), GROUP_NOT_FOUND);
  await expectApiError(
    sandbox.planGroups.reorderPlans({ id: UNKNOWN_GROUP, planIds: [plan.id] }),
    GROUP_NOT_FOUND,
  );
  await expectApiError(sandbox.planGroups.delete({ id: UNKNOWN_GROUP }), GROUP_NOT_FOUND);
  await expectApiError(sandbox.planGroups.addPlan({ id: second.id, planId: unique("ghost") }), PLAN_NOT_FOUND);
  await expectApiError(
    sandbox.planGroups.addPlan({ id: second.id, planId: "pln_01J0000000000000000000000Z" }),
    PLAN_NOT_FOUND,
  );
  // a deleted plan cannot join
  const gone = await newPlan(sandbox, "Gone");
  unwrap(await sandbox.plans.delete({ id: gone.id }));
  await expectApiError(sandbox.planGroups.addPlan({ id: second.id, planId: gone.id }), PLAN_NOT_FOUND);

  // addPlan validation: planId required, sortOrder an integer 0..1 000 000
  const free = await newPlan(sandbox, "Free agent");
  await expectValidationError(sandbox.planGroups.addPlan({ id: second.id }), "planId");
  for (const sortOrder of [-1, 1_000_001, 1.5, "2"]) {
    await expectValidationError(sandbox.planGroups.addPlan({ id: second.id, planId: free.id, sortOrder }), "sortOrder");
  }
  assert.deepEqual(await membership(sandbox, free), { planGroupId: null, sortOrder: 0 }, "nothing joined");
  // the bounds themselves are fine
  await addPlan(sandbox, second, free.id, 1_000_000);
  assert.deepEqual(await members(sandbox, second), [entry(free, 1_000_000)]);

  // create validation: name required, 1..255 chars; description at most 1000 chars
  await expectValidationError(sandbox.planGroups.create({}), "name");
  await expectValidationError(sandbox.planGroups.create({ name: "" }), "name");
  await expectValidationError(sandbox.planGroups.create({ name: "x".repeat(256) }), "name");
  await expectValidationError(
    sandbox.planGroups.create({ name: unique("Long"), description: "d".repeat(1001) }),
    "description",
  );
  await expectValidationError(sandbox.planGroups.create({ name: unique("Bad"), isPublic: "yes" }), "isPublic");
  const longName = unique("Longest").padEnd(255, "n");
  const longest = unwrap(await sandbox.planGroups.create({ name: longName, description: "d".repeat(1000) }));
  assertPlanGroup(longest, { name: longName, description: "d".repeat(1000), isPublic: true });
});

test("plans created with planGroupId join with the default order; deleting the group unlinks them", async () => {
  const sandbox = client(SANDBOX_KEY);
  const group = await newGroup(sandbox);

  const code = unique("basic");
  const first = unwrap(await sandbox.plans.create({ name: unique("Basic"), code, planGroupId: group.id }));
  assert.equal(requestLine(lastExchange()), "POST /api/v1/plans/manage");
  assert.equal(JSON.parse(lastExchange().requestBody).planGroupId, group.id);
  assert.equal(first.planGroupId, group.id);
  assert.equal(first.sortOrder, 0);
  await sleep(5);
  const second = await newPlan(sandbox, "Plus", { planGroupId: group.id });
  assert.equal(second.planGroupId, group.id);
  assert.equal(second.sortOrder, 1);
  assert.deepEqual(unwrap(await sandbox.plans.get({ id: code })), first, "plans.get shows the membership as created");
  assert.deepEqual(await members(sandbox, group), [entry(first, 0), entry(second, 1)]);

  // an unknown group: 404 and no plan
  const orphanCode = unique("orphan");
  await expectApiError(
    sandbox.plans.create({ name: unique("Orphan"), code: orphanCode, planGroupId: UNKNOWN_GROUP }),
    { ...GROUP_NOT_FOUND, param: "planGroupId" },
  );
  await expectApiError(sandbox.plans.get({ id: orphanCode }), PLAN_NOT_FOUND);

  // delete the group: members are unlinked, never deleted
  const deleted = unwrap(await sandbox.planGroups.delete({ id: group.id }));
  assert.deepEqual(deleted, { id: group.id, deleted: true, object: "plan_group", livemode: false });
  for (const plan of [first, second]) {
    const view = unwrap(await sandbox.plans.get({ id: plan.id }));
    assert.equal(view.id, plan.id, "the plan still exists");
    assert.equal(view.planGroupId, null);
    assert.equal(view.sortOrder, 0);
  }
  await expectApiError(sandbox.planGroups.get({ id: group.id }), GROUP_NOT_FOUND);

  // and are free to join another group
  const next = await newGroup(sandbox);
  await addPlan(sandbox, next, second.id);
  await addPlan(sandbox, next, first.id);
  // both default: 0 then 1
  assert.deepEqual(await members(sandbox, next), [entry(second, 0), entry(first, 1)]);
});
