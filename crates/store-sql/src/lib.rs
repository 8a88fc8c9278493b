//! Tally's storage, written once for SQLite and PostgreSQL.
//!
//! Each area of `tally_store` is implemented once here (`organizations`, `customers`,
//! `catalog`, `subscriptions`, `seats`, `invoices`, `webhooks`, `idempotency`, `test_clock`),
//! as SQL with `$n` placeholders that every driver runs (`query`). What really differs between
//! the engines is in `dialect` (connecting, error classification) and `write_path` (group
//! commit on SQLite's single writer, a transaction per job on PostgreSQL); row locks are one
//! method, `Conn::lock`. Migrations stay per engine (`migrations/sqlite`, `migrations/postgres`,
//! same names), because the DDL really differs.

mod areas;
pub mod backup;
mod decode;
mod dialect;
mod query;
mod rows;
mod stamp_batches;
mod write_path;

#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use query::{Conn, query};
use sqlx::{PgPool, SqlitePool};
use tally_domain::{ApiKeyId, OrgId};
use tally_store::{Db, HotStamp, Job, KeyStanding, StampAsk, Store, StoreError, Tx};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// `sqlite:` or `postgres(ql)://`; anything else is not a database Tally runs on.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }

    /// Migration names, for the check that both engines list the same ones.
    pub fn migration_names(self) -> Vec<String> {
        let migrator = match self {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .iter()
            .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
            .collect()
    }
}

/// The store on one database of either engine.
pub struct SqlStore {
    pools: Pools,
}

enum Pools {
    Sqlite {
        reads: SqlitePool,
        migrations: SqlitePool,
        writer: write_path::sqlite::Writer,
    },
    Postgres {
        reads: PgPool,
        writes: PgPool,
        stamps: stamp_batches::StampReader,
    },
}

