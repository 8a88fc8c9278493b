//! Customer portal sessions (`payments.md` §10): a link to a page where a customer sees their
//! subscription, card and invoices and acts on them. A session stays open while it is used:
//! 30 minutes after its last view or action, and never past 2 hours (the organization's clock).

use crate::ids::{CustomerId, PortalSessionId};
use crate::{OrgId, Timestamp};

pub const PORTAL_IDLE_MS: i64 = 30 * 60 * 1000;
pub const PORTAL_LIFETIME_MS: i64 = 2 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub id: PortalSessionId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    /// Where the page's "back" link goes.
    pub return_url: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

impl PortalSession {
    /// When the session stops working at the latest.
    pub fn ends_at(&self) -> Timestamp {
        self.created_at.plus_millis(PORTAL_LIFETIME_MS)
    }

    /// Whether the session can still be used at `now`.
    pub fn is_open_at(&self, now: Timestamp) -> bool {
        now < self.ends_at() && now < self.last_seen_at.plus_millis(PORTAL_IDLE_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_or_at_its_cap() {
        let start = Timestamp::from_millis(0);
        let session = PortalSession {
            id: PortalSessionId::from_stored("ps_1".into()),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            return_url: None,
            created_at: start,
            last_seen_at: start,
        };
        assert!(session.is_open_at(start.plus_millis(PORTAL_IDLE_MS - 1)));
        assert!(!session.is_open_at(start.plus_millis(PORTAL_IDLE_MS)));
        let busy = PortalSession {
            last_seen_at: start.plus_millis(PORTAL_LIFETIME_MS - 1_000),
            ..session
        };
        assert!(
            !busy.is_open_at(start.plus_millis(PORTAL_LIFETIME_MS)),
            "capped at two hours"
        );
    }
}
