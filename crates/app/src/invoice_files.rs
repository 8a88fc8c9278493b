//! Invoice PDFs and the links that download them (`commerce.md` §8.3). A link names the
//! invoice and its expiry and carries an HMAC-SHA256 of both (with the organization) under the
//! server's link secret, so Tally serves it without an API key and can refuse a changed or
//! expired one. Expiry follows the organization's clock, like every link Tally signs.

use crate::{App, AppError, Caller, NotFound};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};
use tally_documents::{DocumentLine, InvoiceDocument, invoice_pdf};
use tally_domain::billing::{ChargeType, Invoice, InvoiceLine, InvoiceStatus, LineType};
use tally_domain::money::format_money;
use tally_domain::{Customer, Mode, Organization, Timestamp};
use tally_store::Lock;

/// How long a download link works.
pub const LINK_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// The name the generated link secret is stored under (`server_secrets`).
const LINK_SECRET_NAME: &str = "invoice_links";
/// Bytes of a secret Tally generates for itself.
pub const LINK_SECRET_BYTES_MIN: usize = 32;

/// Where links point and what signs them.
pub struct InvoiceLinks {
    /// The origin links are built on, without a trailing `/`.
    public_base_url: String,
    /// The operator's secret, when given; otherwise one is generated once per database and
    /// shared by every node (`stored`).
    configured: Option<Vec<u8>>,
    stored: OnceLock<Vec<u8>>,
    /// The pages' signer over that origin and secret, made once (`App::page_signer`).
    pub(crate) signer: OnceLock<crate::hosted_tokens::PageSigner>,
}

impl InvoiceLinks {
    pub fn new(public_base_url: &str, secret: Option<Vec<u8>>) -> Self {
        Self {
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            configured: secret,
            stored: OnceLock::new(),
            signer: OnceLock::new(),
        }
    }
}

impl InvoiceLinks {
    /// The origin every link Tally hands out is built on (hosted pages too).
    pub(crate) fn public_base_url(&self) -> &str {
        &self.public_base_url
    }
}

impl Default for InvoiceLinks {
    fn default() -> Self {
        Self::new("http://localhost:8080", None)
    }
}

/// A minted link.
#[derive(Debug, Clone)]
pub struct DownloadLink {
    pub url: String,
    pub expires_at: Timestamp,
}

/// A rendered invoice, ready to serve or attach.
#[derive(Debug, Clone)]
pub struct InvoiceFile {
    /// `INV-000001.pdf`.
    pub filename: String,
    pub pdf: Vec<u8>,
}

fn signature(secret: &[u8], org: &str, invoice: &str, exp: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(format!("{org}.{invoice}.{exp}").as_bytes());
    mac
}

impl App {
    /// Serves download links from `links`.
    pub fn with_invoice_links(mut self, links: InvoiceLinks) -> Self {
        self.links = Arc::new(links);
        self
    }

