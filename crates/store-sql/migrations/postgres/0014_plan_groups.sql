-- Plan groups (docs/contract/lifecycle.md §3). A plan belongs to one group at most, so the
-- membership and its rank live on the plan; deleting a group unlinks its plans.
CREATE TABLE plan_groups (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    description    TEXT,
    is_public      BOOLEAN NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX plan_groups_org_created ON plan_groups (org_id, created_at_ms, id);

ALTER TABLE plans ADD COLUMN plan_group_id TEXT COLLATE "C" REFERENCES plan_groups (id);
ALTER TABLE plans ADD COLUMN sort_order BIGINT NOT NULL DEFAULT 0;
CREATE INDEX plans_group_order ON plans (org_id, plan_group_id, sort_order, created_at_ms, id);
CREATE INDEX plans_org_order ON plans (org_id, sort_order, created_at_ms, id);
