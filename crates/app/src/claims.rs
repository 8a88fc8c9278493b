//! `provisioning.createClaimLink` and the claim page (`payments.md` §10.2): an organization
//! pair started headless (`--headless`) has no owner until someone completes a claim link. Each
//! link issued replaces the earlier ones; the pair is claimed once, both sides together.

use crate::hosted_tokens::PageSigner;
use crate::payments::PageRefusal;
use crate::{App, AppError, Command, WriteCtx};
use async_trait::async_trait;
use tally_domain::claims::{CLAIM_LINK_TTL_MS, OrgClaim, Owner, check_owner};
use tally_domain::{OrgId, Organization, Timestamp};
use tally_store::{Lock, Tx};

/// The page kind of claim links, and the path their pages are served on.
pub const CLAIM_PAGE: &str = "claim";

/// A claim link: its page and when it stops working.
#[derive(Debug, Clone)]
pub struct ClaimLink {
    pub url: String,
    pub expires_at: Timestamp,
}

/// Both organizations of the pair `organization` belongs to, locked, with their claims; `None`
/// when the pair was never headless.
async fn pair_claims(
    tx: &mut dyn Tx,
    organization: &Organization,
) -> Result<Option<Vec<OrgClaim>>, AppError> {
    let mut ids = vec![organization.id.clone()];
    ids.extend(organization.paired_org_id.clone());
    ids.sort();
    let mut claims = Vec::new();
    for id in &ids {
        // The organization rows serialize claims of one pair, oldest id first.
        tx.organization(id, Lock::ForUpdate).await?;
        match tx.org_claim(id).await? {
            Some(claim) => claims.push(claim),
            None => return Ok(None),
        }
    }
    Ok(Some(claims))
}

/// `POST /claim-link`: a fresh link; the ones before it stop working.
pub struct CreateClaimLink {
    pub signer: PageSigner,
}

#[async_trait]
impl Command for CreateClaimLink {
    type Output = ClaimLink;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<ClaimLink, AppError> {
        let organization = ctx.caller.organization.clone();
        let claims = pair_claims(ctx.tx, &organization)
            .await?
            .ok_or(AppError::ClaimNotPending)?;
        if claims.iter().any(OrgClaim::is_claimed) {
            return Err(AppError::AlreadyClaimed);
        }
        let version = claims.iter().map(|c| c.version).max().unwrap_or(0) + 1;
        for claim in &claims {
            ctx.tx
                .update_org_claim(&OrgClaim {
                    version,
                    ..claim.clone()
                })
                .await?;
        }
        let expires_at = ctx.now.plus_millis(CLAIM_LINK_TTL_MS);
        let token = self.signer.token(
            CLAIM_PAGE,
            &organization.id,
            &version.to_string(),
            ctx.now,
            Some(expires_at),
            &ctx.ids.base62(12),
        );
        Ok(ClaimLink {
            url: self.signer.url(CLAIM_PAGE, &token),
            expires_at,
        })
    }
}

/// What the claim page shows: the pair's ids, and the owner once claimed.
#[derive(Debug, Clone)]
pub struct ClaimPage {
    pub organization: Organization,
    pub live_org: Option<OrgId>,
    pub sandbox_org: Option<OrgId>,
    pub owner: Option<Owner>,
}

/// Claims the pair for the owner the page's form names.
struct ClaimPair {
    organization: Organization,
    version: i64,
    owner: Owner,
}

#[async_trait]
impl Command for ClaimPair {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let gone = || AppError::Page(PageRefusal::Gone);
        let claims = pair_claims(ctx.tx, &self.organization)
            .await?
            .ok_or_else(gone)?;
        if claims
            .iter()
            .any(|c| c.is_claimed() || c.version != self.version)
        {
            return Err(gone());
        }
        for claim in &claims {
            ctx.tx
                .update_org_claim(&claim.claimed_by(&self.owner, ctx.now))
                .await?;
        }
        Ok(())
    }
}

impl App {
    /// The organization and link version a claim token names, while the link still works.
    async fn claim_subject(&self, token: &str) -> Result<(Organization, i64), AppError> {
        let (target, mut db) = self.page_target(CLAIM_PAGE, token).await?;
        let not_found = || AppError::Page(PageRefusal::NotFound);
        let version: i64 = target.claims.subject.parse().map_err(|_| not_found())?;
        let claim = db
            .org_claim(&target.organization.id)
            .await?
            .ok_or_else(not_found)?;
        if target.expired() || claim.is_claimed() || claim.version != version {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        Ok((target.organization, version))
    }

    async fn claim_view(&self, organization: Organization) -> Result<ClaimPage, AppError> {
        let mut db = self.store.read().await?;
        let claim = db.org_claim(&organization.id).await?;
        let (mut live_org, mut sandbox_org) = (None, None);
        for id in std::iter::once(organization.id.clone()).chain(organization.paired_org_id.clone())
        {
            if let Some(side) = db.organization(&id, Lock::None).await? {
                match side.mode {
                    tally_domain::Mode::Live => live_org = Some(side.id),
                    tally_domain::Mode::Sandbox => sandbox_org = Some(side.id),
                }
            }
        }
        let owner = claim.and_then(|c| {
            Some(Owner {
                email: c.owner_email?,
                name: c.owner_name?,
            })
        });
        Ok(ClaimPage {
            organization,
            live_org,
            sandbox_org,
            owner,
        })
    }

    /// The claim page for `token`; `410` once claimed, replaced by a newer link, or expired.
    pub async fn claim_page(&self, token: &str) -> Result<ClaimPage, AppError> {
        let (organization, _) = self.claim_subject(token).await?;
        self.claim_view(organization).await
    }

    /// Claims the pair for the person the form names.
    pub async fn claim_on_page(
        &self,
        token: &str,
        (email, name): (&str, &str),
    ) -> Result<ClaimPage, AppError> {
        let (organization, version) = self.claim_subject(token).await?;
        let owner = check_owner(email, name).map_err(|e| AppError::Page(PageRefusal::Form(e)))?;
        let command = ClaimPair {
            organization: organization.clone(),
            version,
            owner,
        };
        self.page_write(&organization, command).await?;
        self.claim_view(organization).await
    }
}
