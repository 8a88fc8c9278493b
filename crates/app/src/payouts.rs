//! The merchant's balance and its payouts (`payments.md` §9). Sandbox organizations have an
//! implicit verified payout account; their payouts settle right after the request commits
//! (paid, or failed for the sandbox's failing account number), in a job of their own so that
//! the request answers `pending` as a processor's asynchronous transfer would.

use crate::payments::processor_for;
use crate::{App, AppError, Caller, Command, WriteCtx};
use async_trait::async_trait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::ids::{PayoutBankAccountId, PayoutId};
use tally_domain::money::Cents;
use tally_domain::payouts::{
    FAILING_ACCOUNT, Payout, PayoutBankAccount, PayoutStatus, SANDBOX_BANK,
};
use tally_domain::{OrgId, Timestamp};
use tally_store::{Lock, PayoutVerification, Tx};

/// The currency payouts are made in.
pub const PAYOUT_CURRENCY: &str = "usd";

/// A bank account as a request gives it, checked by the API.
#[derive(Debug, Clone)]
pub struct NewBankAccount {
    pub account_number: String,
    pub holder_name: String,
    pub account_type: Option<String>,
    pub set_default: bool,
}

fn number_hash(org: &OrgId, number: &str) -> String {
    hex::encode(Sha256::digest(format!("{}:{number}", org.as_str())))
}

/// An event of the merchant's own (no customer).
pub(crate) fn merchant_event(
    ids: &dyn crate::IdSource,
    org: &OrgId,
    event_type: &str,
    data: Value,
    at: Timestamp,
) -> WebhookEvent {
    WebhookEvent {
        id: WebhookEventId::from_ulid(ids.ulid()),
        org_id: org.clone(),
        event_type: event_type.to_owned(),
        customer_id: None,
        data,
        created_at: at,
    }
}

/// `payout.available` with the whole available amount, after something raised it.
pub(crate) async fn available_event(
    tx: &mut dyn Tx,
    ids: &dyn crate::IdSource,
    org: &OrgId,
    currency: &str,
    now: Timestamp,
) -> Result<WebhookEvent, AppError> {
    let balance = tx.merchant_balance(org, currency, now).await?;
    Ok(merchant_event(
        ids,
        org,
        "payout.available",
        json!({"availableAmount": balance.available().0, "currency": currency}),
        now,
    ))
}

async fn add_account(
    ctx: &mut WriteCtx<'_>,
    new: &NewBankAccount,
    force_default: bool,
) -> Result<PayoutBankAccount, AppError> {
    let org = ctx.caller.org().clone();
    let hash = number_hash(&org, &new.account_number);
    let existing = ctx.tx.bank_accounts(&org).await?;
    if existing.iter().any(|a| a.number_hash == hash) {
        return Err(AppError::Duplicate {
            field: "accountNumber",
        });
    }
    let account = PayoutBankAccount {
        id: PayoutBankAccountId::from_ulid(ctx.ids.ulid()),
        org_id: org,
        holder_name: new.holder_name.trim().to_owned(),
        last4: new.account_number[new.account_number.len() - 4..].to_owned(),
        number_hash: hash,
        fails: new.account_number == FAILING_ACCOUNT,
        account_type: new.account_type.clone(),
        is_default: force_default || new.set_default || existing.is_empty(),
        created_at: ctx.now,
    };
    ctx.tx.insert_bank_account(&account).await?;
    Ok(account)
}

/// `POST /payouts/bank-accounts`: the first account, or one sent with `setDefault`, becomes
/// the default.
pub struct AddBankAccount(pub NewBankAccount);

#[async_trait]
impl Command for AddBankAccount {
    type Output = PayoutBankAccount;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PayoutBankAccount, AppError> {
        processor_for(&ctx.caller.organization, "payouts.addBankAccount")?;
        // One organization's payout changes queue behind each other.
        ctx.tx
            .organization(ctx.caller.org(), Lock::ForUpdate)
            .await?;
        add_account(ctx, &self.0, false).await
    }
}

/// `POST /payouts`: at most what is available, to the default account; answered `pending`.
pub struct RequestPayout {
    pub amount: Cents,
    pub description: Option<String>,
}

/// A payout with the account it goes to.
#[derive(Debug, Clone)]
pub struct PayoutView {
    pub payout: Payout,
    pub account: PayoutBankAccount,
}

fn payout_data(view: &PayoutView) -> Value {
    let p = &view.payout;
    json!({
        "payoutId": p.id.as_str(),
        "amount": p.amount.0,
        "fee": 0,
        "netAmount": p.amount.0,
        "currency": PAYOUT_CURRENCY,
        "status": p.status.as_str(),
        "destinationBank": {"bankName": SANDBOX_BANK, "last4": view.account.last4},
    })
}

