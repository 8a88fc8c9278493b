-- Credit packs (docs/contract/commerce.md §3). Names are unique among live packs, whatever
-- their case; a deleted pack stays for the invoices that name it.
CREATE TABLE credit_packs (
    id             TEXT COLLATE "C" PRIMARY KEY,
    org_id         TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL,
    description    TEXT,
    credits        BIGINT NOT NULL CHECK (credits > 0),
    price          BIGINT NOT NULL CHECK (price >= 0),
    is_active      BOOLEAN NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    deleted_at_ms  BIGINT
);
CREATE UNIQUE INDEX credit_packs_name ON credit_packs (org_id, lower(name)) WHERE deleted_at_ms IS NULL;
CREATE INDEX credit_packs_org_created ON credit_packs (org_id, created_at_ms, id);
