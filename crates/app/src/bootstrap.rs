//! First start: an empty database gets one organization pair (live + sandbox) and a key for
//! each side, shown once. Also the command-line way to make more keys.

use crate::auth::secret_hash;
use crate::{App, AppError};
use tally_domain::api_key::{self, ApiKey};
use tally_domain::{ApiKeyId, ApiVersion, Mode, OrgId, Organization};
use tally_store::StoreError;

/// Keys to create at first start instead of random ones, so tests and CI can start a server
/// with a key they already know.
#[derive(Debug, Clone, Default)]
pub struct SeedKeys {
    pub sandbox: Option<String>,
    pub live: Option<String>,
    /// The pair starts without an owner, to be claimed through a claim link
    /// (`payments.md` §10.2): how platforms provision an organization for someone else.
    pub headless: bool,
    /// The dashboard's operator credential to set at first start instead of a generated one.
    pub dashboard: Option<String>,
}

/// The secrets made at first start; printed once, never stored in clear.
#[derive(Debug, Clone)]
pub struct FirstStart {
    pub live_org: OrgId,
    pub sandbox_org: OrgId,
    pub live_key: String,
    pub sandbox_key: String,
    /// The dashboard's operator credential (`dashboard.md` §1).
    pub dashboard_credential: String,
}

pub const DEFAULT_ORGANIZATION_NAME: &str = "Tally";

impl App {
    /// Creates the organization pair and its first keys when the database has no organization;
    /// returns `None` otherwise. A seed key must have the shape of a real key of its mode.
    pub async fn bootstrap(&self, seeds: &SeedKeys) -> Result<Option<FirstStart>, AppError> {
        for (seed, mode) in [(&seeds.sandbox, Mode::Sandbox), (&seeds.live, Mode::Live)] {
            if let Some(secret) = seed
                && !api_key::is_well_formed_secret(secret, mode)
            {
                return Err(tally_domain::DomainError::field(
                    "seed key",
                    format!(
                        "a seeded {} key must be {}<32 letters or digits>",
                        mode.as_str(),
                        api_key::secret_prefix(mode)
                    ),
                )
                .into());
            }
        }
        if let Some(problem) = seeds
            .dashboard
            .as_deref()
            .and_then(tally_domain::dashboard::credential_problem)
        {
            return Err(
                tally_domain::DomainError::field("seed dashboard credential", problem).into(),
            );
        }
        if self.store.read().await?.organization_count().await? > 0 {
            return Ok(None);
        }
        let now = self.clock.now();
        let live_id = OrgId::new(self.ids.uuid());
        let sandbox_id = OrgId::new(self.ids.uuid());
        let organization = |id: &OrgId, mode: Mode, paired: &OrgId| Organization {
            id: id.clone(),
            name: DEFAULT_ORGANIZATION_NAME.to_owned(),
            mode,
            paired_org_id: Some(paired.clone()),
            api_version: ApiVersion::CURRENT,
            test_clock: None,
            created_at: now,
        };
        let live_key = seeds
            .live
            .clone()
            .unwrap_or_else(|| self.new_secret(Mode::Live));
        let sandbox_key = seeds
            .sandbox
            .clone()
            .unwrap_or_else(|| self.new_secret(Mode::Sandbox));

        let organizations = [
            organization(&live_id, Mode::Live, &sandbox_id),
            organization(&sandbox_id, Mode::Sandbox, &live_id),
        ];
        let claims = match seeds.headless {
            true => vec![
                tally_domain::claims::OrgClaim::pending(live_id.clone()),
                tally_domain::claims::OrgClaim::pending(sandbox_id.clone()),
            ],
            false => Vec::new(),
        };
        let keys = [(&live_id, &live_key), (&sandbox_id, &sandbox_key)].map(|(org, secret)| {
            let key = self.key_record(org, "Default key", secret, None, now);
            (key, secret_hash(secret))
        });
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                for organization in &organizations {
                    tx.insert_organization(organization).await?;
                }
                for (key, hash) in &keys {
                    tx.insert_api_key(key, hash).await?;
                }
                for claim in &claims {
                    tx.insert_org_claim(claim).await?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
        let dashboard_credential = self
            .set_dashboard_credential(seeds.dashboard.clone())
            .await?;
        Ok(Some(FirstStart {
            live_org: live_id,
            sandbox_org: sandbox_id,
            live_key,
            sandbox_key,
            dashboard_credential,
        }))
    }

    /// Makes a non-expiring key for the oldest organization of `mode` (the command line's
    /// `tally keys create`). Returns the secret, shown once.
    pub async fn create_key_for_mode(&self, mode: Mode, name: &str) -> Result<String, AppError> {
        let Some(org) = self.store.read().await?.oldest_organization(mode).await? else {
            return Err(AppError::Store(StoreError::other(
                "no organization yet: start the server once (`tally serve`) to create one",
            )));
        };
        let now = self.clock.now();
        let secret = self.new_secret(mode);
        let key = self.key_record(&org.id, name, &secret, None, now);
        let hash = secret_hash(&secret);
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { Ok::<_, AppError>(tx.insert_api_key(&key, &hash).await?) })
        })
        .await?;
        Ok(secret)
    }

    pub(crate) fn new_secret(&self, mode: Mode) -> String {
        api_key::compose_secret(mode, &self.ids.base62(api_key::SECRET_RANDOM_CHARS))
    }

    pub(crate) fn key_record(
        &self,
        org: &OrgId,
        name: &str,
        secret: &str,
        expires_at: Option<tally_domain::Timestamp>,
        now: tally_domain::Timestamp,
    ) -> ApiKey {
        ApiKey {
            id: ApiKeyId::from_ulid(self.ids.ulid()),
            org_id: org.clone(),
            name: name.to_owned(),
            prefix: api_key::visible_prefix(secret),
            expires_at,
            last_used_at: None,
            created_at: now,
        }
    }
}
