//! Opens the database the URL names (its scheme picks the engine) and brings its schema up to
//! date.

use std::sync::Arc;
use tally_store_sql::{Engine, SqlStore};

/// Opens the database named by `url` and applies pending migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<SqlStore>> {
    if Engine::of_url(url).is_none() {
        anyhow::bail!(
            "unsupported database URL scheme in {:?}: use sqlite:// or postgres://",
            crate::config::redact_password(url)
        )
    }
    let store = SqlStore::connect(url).await?;
    store.migrate().await?;
    Ok(Arc::new(store))
}
