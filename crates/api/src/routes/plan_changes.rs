//! `POST /subscriptions/{id}/change-plan` and `…/preview-change` (`lifecycle.md` §4).

use super::plans::parse_interval;
use super::write;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::catalog::PlanRef;
use tally_app::plan_changes::{ChangePlan, PlanChangeOutcome, PlanChangeRequest};
use tally_domain::period::BillingInterval;
use tally_domain::{ApiVersion, FieldError};
use tally_wire::plan_changes::{self as view, Completed, Scheduled};
use tally_wire::requests::{ChangePlanIn, PreviewChangeIn};

/// The interval a change asks for: any recurring one (`one_time` has nothing to prorate).
fn interval(
    text: Option<&str>,
    field: &str,
    version: ApiVersion,
) -> Result<Option<BillingInterval>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let parsed = parse_interval(text, version)
        .ok()
        .filter(|i| *i != BillingInterval::OneTime);
    match parsed {
        Some(interval) => Ok(Some(interval)),
        None => {
            let allowed = if version >= ApiVersion::V2026_08_27 {
                "weekly, monthly, quarterly, semiannual, yearly"
            } else {
                "weekly, monthly, quarterly, yearly"
            };
            Err(ApiError::validation(
                field,
                format!("{field} must be one of {allowed}"),
            ))
        }
    }
}

fn refuse_offer(offer: Option<&String>) -> Result<(), ApiError> {
    match offer {
        Some(_) => Err(ApiError::from_field_errors(
            crate::error::ErrorCode::ValidationError,
            &[FieldError::new(
                "offerId",
                "offers apply when a subscription is created, or through apply-offer",
            )],
        )),
        None => Ok(()),
    }
}

pub async fn change(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ChangePlanIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    refuse_offer(input.offer_id.as_ref())?;
    let billing_interval = interval(
        input.new_billing_interval.as_deref(),
        "newBillingInterval",
        ctx.version,
    )?;
    if input.new_plan_id.is_none() && billing_interval.is_none() {
        return Err(ApiError::validation(
            "newPlanId",
            "send newPlanId, newBillingInterval or both",
        ));
    }
    let command = ChangePlan(PlanChangeRequest {
        subscription: id,
        plan: input.new_plan_id.as_deref().map(PlanRef::parse),
        billing_interval,
        param: "newPlanId",
    });
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |outcome| {
            let body = match outcome {
                PlanChangeOutcome::Completed {
                    detail,
                    previous_plan,
                    amounts,
                    credits,
                    invoice,
                } => view::completed(
                    version,
                    Completed {
                        subscription: &detail.subscription,
                        previous_plan,
                        plan: &detail.plan,
                        price: detail.price.as_ref(),
                        amounts: *amounts,
                        credits_applied: credits.applied,
                        remaining_credit_balance: credits.remaining,
                        invoice_id: invoice.as_ref().map(|i| i.id.as_str()),
                    },
                    livemode,
                ),
                PlanChangeOutcome::Scheduled {
                    detail,
                    change,
                    target_plan,
                    warning,
                } => view::scheduled(
                    version,
                    Scheduled {
                        subscription: &detail.subscription,
                        change,
                        plan: target_plan,
                        warning: warning.as_ref().map(|w| {
                            (
                                w.feature_code.as_str(),
                                w.feature_name.as_str(),
                                w.current,
                                w.included,
                            )
                        }),
                    },
                    livemode,
                ),
            };
            reply::object(version, body)
        },
    )
    .await
}

pub async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<PreviewChangeIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    refuse_offer(input.offer_id.as_ref())?;
    let billing_interval = interval(
        input.billing_interval.as_deref(),
        "billingInterval",
        ctx.version,
    )?;
    let plan = super::required(input.plan_id, "planId")?;
    let request = PlanChangeRequest {
        subscription: id,
        plan: Some(PlanRef::parse(&plan)),
        billing_interval,
        param: "planId",
    };
    let preview = state.app.preview_plan_change(&ctx.caller, &request).await?;
    let body = view::preview(
        ctx.version,
        &preview.currency,
        preview.amounts,
        preview.credits.applied,
        preview.effective_at,
        ctx.livemode(),
    );
    Ok(reply::object(ctx.version, body).into())
}
