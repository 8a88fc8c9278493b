//! The shared storage suite, on a fresh SQLite file per case.

async fn fresh() -> Option<(
    std::sync::Arc<dyn tally_store::Store>,
    Box<dyn std::any::Any + Send>,
)> {
    Some(tally_store_sqlite::testing::fresh_store().await)
}

tally_store::conformance_suite!(fresh);
