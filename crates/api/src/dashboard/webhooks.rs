//! Webhook endpoints: the list, one endpoint's delivery log with a resend per delivery, and
//! the test send.

use super::{Notice, Posted, Signed, failure, notice_markup, outcome, page, when};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use std::collections::HashMap;
use tally_app::webhooks::ResendDelivery;
use tally_domain::page::PageRequest;

/// Endpoints and deliveries a page lists, newest first.
const SHOWN: u32 = 100;

pub async fn list(State(state): State<AppState>, signed: Signed) -> Response {
    let request = PageRequest {
        limit: SHOWN,
        after: None,
    };
    let endpoints = match state
        .app
        .webhook_endpoints(&signed.operator.caller, &request)
        .await
    {
        Ok(endpoints) => endpoints,
        Err(error) => return failure(&error),
    };
    let content = html! {
        h1 { "Webhook endpoints" }
        section {
            @if endpoints.items.is_empty() {
                p class="muted" { "No endpoints. Create them with the API (" code { "POST /api/v1/webhooks" } ")." }
            } @else {
                table id="endpoints" {
                    thead { tr { th { "URL" } th { "Events" } th { "Active" } th { "Failures in a row" } } }
                    tbody {
                        @for endpoint in &endpoints.items {
                            tr {
                                td { a href=(format!("/dashboard/webhooks/{}", endpoint.id)) { (endpoint.url) } }
                                td { (endpoint.events.join(", ")) }
                                td { (if endpoint.is_active { "yes" } else { "no" }) }
                                td class="num" { (endpoint.consecutive_failures) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&state, &signed, "Webhooks", &content)
}

pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let notice = outcome(&state, &signed, params.get("done").map(String::as_str)).await;
    endpoint_page(&state, &signed, &id, notice).await
}

async fn endpoint_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    notice: Option<Notice>,
) -> Response {
    let caller = &signed.operator.caller;
    let request = PageRequest {
        limit: SHOWN,
        after: None,
    };
    let (endpoint, deliveries) = tokio::join!(
        state.app.webhook_endpoint(caller, id),
        state.app.webhook_deliveries(caller, id, &request),
    );
    let (endpoint, deliveries) = match (endpoint, deliveries) {
        (Ok(endpoint), Ok(deliveries)) => (endpoint, deliveries),
        (Err(error), _) | (_, Err(error)) => return failure(&error),
    };
    let base = format!("/dashboard/webhooks/{}", endpoint.id);
    let content = html! {
        p { a href="/dashboard/webhooks" { "← Webhooks" } }
        h1 { (endpoint.url) }
        (notice_markup(notice.as_ref()))
        section {
            dl {
                dt { "Id" } dd { code { (endpoint.id) } }
                dt { "Events" } dd { (endpoint.events.join(", ")) }
                dt { "Active" } dd { (if endpoint.is_active { "yes" } else { "no" }) }
            }
            form method="post" action=(format!("{base}/test")) class="row" {
                (signed.form_fields(state))
                button type="submit" class="secondary" id="test-send" { "Send a test event" }
            }
        }
        section {
            h2 { "Deliveries" }
            @if deliveries.items.is_empty() {
                p class="muted" { "No deliveries yet." }
            } @else {
                table id="deliveries" {
                    thead { tr { th { "Event" } th { "Status" } th class="num" { "Attempts" } th { "Last answer" } th { "Created" } th {} } }
                    tbody {
                        @for log in &deliveries.items {
                            @let delivery = &log.delivery;
                            tr id=(format!("delivery-{}", delivery.id)) {
                                td { (delivery.event_type) }
                                td class="delivery-status" { (delivery.status.as_str()) }
                                td class="num" { (delivery.attempts) }
                                td { (last_answer(log)) }
                                td { (when(delivery.created_at)) }
                                td {
                                    form method="post" action=(format!("{base}/deliveries/{}/resend", delivery.id)) class="inline" {
                                        (signed.form_fields(state))
                                        button type="submit" class="secondary resend" { "Resend" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(state, signed, "Webhook endpoint", &content)
}

fn last_answer(log: &tally_store::DeliveryLog) -> Markup {
    match log.attempts.iter().max_by_key(|a| a.number) {
        None => html! { span class="muted" { "not sent yet" } },
        Some(attempt) => match (attempt.result.status_code, &attempt.result.error) {
            (Some(status), _) => html! { "HTTP " (status) " at " (when(attempt.attempted_at)) },
            (None, Some(error)) => html! { (error) },
            (None, None) => html! { "no answer" },
        },
    }
}

/// `POST …/test`: sends a signed `webhook.test` now and shows how it went (not stored, never
/// retried, so nothing to replay).
pub async fn test_send(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let notice = match state.app.test_webhook(&posted.operator().caller, &id).await {
        Ok(sent) if sent.success => {
            Notice::Done("The receiver accepted the test event.".to_owned())
        }
        Ok(_) => Notice::Refused("The receiver did not accept the test event.".to_owned()),
        Err(error) => return failure(&error),
    };
    endpoint_page(&state, &posted.signed, &id, Some(notice)).await
}

/// `POST …/deliveries/{delivery}/resend`: due again at once; the dispatcher sends it.
pub async fn resend(
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let back = format!("/dashboard/webhooks/{id}");
    posted
        .act(
            &state,
            ResendDelivery { id: delivery },
            |delivery| format!("Delivery {} will be sent again now.", delivery.id),
            &back,
        )
        .await
}
