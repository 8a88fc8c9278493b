//! The signed tokens in the URLs of Tally's hosted pages (`payments.md` §4): `tok_` + the
//! base64url JSON payload, `.`, and the base64url HMAC-SHA256 of everything before the dot
//! under the server's link secret (the one invoice download links use). A token names its page
//! kind, organization and subject; its expiry runs on the organization's clock.

use crate::{App, AppError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tally_domain::{OrgId, Timestamp};

const PREFIX: &str = "tok_";

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub org: OrgId,
    pub subject: String,
    /// Where the page sends the customer when done (`successUrl`), when the link names one.
    pub redirect: Option<String>,
    /// Unix milliseconds on the organization's clock, when it stops working.
    pub expires_at: Option<Timestamp>,
}

/// Why a page refuses a token: a forged or unknown one is not found (404); an expired one, or
/// one whose subject no longer allows the page, is gone (410).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Expired,
}

fn mac(secret: &[u8], signed: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(signed.as_bytes());
    mac
}

/// Signs and reads page tokens, and builds the URLs they go in. Cheap to clone: every write
/// carries one (`collection::Billing`).
#[derive(Clone)]
pub struct PageSigner {
    base_url: std::sync::Arc<str>,
    secret: std::sync::Arc<[u8]>,
}

impl PageSigner {
    /// A token for a page of `kind` about `subject`: the same inputs give the same token, so a
    /// link reads back unchanged (`nonce` tells two issues of one subject apart).
    pub fn token(
        &self,
        kind: &str,
        org: &OrgId,
        subject: &str,
        issued_at: Timestamp,
        expires_at: Option<Timestamp>,
        nonce: &str,
    ) -> String {
        self.token_to(kind, org, subject, (issued_at, expires_at), nonce, None)
    }

    /// `token`, naming where the page sends the customer when done.
    pub fn token_to(
        &self,
        kind: &str,
        org: &OrgId,
        subject: &str,
        (issued_at, expires_at): (Timestamp, Option<Timestamp>),
        nonce: &str,
        redirect: Option<&str>,
    ) -> String {
        let mut payload = json!({
            "v": 1,
            "k": kind,
            "o": org.as_str(),
            "s": subject,
            "iat": issued_at.as_millis().div_euclid(1000),
            "exp": expires_at.map(|e| e.as_millis().div_euclid(1000)),
            "n": nonce,
        });
        if let Some(redirect) = redirect {
            payload["r"] = json!(redirect);
        }
        let signed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(payload.to_string()));
        let signature = mac(&self.secret, &signed).finalize().into_bytes();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The hidden field a page's HTML forms carry: a browser posting from another site cannot
    /// know it (the token is in the page's URL, which that site does not see).
    pub fn form_key(&self, token: &str) -> String {
        let signature = mac(&self.secret, &format!("form:{token}"))
            .finalize()
            .into_bytes();
        URL_SAFE_NO_PAD.encode(signature)
    }

    /// Whether `key` is the form key of `token` (compared in constant time).
    pub fn form_key_holds(&self, token: &str, key: &str) -> bool {
        URL_SAFE_NO_PAD.decode(key).is_ok_and(|bytes| {
            mac(&self.secret, &format!("form:{token}"))
                .verify_slice(&bytes)
                .is_ok()
        })
    }

    /// The public origin clients reach this server at (`--public-base-url`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether clients reach this server over HTTPS (cookies are then marked `Secure`).
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// `{publicBaseUrl}/{path}/{token}`.
    pub fn url(&self, path: &str, token: &str) -> String {
        format!("{}/{path}/{token}", self.base_url)
    }

    /// The claims of a token for a page of `kind`, when its signature holds (checked in
    /// constant time); the page checks the expiry against the organization's clock.
    pub fn read(&self, kind: &str, token: &str) -> Result<TokenClaims, TokenRefusal> {
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenRefusal::Unknown)?;
        let payload = signed.strip_prefix(PREFIX).ok_or(TokenRefusal::Unknown)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenRefusal::Unknown)?;
        mac(&self.secret, signed)
            .verify_slice(&signature)
            .map_err(|_| TokenRefusal::Unknown)?;
        let payload: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenRefusal::Unknown)?;
        if payload["v"] != json!(1) || payload["k"] != json!(kind) {
            return Err(TokenRefusal::Unknown);
        }
        let text = |key: &str| payload[key].as_str().map(str::to_owned);
        Ok(TokenClaims {
            org: OrgId::new(text("o").ok_or(TokenRefusal::Unknown)?),
            subject: text("s").ok_or(TokenRefusal::Unknown)?,
            redirect: text("r"),
            expires_at: payload["exp"]
                .as_i64()
                .map(|seconds| Timestamp::from_millis(seconds.saturating_mul(1000))),
        })
    }
}

/// A page request's token, read: what it says, the organization it names, and that
/// organization's now (the clock its expiries run on).
pub(crate) struct PageTarget {
    pub claims: TokenClaims,
    pub organization: tally_domain::Organization,
    pub now: Timestamp,
}

impl PageTarget {
    /// Whether the token is past its expiry on the organization's clock.
    pub fn expired(&self) -> bool {
        self.claims.expires_at.is_some_and(|end| self.now >= end)
    }
}

impl App {
    /// The signer of this server's pages: its public origin and link secret.
    pub async fn page_signer(&self) -> Result<PageSigner, AppError> {
        if let Some(signer) = self.links.signer.get() {
            return Ok(signer.clone());
        }
        let signer = PageSigner {
            base_url: self.links.public_base_url().into(),
            secret: self.link_secret().await?.into(),
        };
        Ok(self.links.signer.get_or_init(|| signer).clone())
    }

    /// Reads a token for a page of `kind`, with a read view for the page's subject. A forged
    /// token, another page's, or one naming an organization that does not exist is not found;
    /// whether the subject still allows the page is the page's to say.
    pub(crate) async fn page_target(
        &self,
        kind: &str,
        token: &str,
    ) -> Result<(PageTarget, Box<dyn tally_store::Db>), AppError> {
        let not_found = || AppError::Page(crate::payments::PageRefusal::NotFound);
        let claims = self
            .page_signer()
            .await?
            .read(kind, token)
            .map_err(|_| not_found())?;
        let mut db = self.store.read().await?;
        let organization = db
            .organization(&claims.org, tally_store::Lock::None)
            .await?
            .ok_or_else(not_found)?;
        let now = organization.now(self.clock.now());
        let target = PageTarget {
            claims,
            organization,
            now,
        };
        Ok((target, db))
    }
}
