//! Chooses the storage backend from the database URL's scheme and brings its schema up to date.

use std::sync::Arc;
use tally_store::Store;
use tally_store_postgres::PostgresStore;
use tally_store_sqlite::SqliteStore;

/// Opens the database named by `url` and applies pending migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("unsupported database URL scheme in {url:?}: use sqlite:// or postgres://")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_ship_the_same_migrations() {
        assert_eq!(
            tally_store_sqlite::SqliteStore::migration_names(),
            tally_store_postgres::PostgresStore::migration_names()
        );
    }
}
