//! The test clock area, for both engines.

use crate::SqlDb;
use crate::query::query;
use crate::rows::{RunRow, run_body};
use async_trait::async_trait;
use tally_domain::test_clock::TestClockRun;
use tally_domain::{OrgId, Timestamp};
use tally_store::{StoreError, TestClock};

#[async_trait]
impl TestClock for SqlDb {
    async fn set_test_clock(&mut self, org: &OrgId, at: Timestamp) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("UPDATE organizations SET test_clock_ms = $1 WHERE id = $2")
            .bind(at.as_millis())
            .bind(org.as_str())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert_test_clock_run(
        &mut self,
        org: &OrgId,
        run: &TestClockRun,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "INSERT INTO test_clock_runs (id, org_id, body, created_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(run.id.as_str())
        .bind(org.as_str())
        .bind(run_body(run))
        .bind(run.created_at.as_millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn latest_test_clock_run(
        &mut self,
        org: &OrgId,
    ) -> Result<Option<TestClockRun>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<RunRow> = query(
            "SELECT id, body, created_at_ms FROM test_clock_runs WHERE org_id = $1 \
             ORDER BY created_at_ms DESC, id DESC LIMIT 1",
        )
        .bind(org.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(RunRow::into_domain).transpose()
    }
}
