//! API key operations over the API: list, create, delete (`catalog.md` §1).

use crate::auth::secret_hash;
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::ApiKeyId;
use tally_domain::api_key::{ApiKey, NewApiKey};
use tally_domain::page::{Page, PageRequest};

/// A key just made: the record and its secret, which is shown this once. `secret` is `None`
/// in the answer an idempotency key keeps for replays (`Command::without_secrets`).
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: Option<String>,
}

/// Makes a key for the caller's organization; its mode follows the organization's.
///
/// Decision: a key lives on real time (`createdAt`, `expiresAt` and its expiry), even in a
/// sandbox on a test clock. It is a credential, not billing state: a test clock moved ten
/// years ahead must neither keep a one-day key alive nor date it past the year 9999.
pub struct CreateApiKey(pub NewApiKey);

#[async_trait]
impl Command for CreateApiKey {
    type Output = CreatedApiKey;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CreatedApiKey, AppError> {
        let mode = ctx.caller.organization.mode;
        let secret = tally_domain::api_key::compose_secret(
            mode,
            &ctx.ids.base62(tally_domain::api_key::SECRET_RANDOM_CHARS),
        );
        let key = ApiKey {
            id: ApiKeyId::from_ulid(ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            name: self.0.name.clone(),
            prefix: tally_domain::api_key::visible_prefix(&secret),
            expires_at: Some(self.0.expires_at(ctx.real_now)),
            last_used_at: None,
            created_at: ctx.real_now,
        };
        ctx.tx.insert_api_key(&key, &secret_hash(&secret)).await?;
        Ok(CreatedApiKey {
            key,
            secret: Some(secret),
        })
    }

    fn without_secrets(created: &CreatedApiKey) -> Option<CreatedApiKey> {
        Some(CreatedApiKey {
            key: created.key.clone(),
            secret: None,
        })
    }
}

/// Revokes a key of the caller's organization. Deleting the key making the request is allowed
/// (`catalog.md` §1); the next request with it is unauthorized.
pub struct DeleteApiKey(pub ApiKeyId);

#[async_trait]
impl Command for DeleteApiKey {
    type Output = ApiKeyId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<ApiKeyId, AppError> {
        if ctx
            .tx
            .revoke_api_key(ctx.caller.org(), &self.0, ctx.now)
            .await?
        {
            Ok(self.0.clone())
        } else {
            Err(AppError::NotFound(NotFound::ApiKey))
        }
    }
}

impl App {
    pub async fn api_keys(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<ApiKey>, AppError> {
        Ok(self
            .reader(caller)
            .await?
            .0
            .api_keys(caller.org(), page)
            .await?)
    }
}
