//! Fresh, migrated stores for tests: a new database file in its own temporary directory.

use crate::SqliteStore;
use tally_store::Store;

/// A store on a new file, and the directory that holds it (deleted when dropped).
pub struct TestDatabase {
    pub store: std::sync::Arc<SqliteStore>,
    pub url: String,
    _dir: tempfile::TempDir,
}

pub async fn fresh_database() -> TestDatabase {
    let dir = tempfile::tempdir().expect("the temporary directory is writable");
    let url = format!("sqlite://{}", dir.path().join("tally.db").display());
    let store = SqliteStore::connect(&url)
        .await
        .expect("a new SQLite file opens");
    store
        .migrate()
        .await
        .expect("migrations apply to a new file");
    TestDatabase {
        store: std::sync::Arc::new(store),
        url,
        _dir: dir,
    }
}

/// The conformance suite's entry point: a fresh store, kept alive by the returned guard.
pub async fn fresh_store() -> (std::sync::Arc<dyn Store>, Box<dyn std::any::Any + Send>) {
    let database = fresh_database().await;
    let store: std::sync::Arc<dyn Store> = database.store.clone();
    (store, Box::new(database))
}