#[async_trait]
impl Command for RequestPayout {
    type Output = PayoutView;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PayoutView, AppError> {
        processor_for(&ctx.caller.organization, "payouts.request")?;
        let org = ctx.caller.org().clone();
        // Concurrent requests of one organization take turns here, so two can never spend the
        // same available amount.
        ctx.tx.organization(&org, Lock::ForUpdate).await?;
        let account = ctx
            .tx
            .bank_accounts(&org)
            .await?
            .into_iter()
            .find(|a| a.is_default)
            .ok_or(AppError::NoPayoutBankAccount)?;
        let balance = ctx
            .tx
            .merchant_balance(&org, PAYOUT_CURRENCY, ctx.now)
            .await?;
        if !balance.covers(self.amount) {
            return Err(AppError::InsufficientPayoutBalance {
                available: balance.available(),
                requested: self.amount,
            });
        }
        let id = PayoutId::from_ulid(ctx.ids.ulid());
        let payout = Payout {
            provider_transfer_id: format!("tr_sandbox_{}", id.as_str().trim_start_matches("po_")),
            id,
            org_id: org.clone(),
            bank_account_id: account.id.clone(),
            amount: self.amount,
            description: self.description.clone(),
            status: PayoutStatus::Pending,
            failure_code: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_payout(&payout).await?;
        let view = PayoutView { payout, account };
        let mut data = payout_data(&view);
        data["createdAt"] = json!(ctx.now.to_rfc3339());
        let event = merchant_event(ctx.ids, &org, "payout.created", data, ctx.now);
        ctx.tx.insert_webhook_events(&[event]).await?;
        Ok(view)
    }
}

/// The sandbox's transfer: paid, or failed for its failing account (which gives the amount
/// back: `payout.available`).
struct SettlePayout(PayoutId);

#[async_trait]
impl Command for SettlePayout {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org().clone();
        ctx.tx.organization(&org, Lock::ForUpdate).await?;
        let Some(mut payout) = ctx.tx.payout(&org, &self.0).await? else {
            return Ok(());
        };
        if payout.status != PayoutStatus::Pending {
            return Ok(());
        }
        let Some(account) = ctx.tx.bank_account(&org, &payout.bank_account_id).await? else {
            return Ok(());
        };
        let failed = account.fails;
        payout.status = if failed {
            PayoutStatus::Failed
        } else {
            PayoutStatus::Paid
        };
        payout.failure_code = failed.then(|| "account_closed".to_owned());
        payout.updated_at = ctx.now;
        ctx.tx.update_payout(&payout).await?;
        let view = PayoutView { payout, account };
        let mut data = payout_data(&view);
        let mut events = Vec::new();
        if failed {
            data["failedAt"] = json!(ctx.now.to_rfc3339());
            data["failureCode"] = json!("account_closed");
            data["failureMessage"] = json!("The bank account has been closed.");
            events.push(merchant_event(
                ctx.ids,
                &org,
                "payout.failed",
                data,
                ctx.now,
            ));
            events.push(available_event(ctx.tx, ctx.ids, &org, PAYOUT_CURRENCY, ctx.now).await?);
        } else {
            data["paidAt"] = json!(ctx.now.to_rfc3339());
            events.push(merchant_event(ctx.ids, &org, "payout.paid", data, ctx.now));
        }
        ctx.tx.insert_webhook_events(&events).await?;
        Ok(())
    }
}

impl App {
    /// Settles a payout the sandbox accepted, right after its request committed.
    pub async fn settle_payout(&self, caller: &Caller, id: &PayoutId) -> Result<(), AppError> {
        self.page_write(&caller.organization, SettlePayout(id.clone()))
            .await
    }
}

/// The 2026-07-11 `completeVerification` body, checked by the API.
#[derive(Debug, Clone)]
pub struct Verification {
    pub email: String,
    pub business_type: String,
    pub country: String,
    pub bank: NewBankAccount,
}

/// The answer to a verification: the record, and whether it existed before.
#[derive(Debug, Clone)]
pub struct Verified {
    pub record: PayoutVerification,
    pub already_existed: bool,
}

/// `POST /payouts/verification` (2026-07-11): records the payout account once and makes its
/// bank account the default; a repeat returns the record (`alreadyExists: true`).
pub struct CompleteVerification(pub Verification);

#[async_trait]
impl Command for CompleteVerification {
    type Output = Verified;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Verified, AppError> {
        processor_for(&ctx.caller.organization, "payouts.completeVerification")?;
        let org = ctx.caller.org().clone();
        ctx.tx.organization(&org, Lock::ForUpdate).await?;
        if let Some(record) = ctx.tx.payout_verification(&org).await? {
            return Ok(Verified {
                record,
                already_existed: true,
            });
        }
        let new = &self.0;
        let hash = number_hash(&org, &new.bank.account_number);
        let known = ctx
            .tx
            .bank_accounts(&org)
            .await?
            .into_iter()
            .any(|a| a.number_hash == hash);
        if !known {
            add_account(ctx, &new.bank, true).await?;
        }
        let record = PayoutVerification {
            org_id: org.clone(),
            provider_account_id: format!("acct_sandbox_{}", ctx.ids.base62(16)),
            business_type: new.business_type.clone(),
            country: new.country.clone(),
            email: new.email.clone(),
            created_at: ctx.now,
        };
        ctx.tx.insert_payout_verification(&record).await?;
        Ok(Verified {
            record,
            already_existed: false,
        })
    }
}
