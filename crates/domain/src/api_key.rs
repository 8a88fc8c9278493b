//! API keys: the secret a caller sends, and the record kept of it (only a hash of the secret).
//!
//! Contract: `wire.md` §4 and `catalog.md` §1.

use crate::{ApiKeyId, Mode, OrgId, Timestamp};

/// Random base62 characters after the `ck_<mode>_` prefix (`wire.md` §4).
pub const SECRET_RANDOM_CHARS: usize = 32;
/// How much of the secret is shown back as `prefix` (`catalog.md` §1).
pub const VISIBLE_PREFIX_CHARS: usize = 15;
pub const NAME_CHARS_MAX: usize = 255;
pub const EXPIRES_IN_DAYS_MIN: i64 = 1;
pub const EXPIRES_IN_DAYS_MAX: i64 = 365;
/// Keys made by the API default to a year (`catalog.md` §1); keys made at the command line
/// never expire.
pub const EXPIRES_IN_DAYS_DEFAULT: i64 = 365;

/// The secret's fixed beginning for a mode: `ck_live_` or `ck_sandbox_`.
pub fn secret_prefix(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "ck_live_",
        Mode::Sandbox => "ck_sandbox_",
    }
}

/// Builds the full secret from its random part.
pub fn compose_secret(mode: Mode, random_base62: &str) -> String {
    format!("{}{}", secret_prefix(mode), random_base62)
}

/// True when `secret` has the shape of a full-access key of `mode` (prefix plus 32 base62).
pub fn is_well_formed_secret(secret: &str, mode: Mode) -> bool {
    secret
        .strip_prefix(secret_prefix(mode))
        .is_some_and(|rest| {
            rest.len() == SECRET_RANDOM_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The part of a secret that is safe to show again.
pub fn visible_prefix(secret: &str) -> String {
    secret.chars().take(VISIBLE_PREFIX_CHARS).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    pub prefix: String,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl ApiKey {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A validated request to make a key: a name and an optional lifetime in days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub expires_in_days: Option<i64>,
}

impl NewApiKey {
    pub fn parse(name: &str, expires_in_days: Option<i64>) -> Result<Self, crate::DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_CHARS_MAX {
            return Err(crate::DomainError::field(
                "name",
                format!("name must be 1 to {NAME_CHARS_MAX} characters"),
            ));
        }
        if let Some(days) = expires_in_days
            && !(EXPIRES_IN_DAYS_MIN..=EXPIRES_IN_DAYS_MAX).contains(&days)
        {
            return Err(crate::DomainError::field(
                "expiresInDays",
                format!(
                    "expiresInDays must be between {EXPIRES_IN_DAYS_MIN} and {EXPIRES_IN_DAYS_MAX}"
                ),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            expires_in_days,
        })
    }

    pub fn expires_at(&self, now: Timestamp) -> Timestamp {
        let days = self.expires_in_days.unwrap_or(EXPIRES_IN_DAYS_DEFAULT);
        now.plus_millis(days * crate::time::MILLIS_PER_DAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_mode_and_shape() {
        let random = "a".repeat(SECRET_RANDOM_CHARS);
        let sandbox = compose_secret(Mode::Sandbox, &random);

        assert!(is_well_formed_secret(&sandbox, Mode::Sandbox));
        assert!(!is_well_formed_secret(&sandbox, Mode::Live));
        assert!(!is_well_formed_secret("ck_sandbox_short", Mode::Sandbox));
        assert_eq!(visible_prefix(&sandbox), "ck_sandbox_aaaa");
    }

    #[test]
    fn key_lifetimes_outside_one_to_365_days_are_refused() {
        assert!(NewApiKey::parse("ci", Some(0)).is_err());
        assert!(NewApiKey::parse("ci", Some(366)).is_err());
        assert!(NewApiKey::parse("  ", None).is_err());
        assert!(NewApiKey::parse("ci", Some(365)).is_ok());
    }
}
