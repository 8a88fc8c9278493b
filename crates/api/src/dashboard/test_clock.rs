//! The sandbox test clock: where it stands, its latest run, and advancing it.

use super::{Posted, Signed, failure, message_page, notice_markup, outcome, page, when};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use std::collections::HashMap;
use tally_app::test_clock::AdvanceClock;

pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if signed.operator.is_live() {
        return message_page(
            StatusCode::NOT_FOUND,
            "No test clock in live mode",
            "Test clocks belong to the sandbox: switch to it first.",
        );
    }
    let (clock, notice) = tokio::join!(
        state.app.test_clock(&signed.operator.caller),
        outcome(&state, &signed, params.get("done").map(String::as_str)),
    );
    let clock = match clock {
        Ok(clock) => clock,
        Err(error) => return failure(&error),
    };
    let content = html! {
        h1 { "Test clock" }
        (notice_markup(notice.as_ref()))
        section {
            dl {
                dt { "Sandbox time" } dd id="clock-now" { (when(clock.now)) }
                dt { "Frozen" } dd { (if clock.is_active() { "yes" } else { "no: it follows real time" }) }
            }
            form method="post" action="/dashboard/test-clock" class="row" {
                (signed.form_fields(&state))
                label for="days" { "Advance by days" }
                input id="days" name="days" type="number" min="1" max="3650" value="30" required size="6";
                button type="submit" id="advance" { "Advance and process" }
            }
        }
        @if let Some(run) = &clock.latest_run {
            section id="latest-run" {
                h2 { "Latest run" }
                p { (when(run.started_at_time)) " → " (when(run.target_time)) ": "
                    (run.completed_count) " done, " (run.failed_count) " failed." }
                table {
                    thead { tr { th { "What" } th { "Due" } th { "Customer" } th { "Outcome" } th { "Invoice" } } }
                    tbody {
                        @for item in &run.items {
                            tr {
                                td { (item.kind.as_str()) }
                                td { (when(item.due_at)) }
                                td { (item.customer_name.as_deref().unwrap_or("—")) }
                                td { (item.outcome.as_deref().or(item.error.as_deref()).unwrap_or("—")) }
                                td {
                                    @if let (Some(id), Some(number)) = (&item.invoice_id, &item.invoice_number) {
                                        a class="run-invoice" href=(format!("/dashboard/invoices/{id}")) { (number) }
                                    } @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&state, &signed, "Test clock", &content)
}

/// `POST /dashboard/test-clock`: advances by whole days and processes what falls due, as
/// `POST /test-clock` with `process: true`.
pub async fn advance(State(state): State<AppState>, posted: Posted) -> Response {
    let days = match posted.whole_number("days") {
        Some(days) if (1..=3650).contains(&days) => days,
        _ => return super::check_the_form("Advance by 1 to 3650 days."),
    };
    let idempotency = match posted.idempotency() {
        Ok(idempotency) => idempotency,
        Err(response) => return response,
    };
    let request = AdvanceClock {
        advance_days: Some(days),
        frozen_time: None,
        process: true,
    };
    let written = state
        .app
        .advance_test_clock(
            &posted.operator().caller,
            Some(&idempotency),
            request,
            |outcome| {
                super::recorded(outcome.map(|advanced| {
                    let processed = advanced.run.as_ref().map_or(0, |run| run.items.len());
                    format!(
                        "Advanced to {}; deadlines processed: {processed}.",
                        when(advanced.clock.now)
                    )
                }))
            },
        )
        .await;
    super::back_to("/dashboard/test-clock", &idempotency, written)
}
