//! `/payouts` (`payments.md` §9): bank accounts, payout requests and, in 2026-07-11, the payout
//! account's verification.

use super::{invalid, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::AppError;
use tally_app::payouts::{
    AddBankAccount, CompleteVerification, NewBankAccount, RequestPayout, Verification,
};
use tally_domain::money::Cents;
use tally_domain::payouts::{check_bank_account, check_payout};
use tally_domain::{DomainError, FieldError, Generation};
use tally_wire::payments as view;
use tally_wire::requests::{BankAccountIn, PayoutIn, PayoutVerificationIn};

/// A bank account's fields, checked; `prefix` names them inside a larger body.
fn new_account(input: &BankAccountIn, prefix: &str) -> Result<NewBankAccount, ApiError> {
    let named = |field: &str| format!("{prefix}{field}");
    let number = input
        .account_number
        .clone()
        .ok_or_else(|| ApiError::validation(named("accountNumber"), "accountNumber is required"))?;
    let holder = input.account_holder_name.clone().ok_or_else(|| {
        ApiError::validation(named("accountHolderName"), "accountHolderName is required")
    })?;
    check_bank_account(
        &number,
        &holder,
        input.routing_number.as_deref(),
        input.account_type.as_deref(),
    )
    .map_err(|problems| {
        invalid(DomainError::Validation(
            problems
                .into_iter()
                .map(|p| FieldError::new(named(&p.field), p.message))
                .collect(),
        ))
    })?;
    Ok(NewBankAccount {
        account_number: number,
        holder_name: holder,
        account_type: input.account_type.clone(),
        set_default: input.set_default.unwrap_or(false),
    })
}

pub async fn add_bank_account(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<BankAccountIn>,
) -> Result<Reply, ApiError> {
    let account = new_account(&body.value, "")?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        AddBankAccount(account),
        move |account| reply::object(version, view::bank_account(account, livemode)),
    )
    .await
}

/// Answers `pending`, then lets the sandbox settle the payout in a job of its own.
pub async fn request(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<PayoutIn>,
) -> Result<Reply, ApiError> {
    let amount = required(body.value.amount, "amount")?;
    check_payout(amount, body.value.description.as_deref())
        .map_err(|problems| invalid(DomainError::Validation(problems)))?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    let command = RequestPayout {
        amount: Cents(amount),
        description: body.value.description.clone(),
    };
    let settled = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = settled.clone();
    let reply = write(&state, &ctx, &key, &body.canonical, command, move |made| {
        *seen.lock().expect("not poisoned") = Some(made.payout.id.clone());
        reply::object(version, view::payout(&made.payout, livemode))
    })
    .await?;
    let made = settled.lock().expect("not poisoned").take();
    if let Some(id) = made {
        state.app.settle_payout(&ctx.caller, &id).await?;
    }
    Ok(reply)
}

/// The paths of a verification body that must hold text, by business type.
fn missing_fields(input: &PayoutVerificationIn) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut need = |present: bool, field: &str| {
        if !present {
            problems.push(FieldError::new(field, format!("{field} is required")));
        }
    };
    let text = |value: &Option<String>| value.as_deref().is_some_and(|t| !t.trim().is_empty());
    need(text(&input.email), "email");
    need(text(&input.business_url), "businessUrl");
    need(text(&input.document_url), "documentUrl");
    need(input.bank.is_some(), "bank");
    let at = |root: &Option<Value>, path: &str| {
        root.as_ref()
            .and_then(|v| v.pointer(path))
            .and_then(Value::as_str)
            .is_some_and(|t| !t.trim().is_empty())
    };
    let (root, name, paths): (&Option<Value>, &str, &[&str]) = match input.business_type.as_deref()
    {
        Some("individual") => (
            &input.individual,
            "individual",
            &[
                "/firstName",
                "/lastName",
                "/phone",
                "/dateOfBirth",
                "/address/line1",
                "/address/city",
                "/address/postalCode",
                "/address/country",
            ],
        ),
        Some("company") => (
            &input.company,
            "company",
            &[
                "/name",
                "/taxId",
                "/address/line1",
                "/address/city",
                "/address/postalCode",
                "/address/country",
                "/representative/firstName",
                "/representative/lastName",
            ],
        ),
        _ => {
            need(false, "businessType");
            return problems;
        }
    };
    for path in paths {
        need(at(root, path), &format!("{name}{}", path.replace('/', ".")));
    }
    problems
}

/// `POST /payouts/verification`: 2026-07-11 records the payout account; later versions verify
/// through the dashboard (`410 endpoint_deprecated`).
pub async fn complete_verification(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<PayoutVerificationIn>,
) -> Result<Reply, ApiError> {
    if ctx.version.generation() == Generation::Direct {
        return Err(AppError::EndpointDeprecated.into());
    }
    let input = &body.value;
    let problems = missing_fields(input);
    if !problems.is_empty() {
        return Err(invalid(DomainError::Validation(problems)));
    }
    let bank = new_account(input.bank.as_ref().expect("checked above"), "bank.")?;
    let business_type = input.business_type.clone().unwrap_or_default();
    let root = match business_type.as_str() {
        "individual" => &input.individual,
        _ => &input.company,
    };
    let country = root
        .as_ref()
        .and_then(|v| v.pointer("/address/country"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let command = CompleteVerification(Verification {
        email: input.email.clone().unwrap_or_default(),
        business_type,
        country,
        bank,
    });
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |verified| {
            let record = &verified.record;
            reply::object(
                version,
                view::payout_verification(
                    &record.provider_account_id,
                    &record.business_type,
                    &record.country,
                    verified.already_existed,
                    livemode,
                ),
            )
        },
    )
    .await
}
