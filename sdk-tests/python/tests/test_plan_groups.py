"""Plan groups through commet-sdk 9.7.0 (commet-version 2026-08-27, direct objects; lifecycle.md
§1–§3). Nothing here moves the test clock.

Wire mapping (commet/resources/plan_groups.py; base_url <TALLY_URL>/api/v1; None values dropped
from bodies, so ``description`` cannot be cleared to null from this SDK):
  plan_groups.list(cursor=, limit=)                 GET    /plan-groups?cursor=&limit=  -> PlanGroupsListResult
  plan_groups.get(id)                               GET    /plan-groups/{id}            -> PlanGroupDetail
  plan_groups.create(name=, description=, is_public=)  POST /plan-groups                -> PlanGroup
  plan_groups.update(id, name=, description=, is_public=)  PATCH /plan-groups/{id}      -> PlanGroup
  plan_groups.delete(id)                            DELETE /plan-groups/{id}            -> DeletedObject
  plan_groups.add_plan(id, plan_id=, sort_order=)   POST   /plan-groups/{id}/plans      -> AddedPlanToGroup
  plan_groups.remove_plan(id, plan_id)              DELETE /plan-groups/{id}/plans/{plan_id}
                                                    -> RemovedPlanFromGroup
  plan_groups.reorder_plans(id, plan_ids=)          PUT    /plan-groups/{id}/plans/reorder -> ReorderedPlans
Direct objects: PlanGroup(Detail) "plan_group"; AddedPlanToGroup {success:true} and
RemovedPlanFromGroup {id, removed:true} "plan_group_membership" (AddedPlanToGroup must not carry a
``data`` key, or P9 would unwrap it as an envelope); ReorderedPlans {reordered:true}
"plan_group_order"; DeletedObject "plan_group". Plans show ``planGroupId`` and ``sortOrder``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from commet.types import AddedPlanToGroup, PlanGroup, PlanGroupDetail, RemovedPlanFromGroup, ReorderedPlans

from support import (
    PLAN_ID,
    assert_direct_list,
    expect_api_error,
    expect_validation_error,
    instant,
    request_line,
    unique,
)

PLAN_GROUP_ID = re.compile(r"^plg_[0-9A-HJKMNP-TV-Z]{26}$")
PLAN_GROUP_KEYS = {"id", "name", "description", "isPublic", "createdAt", "updatedAt", "object", "livemode"}
UNKNOWN_GROUP = "plg_01J0000000000000000000000Z"
ADDED = {"success": True, "object": "plan_group_membership", "livemode": False}
REORDERED = {"reordered": True, "object": "plan_group_order", "livemode": False}
GROUP_NOT_FOUND = {"status": 404, "code": "plan_group_not_found", "type": "not_found_error"}
PLAN_NOT_FOUND = {"status": 404, "code": "plan_not_found", "type": "not_found_error"}


def assert_group_wire(body: Any, **expected: Any) -> dict[str, Any]:
    assert isinstance(body, dict) and set(body) == PLAN_GROUP_KEYS, sorted(body)
    assert PLAN_GROUP_ID.match(body["id"]), body["id"]
    assert instant(body["updatedAt"]) >= instant(body["createdAt"])
    assert body["object"] == "plan_group"
    assert body["livemode"] is False
    for key, value in expected.items():
        assert body[key] == value, f"{key}: {body[key]!r} != {value!r}"
    return body


def assert_sdk_group(group: Any, body: dict[str, Any]) -> None:
    """The SDK's PlanGroup carries the wire values (snake-cased)."""
    assert isinstance(group, (PlanGroup, PlanGroupDetail)), type(group)
    assert (group.id, group.name, group.description, group.is_public) == (
        body["id"],
        body["name"],
        body["description"],
        body["isPublic"],
    )
    assert (group.created_at, group.updated_at, group.object, group.livemode) == (
        body["createdAt"],
        body["updatedAt"],
        "plan_group",
        False,
    )


def new_group(sdk, wire, **params: Any) -> dict[str, Any]:
    """Creates a group; returns its raw wire object."""
    group = sdk.plan_groups.create(**({"name": unique("Group")} | params))
    body = assert_group_wire(wire.last.body)
    assert_sdk_group(group, body)
    return body


def new_plan(sdk, tag: str = "Tier", **params: Any):
    plan = sdk.plans.create(name=unique(tag), code=unique(tag.lower().replace(" ", "-")), **params)
    assert PLAN_ID.match(plan.id), plan.id
    return plan


