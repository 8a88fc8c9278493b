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
