//! The operator dashboard's sign-in (`dashboard.md` §1): the pair's operator credential, kept
//! as an Argon2id hash; sessions, whose secret travels in a cookie and is stored as its
//! SHA-256; the side of the pair a session looks at; and the form token that proves a form
//! came from a page of the session.
//!
//! Everything else the dashboard shows and does goes through the operations the API uses,
//! with the session as the caller (`Caller::key_id` is the session's id; see
//! `tally_domain::dashboard`).

use crate::auth::secret_hash;
use crate::{App, AppError, Caller};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use tally_domain::dashboard::{
    CREDENTIAL_PREFIX, CREDENTIAL_RANDOM_CHARS, DashboardSession, SESSION_ID_PREFIX,
    SESSION_TTL_MS, credential_problem,
};
use tally_domain::{ApiKeyId, DomainError, Mode, Organization, Timestamp};
use tally_store::{Db, Lock, StoreError};

/// Characters of randomness in a session secret (the cookie's value).
const SESSION_SECRET_CHARS: usize = 43;

/// A signed-in operator: the session, the organization it looks at, and the caller its
/// operations run as.
#[derive(Debug, Clone)]
pub struct Operator {
    pub session: DashboardSession,
    pub caller: Caller,
}

impl Operator {
    pub fn is_live(&self) -> bool {
        self.caller.is_live()
    }
}

/// The hash of a credential, in the PHC string format (algorithm, parameters, salt, hash).
fn hash_credential(credential: &str, salt: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(salt.as_bytes())
        .map_err(|e| AppError::Store(StoreError::other(format!("credential salt: {e}"))))?;
    Argon2::default()
        .hash_password(credential.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Store(StoreError::other(format!("credential hash: {e}"))))
}

fn credential_holds(credential: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(credential.as_bytes(), &hash)
            .is_ok()
    })
}

/// The form token of a session: derived from its secret, which only the session's browser
/// holds (another site can neither read the cookie nor this page).
pub fn form_token(session_secret: &str) -> String {
    hex::encode(Sha256::digest(
        format!("tally-dashboard-form:{session_secret}").as_bytes(),
    ))
}

