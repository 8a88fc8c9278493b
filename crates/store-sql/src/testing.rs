//! Fresh, migrated databases for tests, one per test, on either engine.
//!
//! SQLite: a new file in its own temporary directory. PostgreSQL: `CREATE DATABASE
//! tally_test_<random>` on the server named by `TALLY_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the guard goes. Without the
//! variable the PostgreSQL cases print a loud `skipped` line, unless
//! `TALLY_TEST_REQUIRE_POSTGRES=1` (set by CI) makes that a failure.
//!
//! PostgreSQL test databases are cloned from a template migrated once per set of migrations
//! (`tally_test_template_<fingerprint>`, kept on the server for later runs): a clone is one
//! `CREATE DATABASE`, while migrating costs a transaction per migration in every test.

use crate::{Engine, SqlStore};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tally_store::Store;
use tokio::sync::OnceCell;

pub const SERVER_URL_VAR: &str = "TALLY_TEST_POSTGRES_URL";
pub const REQUIRE_VAR: &str = "TALLY_TEST_REQUIRE_POSTGRES";

/// A migrated database of its own; whatever holds it (a directory, a server-side database) is
/// removed when this is dropped.
pub struct TestDatabase {
    pub store: Arc<SqlStore>,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Removed by `TempDir`'s own drop.
    Directory {
        _dir: tempfile::TempDir,
    },
    PostgresDatabase {
        server_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// PostgreSQL only: makes this database unreachable the way a server restart does, without
    /// touching the server other tests share: new connections are refused and every open one
    /// is ended (`57P01`) in the middle of whatever it was doing.
    pub async fn cut_off(&self) {
        let (server_url, name) = self.postgres_database();
        let mut admin = PgConnection::connect(server_url)
            .await
            .expect("the PostgreSQL test server accepts connections");
        for statement in [
            format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        ] {
            sqlx::query(&statement)
                .execute(&mut admin)
                .await
                .expect("the test role may cut off its own test database");
        }
        admin.close().await.ok();
    }

    /// PostgreSQL only: lets connections to this database in again after `cut_off`.
    pub async fn reopen(&self) {
        let (server_url, name) = self.postgres_database();
        let mut admin = PgConnection::connect(server_url)
            .await
            .expect("the PostgreSQL test server accepts connections");
        sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            .execute(&mut admin)
            .await
            .expect("the test role may reopen its own test database");
        admin.close().await.ok();
    }

    fn postgres_database(&self) -> (&str, &str) {
        match &self.cleanup {
            Cleanup::PostgresDatabase { server_url, name } => (server_url, name),
            Cleanup::Directory { .. } => panic!("only a PostgreSQL test database can be cut off"),
        }
    }
}

/// A fresh database on `engine`, or `None` (after saying why) when PostgreSQL is not configured.
pub async fn fresh_database(engine: Engine, test: &str) -> Option<TestDatabase> {
    match engine {
        Engine::Sqlite => Some(fresh_sqlite().await),
        Engine::Postgres => {
            let server = postgres_server_url(test)?;
            Some(fresh_postgres(&server).await)
        }
    }
}

pub async fn fresh_sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("the temporary directory is writable");
    let url = format!("sqlite://{}", dir.path().join("tally.db").display());
    let store = migrated(&url).await;
    TestDatabase {
        store,
        url,
        cleanup: Cleanup::Directory { _dir: dir },
    }
}

pub async fn fresh_postgres(server_url: &str) -> TestDatabase {
    let template = postgres_template(server_url).await;
    let name = format!("tally_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server_url)
        .await
        .expect("the PostgreSQL test server accepts connections");
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut admin)
        .await
        .expect("the test role may create databases");
    admin.close().await.ok();
    let url = database_url(server_url, &name);
    let store = Arc::new(
        SqlStore::connect(&url)
            .await
            .expect("a new test database opens"),
    );
    TestDatabase {
        store,
        url,
        cleanup: Cleanup::PostgresDatabase {
            server_url: server_url.to_owned(),
            name,
        },
    }
}

/// The name of the migrated template on `server_url`, made if missing (once per process and
/// server; later calls wait for the first).
async fn postgres_template(server_url: &str) -> String {
    static TEMPLATES: Mutex<BTreeMap<String, Arc<OnceCell<String>>>> = Mutex::new(BTreeMap::new());
    let cell = TEMPLATES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(server_url.to_owned())
        .or_default()
        .clone();
    cell.get_or_init(|| make_postgres_template(server_url))
        .await
        .clone()
}

