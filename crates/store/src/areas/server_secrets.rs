//! Secrets of the installation, shared by every node that serves the database.

use crate::StoreError;
use async_trait::async_trait;

#[async_trait]
pub trait ServerSecrets {
    /// The secret stored under `name`, storing `candidate` first when there is none; of two
    /// nodes that race, both get the one stored first.
    async fn server_secret_or_insert(
        &mut self,
        name: &str,
        candidate: &str,
    ) -> Result<String, StoreError>;
}
