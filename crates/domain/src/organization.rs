//! Organizations: every live organization has a paired sandbox organization.
//!
//! Contract: `wire.md` §4. The organization that owns an API key decides `livemode`.

use crate::{ApiVersion, OrgId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Sandbox,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Sandbox => "sandbox",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "live" => Some(Mode::Live),
            "sandbox" => Some(Mode::Sandbox),
            _ => None,
        }
    }

    pub fn is_live(self) -> bool {
        self == Mode::Live
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub mode: Mode,
    /// The other side of the pair: the sandbox of a live organization, or the reverse.
    pub paired_org_id: Option<OrgId>,
    /// The version used when a request names none (`wire.md` §3.1, step 3).
    pub api_version: ApiVersion,
    /// The sandbox test clock's time once it has been advanced; `None` means real time.
    pub test_clock: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Organization {
    /// The organization's "now": the test clock when set, else the real time passed in.
    pub fn now(&self, real_now: Timestamp) -> Timestamp {
        org_now(self.test_clock, real_now)
    }
}

/// An organization's "now" from its test clock (when set) and the real time.
pub fn org_now(test_clock: Option<Timestamp>, real_now: Timestamp) -> Timestamp {
    test_clock.unwrap_or(real_now)
}