def entry(plan, sort_order: int) -> dict[str, Any]:
    return {"id": plan.id, "name": plan.name, "sortOrder": sort_order}


def members(sdk, wire, group_id: str) -> list[dict[str, Any]]:
    """The group's ``plans`` as ``get`` lists them (wire), checked against the SDK object."""
    detail = sdk.plan_groups.get(group_id)
    assert request_line(wire.last) == f"GET /api/v1/plan-groups/{group_id}"
    body = wire.last.body
    assert isinstance(body, dict) and set(body) == PLAN_GROUP_KEYS | {"plans"}, sorted(body)
    assert isinstance(detail, PlanGroupDetail)
    assert_sdk_group(detail, body)
    for item in body["plans"]:
        assert set(item) == {"id", "name", "sortOrder"}, item
    assert [(p.id, p.name, p.sort_order) for p in detail.plans] == [
        (p["id"], p["name"], p["sortOrder"]) for p in body["plans"]
    ]
    return body["plans"]


def membership(sdk, wire, plan) -> dict[str, Any]:
    """The plan's own view of its membership (plans.get, on the wire and in the SDK)."""
    view = sdk.plans.get(plan.id)
    body = wire.last.body
    assert (view.plan_group_id, view.sort_order) == (body["planGroupId"], body["sortOrder"])
    return {"planGroupId": body["planGroupId"], "sortOrder": body["sortOrder"]}


def add_plan(sdk, wire, group_id: str, plan_id: str, sort_order: int | None = None) -> None:
    added = sdk.plan_groups.add_plan(group_id, plan_id=plan_id, sort_order=sort_order)
    assert request_line(wire.last) == f"POST /api/v1/plan-groups/{group_id}/plans"
    expected_body = {"planId": plan_id} | ({} if sort_order is None else {"sortOrder": sort_order})
    assert wire.last.request_body == expected_body
    assert wire.last.status == 200
    assert wire.last.body == ADDED, wire.last.body
    assert isinstance(added, AddedPlanToGroup)
    assert added.success is True and added.object == "plan_group_membership" and added.livemode is False