async fn make_postgres_template(server_url: &str) -> String {
    let template = format!(
        "tally_test_template_{:016x}",
        migrations_fingerprint(&crate::POSTGRES_MIGRATIONS)
    );
    let mut admin = PgConnection::connect(server_url)
        .await
        .expect("the PostgreSQL test server accepts connections");
    let (exists,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("the test server lists its databases");
    if !exists {
        // Built under a name of its own and renamed once migrated, so that another test process
        // never clones a half-migrated template; of two processes that race, one rename wins.
        let building = format!("tally_test_building_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .await
            .expect("the test role may create databases");
        let mut conn = PgConnection::connect(&database_url(server_url, &building))
            .await
            .expect("a new test database opens");
        crate::POSTGRES_MIGRATIONS
            .run(&mut conn)
            .await
            .expect("migrations apply to a new database");
        conn.close().await.ok();
        let renamed = sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .execute(&mut admin)
            .await;
        if renamed.is_err() {
            let drop_sql = format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)");
            sqlx::query(&drop_sql).execute(&mut admin).await.ok();
        }
    }
    admin.close().await.ok();
    template
}

/// A stable number for a set of migrations (their versions and checksums).
fn migrations_fingerprint(migrator: &sqlx::migrate::Migrator) -> u64 {
    let mut bytes = Vec::new();
    for migration in migrator.iter() {
        bytes.extend_from_slice(&migration.version.to_le_bytes());
        bytes.extend_from_slice(&migration.checksum);
    }
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The PostgreSQL server URL, or `None` after printing why the PostgreSQL case is skipped.
pub fn postgres_server_url(test: &str) -> Option<String> {
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

/// A fresh database migrated only up to `version` (inclusive), not cloned from the template:
/// for tests of a later migration on the rows an earlier schema held. `SqlStore::migrate` then
/// applies the rest. `None` (after saying why) when PostgreSQL is not configured.
pub async fn fresh_database_at(engine: Engine, version: i64, test: &str) -> Option<TestDatabase> {
    let (url, cleanup) = match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("the temporary directory is writable");
            let url = format!("sqlite://{}", dir.path().join("tally.db").display());
            (url, Cleanup::Directory { _dir: dir })
        }
        Engine::Postgres => {
            let server_url = postgres_server_url(test)?;
            let name = format!("tally_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::connect(&server_url)
                .await
                .expect("the PostgreSQL test server accepts connections");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("the test role may create databases");
            admin.close().await.ok();
            let url = database_url(&server_url, &name);
            (url, Cleanup::PostgresDatabase { server_url, name })
        }
    };
    let store = SqlStore::connect(&url)
        .await
        .expect("a new test database opens");
    let up_to = |all: &sqlx::migrate::Migrator| sqlx::migrate::Migrator {
        migrations: all
            .iter()
            .filter(|m| m.version <= version)
            .cloned()
            .collect(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    let migrated = match &store.pools {
        crate::Pools::Sqlite { migrations, .. } => {
            up_to(&crate::SQLITE_MIGRATIONS).run(migrations).await
        }
        crate::Pools::Postgres { writes, .. } => {
            up_to(&crate::POSTGRES_MIGRATIONS).run(writes).await
        }
    };
    migrated.expect("the earlier migrations apply to a new database");
    Some(TestDatabase {
        store: Arc::new(store),
        url,
        cleanup,
    })
}

/// The conformance suite's entry point: a fresh store on `engine`, kept alive by the guard.
pub async fn fresh_store(
    engine: Engine,
) -> Option<(Arc<dyn Store>, Box<dyn std::any::Any + Send>)> {
    let database = fresh_database(engine, "conformance").await?;
    let store: Arc<dyn Store> = database.store.clone();
    Some((store, Box::new(database)))
}

async fn migrated(url: &str) -> Arc<SqlStore> {
    let store = SqlStore::connect(url)
        .await
        .expect("a new test database opens");
    store
        .migrate()
        .await
        .expect("migrations apply to a new database");
    Arc::new(store)
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

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Cleanup::PostgresDatabase { server_url, name } = self else {
            return;
        };
        let server_url = server_url.clone();
        let name = name.clone();
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
