//! The server secrets area, for both engines.

use crate::SqlDb;
use crate::query::query;
use async_trait::async_trait;
use tally_store::{ServerSecrets, StoreError};

#[async_trait]
impl ServerSecrets for SqlDb {
    async fn server_secret_or_insert(
        &mut self,
        name: &str,
        candidate: &str,
    ) -> Result<String, StoreError> {
        query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(&mut self.conn)
            .await?;
        let (value,): (String,) = query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&mut self.conn)
            .await?;
        Ok(value)
    }
}
