//! The shared storage suite, on a fresh database per case, on each engine.

mod sqlite {
    tally_store::conformance_suite!(tally_store_sql::testing::fresh_store(
        tally_store_sql::Engine::Sqlite
    ));
}

mod postgres {
    tally_store::conformance_suite!(tally_store_sql::testing::fresh_store(
        tally_store_sql::Engine::Postgres
    ));
}

#[test]
fn both_engines_list_the_same_migrations() {
    use tally_store_sql::Engine;
    assert_eq!(
        Engine::Sqlite.migration_names(),
        Engine::Postgres.migration_names()
    );
}

#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused_with_a_reason() {
    for url in ["sqlite::memory:", "sqlite://tally.db?mode=memory"] {
        let opened = tally_store_sql::SqlStore::connect(url).await;

        let error = opened.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("in-memory"), "{url}: {error}");
    }
}
