//! The sandbox test clock: its position and the runs that moved it.

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::test_clock::TestClockRun;
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait TestClock {
    async fn set_test_clock(&mut self, org: &OrgId, at: Timestamp) -> Result<(), StoreError>;

    async fn insert_test_clock_run(
        &mut self,
        org: &OrgId,
        run: &TestClockRun,
    ) -> Result<(), StoreError>;

    async fn latest_test_clock_run(
        &mut self,
        org: &OrgId,
    ) -> Result<Option<TestClockRun>, StoreError>;
}
