//! Why the domain refused something. No status codes: the API maps these once.

/// A problem with one input field, named as the caller spelled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input breaks a documented rule; each problem names its field.
    #[error("invalid input: {}", .0.first().map(|e| e.message.as_str()).unwrap_or("no details"))]
    Validation(Vec<FieldError>),
}

impl DomainError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldError::new(field, message)])
    }
}
