//! Claiming an organization pair provisioned without an owner (`payments.md` §10.2): a pair
//! started headless is unclaimed; each claim link issued replaces the ones before it (a version
//! they carry), and the first person to complete one becomes the owner, once.

use crate::{FieldError, OrgId, Timestamp};

/// How long a claim link works (organization clock).
pub const CLAIM_LINK_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
pub const OWNER_NAME_CHARS_MAX: usize = 200;
pub const OWNER_EMAIL_CHARS_MAX: usize = 254;

/// One side of a headless pair: the claim links' version, and the owner once claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgClaim {
    pub org_id: OrgId,
    /// The version of the newest claim link; older links no longer work.
    pub version: i64,
    pub owner_email: Option<String>,
    pub owner_name: Option<String>,
    pub claimed_at: Option<Timestamp>,
}

impl OrgClaim {
    /// An unclaimed organization, no link issued yet.
    pub fn pending(org_id: OrgId) -> Self {
        Self {
            org_id,
            version: 0,
            owner_email: None,
            owner_name: None,
            claimed_at: None,
        }
    }

    pub fn is_claimed(&self) -> bool {
        self.claimed_at.is_some()
    }

    /// A new link is issued: the ones before it stop working.
    pub fn reissued(&self) -> Self {
        Self {
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Claimed by `owner` at `at`.
    pub fn claimed_by(&self, owner: &Owner, at: Timestamp) -> Self {
        Self {
            owner_email: Some(owner.email.clone()),
            owner_name: Some(owner.name.clone()),
            claimed_at: Some(at),
            ..self.clone()
        }
    }
}

/// Who claims an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub email: String,
    pub name: String,
}

/// Checks what the claim page's form sent: an e-mail address and a name.
pub fn check_owner(email: &str, name: &str) -> Result<Owner, FieldError> {
    let email = email.trim();
    let valid_email = email.len() <= OWNER_EMAIL_CHARS_MAX
        && !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !valid_email {
        return Err(FieldError::new("email", "Enter a valid e-mail address."));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > OWNER_NAME_CHARS_MAX {
        return Err(FieldError::new(
            "name",
            format!("Enter your name (at most {OWNER_NAME_CHARS_MAX} characters)."),
        ));
    }
    Ok(Owner {
        email: email.to_owned(),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_link_replaces_the_old_ones_and_a_claim_records_the_owner() {
        let claim = OrgClaim::pending(OrgId::new("org".to_owned()));
        let issued = claim.reissued().reissued();
        assert_eq!(issued.version, 2);
        assert!(!issued.is_claimed());
        let owner = check_owner(" jane@acme.test ", "Jane Doe").unwrap();
        let at = Timestamp::from_millis(1_000);
        let claimed = issued.claimed_by(&owner, at);
        assert_eq!(
            (
                claimed.owner_email.as_deref(),
                claimed.claimed_at,
                claimed.version
            ),
            (Some("jane@acme.test"), Some(at), 2)
        );
    }

    #[test]
    fn the_owner_needs_an_address_and_a_name() {
        assert_eq!(check_owner("nobody", "Jane").unwrap_err().field, "email");
        assert_eq!(check_owner("a@b", "Jane").unwrap_err().field, "email");
        assert_eq!(
            check_owner("jane@acme.test", "  ").unwrap_err().field,
            "name"
        );
    }
}