    /// The key links are signed with: the configured one, else the one stored in the database
    /// (made on first use).
    pub(crate) async fn link_secret(&self) -> Result<Vec<u8>, AppError> {
        if let Some(secret) = &self.links.configured {
            return Ok(secret.clone());
        }
        if let Some(secret) = self.links.stored.get() {
            return Ok(secret.clone());
        }
        let candidate = self.ids.base62(48);
        let stored = tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                tx.server_secret_or_insert(LINK_SECRET_NAME, &candidate)
                    .await
            })
        })
        .await?;
        Ok(self
            .links
            .stored
            .get_or_init(|| stored.into_bytes())
            .clone())
    }

    /// A fresh link to the PDF of the caller's invoice `id`, valid for seven days of the
    /// organization's clock.
    pub async fn invoice_download_link(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<DownloadLink, AppError> {
        let (mut db, now) = self.reader(caller).await?;
        db.invoice(caller.org(), id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        drop(db);
        self.signed_link(caller.org(), id, now).await
    }

    /// A link to invoice `id` of `org` minted at the organization's `now`.
    pub(crate) async fn signed_link(
        &self,
        org: &tally_domain::OrgId,
        id: &str,
        now: Timestamp,
    ) -> Result<DownloadLink, AppError> {
        // Whole seconds: the link carries Unix seconds, and its expiry reads the same.
        let exp = now.plus_millis(LINK_TTL_MS).as_millis().div_euclid(1000);
        let secret = self.link_secret().await?;
        let sig = signature(&secret, org.as_str(), id, exp).finalize();
        Ok(DownloadLink {
            url: format!(
                "{}/files/invoices/{id}.pdf?exp={exp}&sig={}",
                self.links.public_base_url,
                hex::encode(sig.into_bytes())
            ),
            expires_at: Timestamp::from_millis(exp * 1000),
        })
    }

    /// The PDF a link names, when its signature holds and it has not expired; `LinkRefused`
    /// otherwise, and not found for an invoice that does not exist.
    pub async fn invoice_file(
        &self,
        id: &str,
        exp: Option<&str>,
        sig: Option<&str>,
    ) -> Result<InvoiceFile, AppError> {
        let mut db = self.store.read().await?;
        let org_id = db
            .invoice_org(id)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        let exp: i64 = exp
            .and_then(|e| e.parse().ok())
            .ok_or(AppError::LinkRefused)?;
        let sig = sig
            .and_then(|s| hex::decode(s).ok())
            .ok_or(AppError::LinkRefused)?;
        let secret = self.link_secret().await?;
        signature(&secret, org_id.as_str(), id, exp)
            .verify_slice(&sig)
            .map_err(|_| AppError::LinkRefused)?;
        let org = db
            .organization(&org_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        if org.now(self.clock.now()).as_millis() >= exp.saturating_mul(1000) {
            return Err(AppError::LinkRefused);
        }
        let invoice = db
            .invoice(&org_id, id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        let customer = db
            .customer(&org_id, &invoice.customer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        render_invoice(&invoice, &customer, &org)
    }
}

/// The PDF of `invoice`, from its current state.
pub(crate) fn render_invoice(
    invoice: &Invoice,
    customer: &Customer,
    org: &Organization,
) -> Result<InvoiceFile, AppError> {
    let pdf = invoice_pdf(&document(invoice, customer, org))
        .map_err(|error| AppError::Store(tally_store::StoreError::other(error)))?;
    Ok(InvoiceFile {
        filename: format!("{}.pdf", invoice.number),
        pdf,
    })
}

/// What the PDF shows (`commerce.md` §8.3).
fn document(invoice: &Invoice, customer: &Customer, org: &Organization) -> InvoiceDocument {
    let money = |amount: i64| format_money(amount, &invoice.currency);
    let total = invoice.total().0;
    let settled = matches!(invoice.status, InvoiceStatus::Paid | InvoiceStatus::Void);
    let mut bill_to = vec![customer.full_name.clone().unwrap_or(customer.email.clone())];
    if customer.full_name.is_some() {
        bill_to.push(customer.email.clone());
    }
    bill_to.extend(address_rows(customer.address.as_ref()));
    if let Some(tax) = &customer.tax_document {
        bill_to.push(format!("Tax ID: {tax}"));
    }
    InvoiceDocument {
        number: invoice.number.clone(),
        invoice_type: invoice.invoice_type.clone(),
        status: invoice.status.as_str().to_ascii_uppercase(),
        test_mode: org.mode == Mode::Sandbox,
        seller: vec![org.name.clone()],
        customer: bill_to,
        issue_date: invoice.issue_date.month_day_year(),
        due_date: invoice.issue_date.month_day_year(),
        period: (invoice.period.start != invoice.period.end).then(|| {
            format!(
                "{} – {}",
                invoice.period.start.month_day_year(),
                invoice.period.end.month_day_year()
            )
        }),
        lines: invoice
            .lines
            .iter()
            .map(|line| DocumentLine {
                description: line.description.clone(),
                feature_name: line.feature_name.clone(),
                service_period: service_period(line, invoice),
                quantity: line.quantity.to_string(),
                unit_amount: money(line.unit_amount.0),
                amount: money(line.amount.0),
            })
            .collect(),
        subtotal: money(invoice.subtotal.0),
        discount: (invoice.discount_amount.0 != 0).then(|| {
            let names: Vec<&str> = invoice
                .lines
                .iter()
                .filter_map(|l| l.discount.as_ref().map(|d| d.name.as_str()))
                .collect();
            (names.join(", "), money(-invoice.discount_amount.0))
        }),
        credit_applied: (invoice.credit_applied.0 != 0).then(|| money(-invoice.credit_applied.0)),
        tax: money(0),
        total: money(total),
        amount_due: money(if settled { 0 } else { total.max(0) }),
        memo: invoice.memo.clone(),
        po_number: None,
        reference: None,
    }
}

/// The time a line pays for: the invoice's period for what is billed in advance (and credits
/// against it), up to the period's start for a true-up of the period that ended, the issue
/// date for a one-off charge.
fn service_period(line: &InvoiceLine, invoice: &Invoice) -> String {
    let period = &invoice.period;
    match (line.line_type, line.charge_type) {
        (LineType::OneTime, _) => invoice.issue_date.month_day_year(),
        (_, ChargeType::TrueUp) => format!("until {}", period.start.month_day_year()),
        _ if period.start == period.end => invoice.issue_date.month_day_year(),
        _ => format!(
            "{} – {}",
            period.start.month_day_year(),
            period.end.month_day_year()
        ),
    }
}

/// The stored address, one row per part that is set, in postal order.
fn address_rows(address: Option<&serde_json::Value>) -> Vec<String> {
    let Some(address) = address.and_then(|a| a.as_object()) else {
        return Vec::new();
    };
    let part = |key: &str| address.get(key).and_then(|v| v.as_str()).map(str::trim);
    let mut rows: Vec<String> = ["line1", "line2"]
        .into_iter()
        .filter_map(part)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let place: Vec<&str> = ["postalCode", "city", "state"]
        .into_iter()
        .filter_map(part)
        .filter(|p| !p.is_empty())
        .collect();
    if !place.is_empty() {
        rows.push(place.join(" "));
    }
    if let Some(country) = part("country").filter(|c| !c.is_empty()) {
        rows.push(country.to_owned());
    }
    rows
}
