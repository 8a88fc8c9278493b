//! The operator dashboard's sign-in (`docs/contract/dashboard.md`): one operator credential per
//! organization pair, and sessions that look at one side of the pair at a time.
//!
//! A session is the dashboard's credential the way an API key is the API's: operations run
//! with the session's id where an API key's id would be, its standing (ended or not, and
//! which organization it looks at) is read inside each operation, and idempotency keys sent
//! from its forms belong to it.

use crate::{ApiKeyId, OrgId, Timestamp};

/// What every session id starts with, and no API key id does (`key_…`): how a standing read
/// knows which of the two it is asked about.
pub const SESSION_ID_PREFIX: &str = "dsess_";
/// How long a session lasts from sign-in (real time), signed out or not.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// Characters of randomness in a generated operator credential.
pub const CREDENTIAL_RANDOM_CHARS: usize = 32;
/// Generated credentials start with this, so they are recognisable in a password manager.
pub const CREDENTIAL_PREFIX: &str = "tally_op_";
/// The shortest credential an operator may choose.
pub const CREDENTIAL_CHARS_MIN: usize = 12;
pub const CREDENTIAL_CHARS_MAX: usize = 256;

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    pub id: ApiKeyId,
    /// The organization whose credential signed in: the live side of the pair.
    pub home_org_id: OrgId,
    /// The side the session looks at now: `home_org_id` or its sandbox.
    pub org_id: OrgId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

impl DashboardSession {
    /// Whether the session still opens pages at `now` (real time).
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}

/// Whether `id` names a dashboard session rather than an API key.
pub fn is_session_id(id: &ApiKeyId) -> bool {
    id.as_str().starts_with(SESSION_ID_PREFIX)
}

/// Why an operator's chosen credential is refused, if it is.
pub fn credential_problem(credential: &str) -> Option<String> {
    let chars = credential.chars().count();
    if chars < CREDENTIAL_CHARS_MIN {
        return Some(format!(
            "the dashboard credential needs at least {CREDENTIAL_CHARS_MIN} characters"
        ));
    }
    if chars > CREDENTIAL_CHARS_MAX {
        return Some(format!(
            "the dashboard credential has at most {CREDENTIAL_CHARS_MAX} characters"
        ));
    }
    if credential.trim() != credential {
        return Some("the dashboard credential may not start or end with spaces".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_closes_at_its_expiry_or_when_ended() {
        let session = DashboardSession {
            id: ApiKeyId::from_stored("dsess_1".to_owned()),
            home_org_id: OrgId::new("org_a".to_owned()),
            org_id: OrgId::new("org_a".to_owned()),
            created_at: Timestamp::from_millis(0),
            expires_at: Timestamp::from_millis(10),
            ended_at: None,
        };
        assert!(session.is_open(Timestamp::from_millis(9)));
        assert!(!session.is_open(Timestamp::from_millis(10)));
        let ended = DashboardSession {
            ended_at: Some(Timestamp::from_millis(5)),
            ..session
        };
        assert!(!ended.is_open(Timestamp::from_millis(6)));
        assert!(is_session_id(&ended.id));
        assert!(!is_session_id(&ApiKeyId::from_stored("key_1".to_owned())));
    }

    #[test]
    fn chosen_credentials_are_long_enough_and_untrimmed() {
        assert!(credential_problem("short").is_some());
        assert!(credential_problem(" twelve chars ok").is_some());
        assert!(credential_problem("twelve chars ok").is_none());
        assert!(credential_problem(&"x".repeat(CREDENTIAL_CHARS_MAX + 1)).is_some());
    }
}
