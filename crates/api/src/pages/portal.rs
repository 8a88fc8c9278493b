//! The customer portal's page (`payments.md` §10): what the customer sees, and the actions
//! it posts.

use super::{
    Answered, HostedPage, PageForm, answer_action, card_inputs, card_value, error_value, layout,
    refusal, show, wants_json,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use tally_app::hosted_tokens::PageSigner;
use tally_app::payments::PageRefusal;
use tally_app::portal::{PortalAction, PortalPage};
use tally_domain::FieldError;
use tally_domain::catalog::FeatureType;
use tally_domain::money::format_money;
use tally_domain::subscription::SubscriptionStatus;

impl HostedPage for PortalPage {
    fn state(&self) -> Value {
        portal_json(self)
    }
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        portal_html(self, signer, token, problem)
    }
}

fn portal_json(page: &PortalPage) -> Value {
    let subscription = page.subscription.as_ref().map(|detail| {
        let s = &detail.subscription;
        json!({
            "id": s.id.as_str(),
            "status": s.status.as_str(),
            "planName": detail.plan.name,
            "price": detail.price.as_ref().map(|p| p.price.0),
            "currency": s.currency,
            "interval": s.billing_interval.map(|i| i.as_str()),
            "currentPeriodEnd": s.current_period.map(|p| p.end.to_rfc3339()),
            "cancelAt": s.cancellation.as_ref().map(|c| c.effective_at.to_rfc3339()),
        })
    });
    json!({
        "kind": "portal",
        "status": "open",
        "livemode": page.organization.mode == tally_domain::Mode::Live,
        "customer": {"id": page.customer.id.as_str(), "email": page.customer.email, "name": page.customer.full_name},
        "subscription": subscription,
        "card": page.card.as_ref().map(card_value),
        "payUrl": page.pay_url,
        "invoices": page.invoices.iter().map(|i| json!({
            "id": i.invoice.id,
            "invoiceNumber": i.invoice.number,
            "total": i.invoice.total().0,
            "currency": i.invoice.currency,
            "status": i.invoice.status.as_str(),
            "issueDate": i.invoice.issue_date.to_rfc3339(),
            "pdfUrl": i.pdf_url,
        })).collect::<Vec<_>>(),
        "error": page.error.as_ref().map(error_value),
        "returnUrl": page.return_url,
    })
}

pub(super) async fn portal_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.portal_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

pub(super) async fn portal_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let action = match form.field("action") {
        "cancel" => PortalAction::Cancel,
        "uncancel" => PortalAction::Uncancel,
        "update_card" => {
            let (number, exp_month, exp_year, cvc) = form.card();
            PortalAction::UpdateCard {
                number: number.to_owned(),
                exp_month: exp_month.to_owned(),
                exp_year: exp_year.to_owned(),
                cvc: cvc.to_owned(),
            }
        }
        _ => {
            return refusal(
                form.json,
                &PageRefusal::Form(FieldError::new(
                    "action",
                    "The portal's actions are cancel, uncancel and update_card.",
                )),
                None,
            );
        }
    };
    let outcome = state.app.portal_action(&token, action).await;
    // Done: back to the portal.
    let answered = |page: &PortalPage| match page.error {
        Some(_) => Answered::Refused,
        None => Answered::SeeOther(format!("/portal/{token}")),
    };
    let reload = state.app.portal_page(&token);
    answer_action(&state, (&token, form.json), outcome, answered, reload).await
}

/// "per month" and the like, for a price's interval.
fn per_interval(interval: &str) -> &'static str {
    match interval {
        "weekly" => "per week",
        "monthly" => "per month",
        "quarterly" => "per quarter",
        "semiannual" => "per half-year",
        "yearly" => "per year",
        _ => "once",
    }
}

fn portal_html(
    page: &PortalPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&FieldError>,
) -> Markup {
    let action = format!("/portal/{token}");
    let form_key = signer.form_key(token);
    let sandbox = page.organization.mode == tally_domain::Mode::Sandbox;
    let who = page
        .customer
        .full_name
        .clone()
        .unwrap_or_else(|| page.customer.email.clone());
    let content = html! {
        h1 { "Billing for " (who) }
        p { (page.customer.email) }
        @if let Some(url) = &page.return_url { p { a href=(url) { "Back" } } }
        @if let Some(error) = &page.error { p role="alert" { (error.message) } }
        @if let Some(problem) = problem { p role="alert" { (problem.message) } }
        section aria-labelledby="subscription-heading" {
            h2 id="subscription-heading" { "Subscription" }
            @match &page.subscription {
                None => p { "No subscription." },
                Some(detail) => {
                    @let s = &detail.subscription;
                    p { strong { (detail.plan.name) } " · " (s.status.as_str()) }
                    @if let Some(url) = &page.pay_url {
                        p role="alert" {
                            @if s.status == SubscriptionStatus::PastDue { "Your last payment did not go through. " }
                            a href=(url) id="pay-now" { "Pay now" }
                        }
                    }
                    @if let Some(price) = &detail.price {
                        p { (format_money(price.price.0, &s.currency)) " " (per_interval(price.billing_interval.as_str())) }
                    }
                    @if let Some(cancellation) = &s.cancellation {
                        p class="ok" { "Ends on " (cancellation.effective_at.month_day_year()) "." }
                        form method="post" action=(action) {
                            input type="hidden" name="formKey" value=(form_key);
                            button type="submit" name="action" value="uncancel" { "Keep my subscription" }
                        }
                    } @else if s.status.is_live() {
                        @if let Some(period) = s.current_period { p { "Renews on " (period.end.month_day_year()) "." } }
                        form method="post" action=(action) {
                            input type="hidden" name="formKey" value=(form_key);
                            button type="submit" name="action" value="cancel" class="secondary" { "Cancel at the end of the period" }
                        }
                    }
                    @let seats: Vec<_> = detail.features.iter().filter(|f| f.feature_type == FeatureType::Seats && f.enabled).collect();
                    @if !seats.is_empty() {
                        h3 { "Seats" }
                        ul {
                            @for feature in seats {
                                @let current = detail.seats.get(&feature.code).copied().unwrap_or(0);
                                li { (feature.name) ": " (current) " in use, " (feature.included_amount) " included"
                                    @if current > feature.included_amount { ", " (current - feature.included_amount) " extra" } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="card-heading" {
            h2 id="card-heading" { "Card" }
            @match &page.card {
                Some(card) => p { (card.brand) " ending in " (card.last4) ", expires " (card.exp_month) "/" (card.exp_year) },
                None => p { "No card saved." },
            }
            @if page.payments {
                form method="post" action=(action) {
                    input type="hidden" name="formKey" value=(form_key);
                    input type="hidden" name="action" value="update_card";
                    (card_inputs("New card number", None))
                    button type="submit" { "Save card" }
                }
            }
        }
        section aria-labelledby="invoices-heading" {
            h2 id="invoices-heading" { "Invoices" }
            @if page.invoices.is_empty() { p { "No invoices yet." } }
            @else {
                table {
                    thead { tr { th scope="col" { "Invoice" } th scope="col" { "Date" } th scope="col" { "Total" } th scope="col" { "Status" } } }
                    tbody {
                        @for item in &page.invoices {
                            @let invoice = &item.invoice;
                            tr {
                                td { a href=(item.pdf_url) { (invoice.number) } }
                                td { (invoice.issue_date.month_day_year()) }
                                td { (format_money(invoice.total().0, &invoice.currency)) }
                                td { (invoice.status.as_str()) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Billing", sandbox, &content)
}