def list_all(sdk, wire, limit: int) -> list[dict[str, Any]]:
    """Every group, page by page (wire items)."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        page = sdk.plan_groups.list(limit=limit, cursor=cursor)
        items = assert_direct_list(wire.last.body)
        assert len(items) <= limit, "limit is honoured"
        assert page.object == "list" and page.has_more is wire.last.body["hasMore"]
        assert [g.id for g in page.data] == [g["id"] for g in items]
        seen.extend(items)
        if not page.has_more:
            return seen
        cursor = page.next_cursor
    raise AssertionError("more than 200 pages")


# ---------------------------------------------------------------------------------------------


def test_plan_group_create_get_update_delete(sandbox, wire):
    name = unique("Standard")
    created = sandbox.plan_groups.create(name=name, description="Self-serve tiers")
    assert request_line(wire.last) == "POST /api/v1/plan-groups"
    assert wire.last.request_body == {"name": name, "description": "Self-serve tiers"}
    assert wire.last.status == 200
    body = assert_group_wire(wire.last.body, name=name, description="Self-serve tiers", isPublic=True)
    assert body["createdAt"] == body["updatedAt"]
    assert_sdk_group(created, body)

    # a private group without description
    hidden_name = unique("Internal")
    hidden = new_group(sandbox, wire, name=hidden_name, is_public=False)
    assert wire.last.request_body == {"name": hidden_name, "isPublic": False}
    assert hidden["description"] is None and hidden["isPublic"] is False
    assert hidden["id"] != body["id"]

    # get: PlanGroupDetail with plans: []
    assert members(sandbox, wire, created.id) == []
    assert {k: v for k, v in wire.last.body.items() if k != "plans"} == body

    # PATCH the name only: description and isPublic stay
    time.sleep(0.01)
    renamed = unique("Standard renamed")
    updated = sandbox.plan_groups.update(created.id, name=renamed)
    assert request_line(wire.last) == f"PATCH /api/v1/plan-groups/{created.id}"
    assert wire.last.request_body == {"name": renamed}
    after_rename = assert_group_wire(wire.last.body)
    assert after_rename == body | {"name": renamed, "updatedAt": after_rename["updatedAt"]}
    assert instant(after_rename["updatedAt"]) >= instant(body["updatedAt"])
    assert_sdk_group(updated, after_rename)

    # isPublic false and a new description; the name stays
    sandbox.plan_groups.update(created.id, description="Only for sales", is_public=False)
    assert wire.last.request_body == {"description": "Only for sales", "isPublic": False}
    after_flip = assert_group_wire(wire.last.body)
    assert after_flip == after_rename | {
        "description": "Only for sales",
        "isPublic": False,
        "updatedAt": after_flip["updatedAt"],
    }
    assert members(sandbox, wire, created.id) == []
    assert {k: v for k, v in wire.last.body.items() if k != "plans"} == after_flip

    # an update needs at least one field (the SDK then sends no body)
    expect_validation_error(wire, lambda: sandbox.plan_groups.update(created.id))
    assert wire.last.request_body is None

    # delete: DeletedObject, then 404
    deleted = sandbox.plan_groups.delete(created.id)
    assert request_line(wire.last) == f"DELETE /api/v1/plan-groups/{created.id}"
    assert wire.last.request_body is None
    assert wire.last.body == {"id": created.id, "deleted": True, "object": "plan_group", "livemode": False}
    assert deleted.id == created.id and deleted.deleted is True and deleted.object == "plan_group"
    expect_api_error(wire, lambda: sandbox.plan_groups.get(created.id), **GROUP_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.plan_groups.update(created.id, name=unique("Ghost")), **GROUP_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.plan_groups.delete(created.id), **GROUP_NOT_FOUND)
    # the other group is untouched
    assert members(sandbox, wire, hidden["id"]) == []
    assert {k: v for k, v in wire.last.body.items() if k != "plans"} == hidden


def test_plan_group_list_newest_first(sandbox, wire):
    mine = []
    for i in range(3):
        mine.append(new_group(sandbox, wire, name=unique(f"List {i}")))
        time.sleep(0.005)
    ids = {g["id"] for g in mine}

    first = sandbox.plan_groups.list(limit=2)
    assert request_line(wire.last) == "GET /api/v1/plan-groups?limit=2"
    items = assert_direct_list(wire.last.body)
    assert len(items) == 2 and wire.last.body["hasMore"] is True, "at least three groups exist"
    assert first.has_more is True and first.next_cursor == wire.last.body["nextCursor"]
    for item in items:
        assert_group_wire(item)
    for sdk_item, raw in zip(first.data, items):
        assert_sdk_group(sdk_item, raw)

    seen = list_all(sandbox, wire, 2)
    stamps = [instant(g["createdAt"]) for g in seen]
    assert stamps == sorted(stamps, reverse=True), "newest first"
    assert len({g["id"] for g in seen}) == len(seen), "no group listed twice"
    assert [g for g in seen if g["id"] in ids] == list(reversed(mine)), "ours, newest first, as created"

    # a deleted group is no longer listed
    sandbox.plan_groups.delete(mine[1]["id"])
    after = list_all(sandbox, wire, 100)
    assert [g["id"] for g in after if g["id"] in ids] == [mine[2]["id"], mine[0]["id"]]

    expect_validation_error(wire, lambda: sandbox.plan_groups.list(limit=0), "limit")
    expect_validation_error(wire, lambda: sandbox.plan_groups.list(limit=101), "limit")


def test_add_plan_orders_reorder_and_remove(sandbox, wire):
    group = new_group(sandbox, wire)
    gid = group["id"]
    # created in this order, a few ms apart (ties in sortOrder break on plan createdAt)
    a = new_plan(sandbox, "Starter")
    time.sleep(0.005)
    b = new_plan(sandbox, "Growth")
    time.sleep(0.005)
    c = new_plan(sandbox, "Scale")
    time.sleep(0.005)
    d = new_plan(sandbox, "Enterprise")
    assert membership(sandbox, wire, a) == {"planGroupId": None, "sortOrder": 0}

    # first member of an empty group: 0
    add_plan(sandbox, wire, gid, a.id)
    assert membership(sandbox, wire, a) == {"planGroupId": gid, "sortOrder": 0}
    assert members(sandbox, wire, gid) == [entry(a, 0)]

    # explicit (equal) orders; d joins before c; then the default = highest + 1, by plan code
    add_plan(sandbox, wire, gid, d.id, 5)
    add_plan(sandbox, wire, gid, c.id, 5)
    add_plan(sandbox, wire, gid, b.code)
    assert membership(sandbox, wire, b) == {"planGroupId": gid, "sortOrder": 6}
    assert members(sandbox, wire, gid) == [entry(a, 0), entry(c, 5), entry(d, 5), entry(b, 6)]
    assert membership(sandbox, wire, c) == {"planGroupId": gid, "sortOrder": 5}
    assert membership(sandbox, wire, d) == {"planGroupId": gid, "sortOrder": 5}
    # The shared sandbox holds more plans than the first page of plans.list (which this SDK
    # cannot page), so c is read by id.
    read_c = sandbox.plans.get(c.id)
    assert (read_c.plan_group_id, read_c.sort_order) == (gid, 5)

    # adding a member again with a sortOrder moves it
    add_plan(sandbox, wire, gid, a.id, 7)
    assert members(sandbox, wire, gid) == [entry(c, 5), entry(d, 5), entry(b, 6), entry(a, 7)]

    # reorder: every member once, sortOrder = 0-based position
    order = [b.id, a.id, d.id, c.id]
    reordered = sandbox.plan_groups.reorder_plans(gid, plan_ids=order)
    assert request_line(wire.last) == f"PUT /api/v1/plan-groups/{gid}/plans/reorder"
    assert wire.last.request_body == {"planIds": order}
    assert wire.last.status == 200
    assert wire.last.body == REORDERED
    assert isinstance(reordered, ReorderedPlans) and reordered.reordered is True
    assert reordered.object == "plan_group_order"
    after_reorder = [entry(b, 0), entry(a, 1), entry(d, 2), entry(c, 3)]
    assert members(sandbox, wire, gid) == after_reorder
    assert membership(sandbox, wire, c) == {"planGroupId": gid, "sortOrder": 3}

    outsider = new_plan(sandbox, "Outsider")
    for plan_ids in (
        [b.id, a.id, d.id],
        [b.id, a.id, d.id, c.id, c.id],
        [b.id, a.id, d.id, c.id, outsider.id],
        [b.id, a.id, d.id, outsider.id],
    ):
        expect_validation_error(wire, lambda: sandbox.plan_groups.reorder_plans(gid, plan_ids=plan_ids), "planIds")
    assert members(sandbox, wire, gid) == after_reorder, "rejected reorders change nothing"

    # remove: {id: planId, removed: true}; unlinked; the others keep their order
    removed = sandbox.plan_groups.remove_plan(gid, d.id)
    assert request_line(wire.last) == f"DELETE /api/v1/plan-groups/{gid}/plans/{d.id}"
    assert wire.last.request_body is None
    assert wire.last.status == 200
    assert wire.last.body == {"id": d.id, "removed": True, "object": "plan_group_membership", "livemode": False}
    assert isinstance(removed, RemovedPlanFromGroup) and removed.id == d.id and removed.removed is True
    assert membership(sandbox, wire, d) == {"planGroupId": None, "sortOrder": 0}
    assert members(sandbox, wire, gid) == [entry(b, 0), entry(a, 1), entry(c, 3)]

    for plan in (d, outsider):
        expect_api_error(wire, lambda: sandbox.plan_groups.remove_plan(gid, plan.id), **PLAN_NOT_FOUND, param="planId")
    expect_api_error(wire, lambda: sandbox.plan_groups.remove_plan(UNKNOWN_GROUP, a.id), **GROUP_NOT_FOUND)

    # the rest can be reordered; the removed plan may join again at the end
    sandbox.plan_groups.reorder_plans(gid, plan_ids=[c.id, b.id, a.id])
    assert wire.last.body == REORDERED
    add_plan(sandbox, wire, gid, d.id)
    assert members(sandbox, wire, gid) == [entry(c, 0), entry(b, 1), entry(a, 2), entry(d, 3)]


def test_one_group_per_plan_unknowns_and_validation(sandbox, wire):
    first = new_group(sandbox, wire)["id"]
    second = new_group(sandbox, wire)["id"]
    plan = new_plan(sandbox)
    add_plan(sandbox, wire, first, plan.id)

    duplicate = {"status": 409, "code": "duplicate", "type": "conflict_error"}
    expect_api_error(wire, lambda: sandbox.plan_groups.add_plan(second, plan_id=plan.id), **duplicate)
    expect_api_error(wire, lambda: sandbox.plan_groups.add_plan(second, plan_id=plan.id, sort_order=3), **duplicate)
    assert membership(sandbox, wire, plan) == {"planGroupId": first, "sortOrder": 0}
    assert members(sandbox, wire, second) == []

    expect_api_error(wire, lambda: sandbox.plan_groups.get(UNKNOWN_GROUP), **GROUP_NOT_FOUND)
    assert request_line(wire.last) == f"GET /api/v1/plan-groups/{UNKNOWN_GROUP}"
    expect_api_error(wire, lambda: sandbox.plan_groups.add_plan(UNKNOWN_GROUP, plan_id=plan.id), **GROUP_NOT_FOUND)
    expect_api_error(
        wire, lambda: sandbox.plan_groups.reorder_plans(UNKNOWN_GROUP, plan_ids=[plan.id]), **GROUP_NOT_FOUND
    )
    expect_api_error(wire, lambda: sandbox.plan_groups.delete(UNKNOWN_GROUP), **GROUP_NOT_FOUND)
    expect_api_error(wire, lambda: sandbox.plan_groups.add_plan(second, plan_id=unique("ghost")), **PLAN_NOT_FOUND)
    expect_api_error(
        wire, lambda: sandbox.plan_groups.add_plan(second, plan_id="pln_01J0000000000000000000000Z"), **PLAN_NOT_FOUND
    )
    gone = new_plan(sandbox, "Gone")
    sandbox.plans.delete(gone.id)
    expect_api_error(wire, lambda: sandbox.plan_groups.add_plan(second, plan_id=gone.id), **PLAN_NOT_FOUND)

    # sortOrder: an integer 0..1 000 000
    free = new_plan(sandbox, "Free agent")
    for sort_order in (-1, 1_000_001, 1.5):
        expect_validation_error(
            wire, lambda: sandbox.plan_groups.add_plan(second, plan_id=free.id, sort_order=sort_order), "sortOrder"
        )
    # plan_id=None is dropped by the SDK, which then sends no body at all
    expect_validation_error(wire, lambda: sandbox.plan_groups.add_plan(second, plan_id=None))
    assert wire.last.request_body is None
    assert membership(sandbox, wire, free) == {"planGroupId": None, "sortOrder": 0}, "nothing joined"
    add_plan(sandbox, wire, second, free.id, 1_000_000)
    assert members(sandbox, wire, second) == [entry(free, 1_000_000)]

    # create: name 1..255 chars, description at most 1000
    expect_validation_error(wire, lambda: sandbox.plan_groups.create(name=""), "name")
    expect_validation_error(wire, lambda: sandbox.plan_groups.create(name="x" * 256), "name")
    expect_validation_error(
        wire, lambda: sandbox.plan_groups.create(name=unique("Long"), description="d" * 1001), "description"
    )
    long_name = unique("Longest").ljust(255, "n")
    longest = new_group(sandbox, wire, name=long_name, description="d" * 1000)
    assert longest["name"] == long_name and longest["description"] == "d" * 1000 and longest["isPublic"] is True


def test_plan_created_in_a_group_and_group_deletion(sandbox, wire):
    gid = new_group(sandbox, wire)["id"]

    code = unique("basic")
    first = sandbox.plans.create(name=unique("Basic"), code=code, plan_group_id=gid)
    assert request_line(wire.last) == "POST /api/v1/plans"
    assert wire.last.request_body["planGroupId"] == gid
    first_body = wire.last.body
    assert (first_body["planGroupId"], first_body["sortOrder"]) == (gid, 0)
    assert (first.plan_group_id, first.sort_order) == (gid, 0)
    time.sleep(0.005)
    second = new_plan(sandbox, "Plus", plan_group_id=gid)
    assert (second.plan_group_id, second.sort_order) == (gid, 1)
    sandbox.plans.get(code)
    assert wire.last.body == first_body, "plans.get shows the membership as created"
    assert members(sandbox, wire, gid) == [entry(first, 0), entry(second, 1)]

    orphan = unique("orphan")
    expect_api_error(
        wire,
        lambda: sandbox.plans.create(name=unique("Orphan"), code=orphan, plan_group_id=UNKNOWN_GROUP),
        **GROUP_NOT_FOUND,
        param="planGroupId",
    )
    expect_api_error(wire, lambda: sandbox.plans.get(orphan), **PLAN_NOT_FOUND)

    # delete the group: members unlinked, never deleted
    sandbox.plan_groups.delete(gid)
    assert wire.last.body == {"id": gid, "deleted": True, "object": "plan_group", "livemode": False}
    for plan in (first, second):
        view = sandbox.plans.get(plan.id)
        assert view.id == plan.id, "the plan still exists"
        assert (wire.last.body["planGroupId"], wire.last.body["sortOrder"]) == (None, 0)
        assert (view.plan_group_id, view.sort_order) == (None, 0)
    expect_api_error(wire, lambda: sandbox.plan_groups.get(gid), **GROUP_NOT_FOUND)

    # free to join another group, with default orders
    other = new_group(sandbox, wire)["id"]
    add_plan(sandbox, wire, other, second.id)
    add_plan(sandbox, wire, other, first.id)
    assert members(sandbox, wire, other) == [entry(second, 0), entry(first, 1)]
