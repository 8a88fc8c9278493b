//! Fresh, migrated PostgreSQL databases for tests.
//!
//! The server comes from `TALLY_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each test gets `CREATE DATABASE
//! tally_test_<random>`, dropped when the guard goes. Without the variable the tests print a
//! loud `skipped` line, unless `TALLY_TEST_REQUIRE_POSTGRES=1` (set by CI) makes that a failure.

use crate::PostgresStore;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::str::FromStr;
use std::sync::Arc;
use tally_store::Store;

pub const SERVER_URL_VAR: &str = "TALLY_TEST_POSTGRES_URL";
pub const REQUIRE_VAR: &str = "TALLY_TEST_REQUIRE_POSTGRES";

/// The server URL, or `None` after printing why the PostgreSQL case is skipped.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var(SERVER_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{REQUIRE_VAR}=1 but {SERVER_URL_VAR} is not set: PostgreSQL tests cannot run"
            );
            eprintln!("skipped: {test} on PostgreSQL ({SERVER_URL_VAR} is not set)");
            None
        }
    }
}

/// A new database on the test server, migrated, dropped (with its connections) on drop.
pub struct TestDatabase {
    pub store: Arc<PostgresStore>,
    pub url: String,
    server_url: String,
    name: String,
}

pub async fn fresh_database(server_url: &str) -> TestDatabase {
    let name = format!("tally_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server_url)
        .await
        .expect("the PostgreSQL test server accepts connections");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("the test role may create databases");
    admin.close().await.ok();
    let url = database_url(server_url, &name);
    let store = PostgresStore::connect(&url)
        .await
        .expect("the new database accepts connections");
    store
        .migrate()
        .await
        .expect("migrations apply to a new database");
    TestDatabase {
        store: Arc::new(store),
        url,
        server_url: server_url.to_owned(),
        name,
    }
}

/// The conformance suite's entry point; `None` when PostgreSQL is not configured.
pub async fn fresh_store() -> Option<(Arc<dyn Store>, Box<dyn std::any::Any + Send>)> {
    let server = server_url("conformance")?;
    let database = fresh_database(&server).await;
    let store: Arc<dyn Store> = database.store.clone();
    Some((store, Box::new(database)))
}

fn database_url(server_url: &str, name: &str) -> String {
    let options =
        PgConnectOptions::from_str(server_url).expect("TALLY_TEST_POSTGRES_URL is a valid URL");
    let base = server_url.split('?').next().unwrap_or(server_url);
    let without_db = match options.get_database() {
        Some(db) => base.strip_suffix(db).unwrap_or(base).trim_end_matches('/'),
        None => base.trim_end_matches('/'),
    };
    format!("{without_db}/{name}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Drop runs outside any async context we can borrow, so the cleanup gets a thread and a
        // small runtime of its own. A failed drop only leaves a stray test database behind.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime starts for test cleanup");
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&server_url).await {
                    let drop_sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    sqlx::query(&drop_sql).execute(&mut admin).await.ok();
                    admin.close().await.ok();
                }
            });
        });
        cleanup.join().ok();
    }
}
