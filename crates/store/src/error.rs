//! The one error type storage speaks; each backend maps its driver errors into it in one place.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or check constraint refused the write; `constraint` is its schema name.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A serialization failure, deadlock, lock timeout or busy database: the whole transaction
    /// may be retried.
    #[error("transient conflict, retry the transaction")]
    Retry,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint == name)
    }

    pub fn other(message: impl Into<String>) -> Self {
        StoreError::Other(message.into().into())
    }
}