/// Compares a posted form token with the session's in constant time.
pub fn form_token_holds(session_secret: &str, posted: &str) -> bool {
    let expected = form_token(session_secret);
    expected.len() == posted.len()
        && expected
            .bytes()
            .zip(posted.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

impl App {
    /// The live organization whose pair the dashboard manages (the first one made).
    async fn dashboard_home(db: &mut dyn Db) -> Result<Organization, AppError> {
        db.oldest_organization(Mode::Live)
            .await?
            .ok_or(AppError::Unauthorized)
    }

    /// Sets the operator credential (`chosen`, or a generated one) and ends every session
    /// signed in with the one before; returns the credential, to be shown once. The command
    /// line's `tally dashboard credential`, and the first start.
    pub async fn set_dashboard_credential(
        &self,
        chosen: Option<String>,
    ) -> Result<String, AppError> {
        let home = Self::dashboard_home(&mut *self.store.read().await?)
            .await
            .map_err(|_| {
                AppError::Store(StoreError::other(
                    "no organization yet: start the server once (`tally serve`) to create one",
                ))
            })?;
        let credential = match chosen {
            Some(chosen) => {
                if let Some(problem) = credential_problem(&chosen) {
                    return Err(DomainError::field("credential", problem).into());
                }
                chosen
            }
            None => format!(
                "{CREDENTIAL_PREFIX}{}",
                self.ids.base62(CREDENTIAL_RANDOM_CHARS)
            ),
        };
        let salt = self.ids.base62(16);
        let to_hash = credential.clone();
        let hash = tokio::task::spawn_blocking(move || hash_credential(&to_hash, &salt))
            .await
            .map_err(|e| AppError::Store(StoreError::other(format!("credential hash: {e}"))))??;
        let now = self.clock.now();
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                Ok::<_, AppError>(tx.set_dashboard_credential(&home.id, &hash, now).await?)
            })
        })
        .await?;
        Ok(credential)
    }

    /// Signs in with the operator credential: a new session looking at the sandbox; returns its
    /// secret (the cookie's value). A wrong credential, or none set, is `Unauthorized`.
    pub async fn sign_in(&self, credential: &str) -> Result<String, AppError> {
        if credential.is_empty() || credential.chars().count() > 1024 {
            return Err(AppError::Unauthorized);
        }
        let mut db = self.store.read().await?;
        let home = Self::dashboard_home(&mut *db).await?;
        let stored = db
            .dashboard_credential(&home.id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        drop(db);
        let offered = credential.to_owned();
        // Argon2 takes tens of milliseconds of CPU on purpose: off the request threads.
        let holds = tokio::task::spawn_blocking(move || credential_holds(&offered, &stored))
            .await
            .unwrap_or(false);
        if !holds {
            return Err(AppError::Unauthorized);
        }
        // Decision: a new session looks at the sandbox; live data is one deliberate switch away.
        let sandbox_id = home
            .paired_org_id
            .clone()
            .unwrap_or_else(|| home.id.clone());
        let now = self.clock.now();
        let session = DashboardSession {
            id: ApiKeyId::from_stored(format!("{SESSION_ID_PREFIX}{}", self.ids.ulid())),
            home_org_id: home.id.clone(),
            org_id: sandbox_id,
            created_at: now,
            expires_at: now.plus_millis(SESSION_TTL_MS),
            ended_at: None,
        };
        let secret = self.ids.base62(SESSION_SECRET_CHARS);
        let hash = secret_hash(&secret);
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                Ok::<_, AppError>(tx.insert_dashboard_session(&session, &hash).await?)
            })
        })
        .await?;
        Ok(secret)
    }

    /// The operator whose session secret this is, while the session is open.
    pub async fn operator(&self, secret: &str) -> Result<Operator, AppError> {
        if secret.is_empty() || secret.len() > 128 {
            return Err(AppError::Unauthorized);
        }
        // One connection for both reads: every dashboard request makes them.
        let mut db = self.store.read().await?;
        let session = db
            .dashboard_session(&secret_hash(secret))
            .await?
            .ok_or(AppError::Unauthorized)?;
        if !session.is_open(self.clock.now()) {
            return Err(AppError::Unauthorized);
        }
        let organization = db
            .organization(&session.org_id, Lock::None)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let caller = Caller {
            organization,
            key_id: session.id.clone(),
        };
        Ok(Operator { session, caller })
    }

    /// Points the session at the live side of its pair or at the sandbox.
    pub async fn switch_dashboard_mode(
        &self,
        operator: &Operator,
        mode: Mode,
    ) -> Result<(), AppError> {
        let home = &operator.session.home_org_id;
        let target = match mode {
            Mode::Live => home.clone(),
            Mode::Sandbox => self
                .store
                .read()
                .await?
                .organization(home, Lock::None)
                .await?
                .and_then(|org| org.paired_org_id)
                .ok_or(AppError::Unauthorized)?,
        };
        let (home, id) = (home.clone(), operator.session.id.clone());
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                Ok::<_, AppError>(tx.move_dashboard_session(&home, &id, &target).await?)
            })
        })
        .await
        .map_err(|error| match error {
            AppError::Store(StoreError::NotFound) => AppError::Unauthorized,
            other => other,
        })
    }

    /// A fresh key for one rendered form: submitted twice, the form replays the first answer
    /// (`Idempotency-Key` semantics, scoped to the session).
    pub fn new_form_key(&self) -> String {
        self.ids.base62(24)
    }

    /// The answer recorded under a form key of this session, if any: what a page shows after
    /// the action it posted (`dashboard.md` §3).
    pub async fn form_outcome(
        &self,
        operator: &Operator,
        form_key: &str,
    ) -> Result<Option<tally_store::StoredResponse>, AppError> {
        let scope = tally_store::IdempotencyScope {
            org: operator.caller.org(),
            api_key: &operator.session.id,
        };
        let record = self
            .store
            .read()
            .await?
            .idempotency_record(scope, form_key)
            .await?;
        Ok(record.and_then(|r| r.response))
    }

    /// Ends the session at once: its cookie opens nothing more, on any node.
    pub async fn sign_out(&self, operator: &Operator) -> Result<(), AppError> {
        let (home, id) = (
            operator.session.home_org_id.clone(),
            operator.session.id.clone(),
        );
        let now: Timestamp = self.clock.now();
        tally_store::write(&*self.store, move |tx| {
            Box::pin(
                async move { Ok::<_, AppError>(tx.end_dashboard_session(&home, &id, now).await?) },
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_holds_against_its_own_hash_only() {
        let hash = hash_credential("correct horse battery", "c2FsdHNhbHRzYWx0").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(credential_holds("correct horse battery", &hash));
        assert!(!credential_holds("correct horse battery!", &hash));
        assert!(!credential_holds("correct horse battery", "not a hash"));
    }

    #[test]
    fn form_tokens_follow_the_session_secret() {
        let token = form_token("secret-a");
        assert!(form_token_holds("secret-a", &token));
        assert!(!form_token_holds("secret-b", &token));
        assert!(!form_token_holds("secret-a", ""));
    }
}