impl SqlStore {
    /// Opens the database `url` names (creating an SQLite file if missing).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pools = match Engine::of_url(url) {
            Some(Engine::Sqlite) => {
                let dialect::sqlite::Pools {
                    reads,
                    migrations,
                    path,
                } = dialect::sqlite::connect(url).await?;
                let writer = write_path::sqlite::Writer::start(path)?;
                Pools::Sqlite {
                    reads,
                    migrations,
                    writer,
                }
            }
            Some(Engine::Postgres) => {
                let dialect::postgres::Pools { reads, writes } =
                    dialect::postgres::connect(url).await?;
                let stamps = stamp_batches::StampReader::start(reads.clone());
                Pools::Postgres {
                    reads,
                    writes,
                    stamps,
                }
            }
            None => {
                return Err(StoreError::other(
                    "the database URL must start with sqlite: or postgres://",
                ));
            }
        };
        Ok(Self { pools })
    }

    pub fn engine(&self) -> Engine {
        match self.pools {
            Pools::Sqlite { .. } => Engine::Sqlite,
            Pools::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Sets the `tally_db_pool_connections{pool, state}` gauges (connections `in_use` and
    /// `idle`) and `tally_db_pool_connections_max{pool}` for the sqlx pools: `reads` on both
    /// engines, and `writes` on PostgreSQL (SQLite's writer holds its one connection). Read
    /// when metrics are scraped.
    pub fn record_pool_metrics(&self) {
        fn record(pool: &'static str, size: u32, idle: usize, max: u32) {
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            metrics::gauge!("tally_db_pool_connections", "pool" => pool, "state" => "in_use")
                .set(size - idle);
            metrics::gauge!("tally_db_pool_connections", "pool" => pool, "state" => "idle")
                .set(idle);
            metrics::gauge!("tally_db_pool_connections_max", "pool" => pool).set(max);
        }
        match &self.pools {
            Pools::Sqlite { reads, .. } => record(
                "reads",
                reads.size(),
                reads.num_idle(),
                reads.options().get_max_connections(),
            ),
            Pools::Postgres { reads, writes, .. } => {
                for (name, pool) in [("reads", reads), ("writes", writes)] {
                    record(
                        name,
                        pool.size(),
                        pool.num_idle(),
                        pool.options().get_max_connections(),
                    );
                }
            }
        }
    }

    /// Applies every pending migration of this engine.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrated = match &self.pools {
            // The writer opens its own connection on its first job, after this.
            Pools::Sqlite { migrations, .. } => SQLITE_MIGRATIONS.run(migrations).await,
            Pools::Postgres { writes, .. } => POSTGRES_MIGRATIONS.run(writes).await,
        };
        migrated.map_err(|e| StoreError::Other(Box::new(e)))
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn read(&self) -> Result<Box<dyn Db>, StoreError> {
        let conn = match &self.pools {
            Pools::Sqlite { reads, .. } => {
                Conn::Sqlite(reads.acquire().await.map_err(dialect::sqlite::classify)?)
            }
            Pools::Postgres { reads, .. } => Conn::Postgres(
                reads
                    .acquire()
                    .await
                    .map_err(dialect::postgres::classify_acquire)?,
            ),
        };
        Ok(Box::new(SqlDb::new(conn)))
    }

    async fn submit(&self, job: Job) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => writer.submit(job).await,
            Pools::Postgres { writes, .. } => write_path::postgres::submit(writes, None, job).await,
        }
    }

    /// PostgreSQL: concurrent asks share statements (`stamp_batches`).
    async fn hot_stamp(&self, ask: StampAsk) -> Result<HotStamp, StoreError> {
        match &self.pools {
            Pools::Postgres { stamps, .. } => stamps.stamp(ask).await,
            Pools::Sqlite { .. } => tally_store::stamp_alone(&mut *self.read().await?, ask).await,
        }
    }

    /// SQLite: Tally runs one server process per database file (`tally keys create` and
    /// `tally backup` only add keys or read).
    fn single_writer_process(&self) -> bool {
        matches!(self.pools, Pools::Sqlite { .. })
    }

    async fn submit_for(&self, org: &OrgId, key: &ApiKeyId, job: Job) -> Result<(), StoreError> {
        match &self.pools {
            // The writer runs in this process: reading the standing is no round trip.
            Pools::Sqlite { writer, .. } => writer.submit(job).await,
            Pools::Postgres { writes, .. } => {
                let key = (org.clone(), key.clone());
                write_path::postgres::submit(writes, Some(key), job).await
            }
        }
    }
}

/// One connection with every area's queries: a read connection, or a write job's transaction.
pub struct SqlDb {
    conn: Conn,
    /// A key's standing read together with the start of this transaction
    /// (`Store::submit_for`), answered by the first `key_standing` call that asks for it.
    prefetched_standing: Option<PrefetchedStanding>,
}

/// The key it is for, and what was read.
type PrefetchedStanding = (OrgId, ApiKeyId, Option<KeyStanding>);

impl SqlDb {
    fn new(conn: Conn) -> Self {
        Self {
            conn,
            prefetched_standing: None,
        }
    }

    /// The SQLite writer's connection back, between groups.
    fn into_direct(self) -> rusqlite::Connection {
        match self.conn {
            Conn::Direct(conn) => conn,
            Conn::Sqlite(_) | Conn::Postgres(_) => {
                unreachable!("only the SQLite writer takes its connection back")
            }
        }
    }
}

#[async_trait]
impl Tx for SqlDb {
    async fn savepoint(&mut self, name: &'static str) -> Result<(), StoreError> {
        query(format!("SAVEPOINT {name}"))
            .execute(&mut self.conn)
            .await
            .map(drop)
    }

    async fn release_savepoint(&mut self, name: &'static str) -> Result<(), StoreError> {
        query(format!("RELEASE SAVEPOINT {name}"))
            .execute(&mut self.conn)
            .await
            .map(drop)
    }

    async fn rollback_to_savepoint(&mut self, name: &'static str) -> Result<(), StoreError> {
        query(format!("ROLLBACK TO SAVEPOINT {name}"))
            .execute(&mut self.conn)
            .await
            .map(drop)
    }
}
