//! Customers: the list (search, keyset pages) and one customer's page with its subscription,
//! seats and their timeline, usage, balance and credits, and invoices; the actions on it (set
//! seats, adjust the balance, cancel the subscription).

use super::{
    Posted, Signed, chart, check_the_form, encode, failure, message_page, money, notice_markup,
    outcome, page, when,
};
use crate::AppState;
use crate::extract::{decode_cursor, encode_cursor};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use std::collections::HashMap;
use tally_app::balance::AdjustLedger;
use tally_app::seats::{ChangeSeats, check_count};
use tally_app::subscriptions::{CancelSubscription, SubscriptionDetail};
use tally_app::usage::{Access, AccessDetail};
use tally_domain::CustomerRef;
use tally_domain::customer::Customer;
use tally_domain::page::PageRequest;
use tally_domain::seats::SeatChange;
use tally_store::InvoiceFilter;

/// Customers a list page shows.
const LIST_PAGE: u32 = 50;
/// Seat events the timeline reads: the newest this many (`dashboard.md` §2).
pub const TIMELINE_EVENTS_MAX: u32 = 10_000;
/// Invoices the customer page lists, newest first.
const INVOICES_SHOWN: u32 = 25;

type Params = Query<HashMap<String, String>>;

/// `GET /dashboard/customers?q=…&after=…`: a search (exact id, externalId or e-mail) or the
/// newest customers a page at a time, by keyset (`after` is the last one shown).
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Params,
) -> Response {
    let caller = &signed.operator.caller;
    let search = params.get("q").map(|q| q.trim()).filter(|q| !q.is_empty());
    let (customers, next) = match search {
        Some(text) => match state.app.search_customers(caller, text, LIST_PAGE).await {
            Ok(found) => (found, None),
            Err(error) => return failure(&error),
        },
        None => {
            let Ok(after) = params.get("after").map(|c| decode_cursor(c)).transpose() else {
                return message_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Unknown page",
                    "That page link is not one this dashboard made.",
                );
            };
            let request = PageRequest {
                limit: LIST_PAGE,
                after,
            };
            match state.app.customers(caller, None, &request).await {
                Ok(found) => {
                    let next = found
                        .has_more
                        .then(|| found.items.last())
                        .flatten()
                        .map(|last| encode_cursor(last.created_at, last.id.as_str()));
                    (found.items, next)
                }
                Err(error) => return failure(&error),
            }
        }
    };
    let content = html! {
        h1 { "Customers" }
        form method="get" action="/dashboard/customers" class="row" role="search" {
            label for="q" { "Find" }
            input id="q" name="q" type="search" value=[search] placeholder="e-mail, external id or cus_…" size="40";
            button type="submit" id="find" { "Search" }
            @if search.is_some() { a href="/dashboard/customers" { "All customers" } }
        }
        section {
            @if customers.is_empty() {
                p class="muted" id="no-customers" { (if search.is_some() { "No customer has exactly that id, external id or e-mail." } else { "No customers yet." }) }
            } @else {
                table id="customers" {
                    thead { tr { th { "Name" } th { "E-mail" } th { "External id" } th { "Created" } } }
                    tbody {
                        @for customer in &customers {
                            tr {
                                td { a href=(format!("/dashboard/customers/{}", customer.id.as_str())) { (display_name(customer)) } }
                                td { (customer.email) }
                                td { code { (customer.external_id.as_deref().unwrap_or("—")) } }
                                td { (when(customer.created_at)) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &next {
                p { a id="next-page" href=(format!("/dashboard/customers?after={}", encode(next))) { "Older customers →" } }
            }
        }
    };
    page(&state, &signed, "Customers", &content)
}

fn display_name(customer: &Customer) -> &str {
    customer.full_name.as_deref().unwrap_or(&customer.email)
}

/// `GET /dashboard/customers/{id}`.
pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    let app = &state.app;
    let caller = &signed.operator.caller;
    let customer = match app.customer(caller, &id).await {
        Ok(customer) => customer,
        Err(error) => return failure(&error),
    };
    let reference = customer.id.as_str();
    let invoices = InvoiceFilter {
        customer: Some(customer.id.clone()),
        ..InvoiceFilter::default()
    };
    let recent = PageRequest {
        limit: INVOICES_SHOWN,
        after: None,
    };
    // The parts are independent reads: asked for together.
    let (subscription, balances, events, access, credits, invoices, notice) = tokio::join!(
        app.active_subscription(caller, reference),
        app.seat_balances(caller, reference),
        // One more than drawn: whether there are older ones.
        app.seat_timeline(caller, reference, TIMELINE_EVENTS_MAX + 1),
        app.feature_access_list(caller, reference),
        app.customer_credits(caller, reference),
        app.invoices(caller, &invoices, &recent),
        outcome(&state, &signed, params.get("done").map(String::as_str)),
    );
    let subscription = match subscription {
        Ok(subscription) => subscription,
        Err(error) => return failure(&error),
    };
    let (mut events, (access, now), (credits, _), invoices) =
        match (events, access, credits, invoices) {
            (Ok(events), Ok(access), Ok(credits), Ok(invoices)) => {
                (events, access, credits, invoices)
            }
            (Err(error), ..) | (_, Err(error), ..) | (_, _, Err(error), _) | (.., Err(error)) => {
                return failure(&error);
            }
        };
    let more_events = events.len() > TIMELINE_EVENTS_MAX as usize;
    events.truncate(TIMELINE_EVENTS_MAX as usize);
    // Without a live subscription there are no balances to read.
    let balances = balances.unwrap_or_default();
    let base = format!("/dashboard/customers/{}", customer.id.as_str());
    let content = html! {
        p { a href="/dashboard/customers" { "← Customers" } }
        h1 id="customer-name" { (display_name(&customer)) }
        (notice_markup(notice.as_ref()))
        div class="grid" {
            section {
                h2 { "Customer" }
                dl {
                    dt { "Id" } dd { code { (customer.id.as_str()) } }
                    dt { "E-mail" } dd { (customer.email) }
                    dt { "External id" } dd { code { (customer.external_id.as_deref().unwrap_or("—")) } }
                    dt { "Created" } dd { (when(customer.created_at)) }
                }
            }
            (subscription_section(&state, &signed, &base, subscription.as_ref()))
        }
        section id="seats" {
            h2 { "Seats" }
            @if balances.is_empty() {
                p class="muted" { "No seat types on a live subscription." }
            } @else {
                table id="seat-balances" {
                    thead { tr { th { "Seat type" } th class="num" { "Seats" } th { "Last change" } th { "Set to" } } }
                    tbody {
                        @for balance in &balances {
                            tr data-feature=(balance.feature_code) {
                                td { code { (balance.feature_code) } }
                                td class="num seat-count" { (balance.current) }
                                td { (when(balance.as_of)) }
                                td {
                                    form method="post" action=(format!("{base}/seats")) class="row" {
                                        (signed.form_fields(&state))
                                        input type="hidden" name="feature" value=(balance.feature_code);
                                        label for=(format!("count-{}", balance.feature_code)) class="visually-hidden" { "Seats" }
                                        input id=(format!("count-{}", balance.feature_code)) name="count" type="number" min="0" value=(balance.current) required size="6";
                                        button type="submit" id=(format!("set-{}", balance.feature_code)) { "Set seats" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Seat timeline" }
            (chart::seat_timeline(&events, now))
            @if more_events {
                p class="muted" { "The newest " (TIMELINE_EVENTS_MAX) " changes are drawn." }
            }
        }
        div class="grid" {
            (usage_section(&access))
            (balance_section(&state, &signed, &base, subscription.as_ref(), &credits))
        }
        section id="invoices" {
            h2 { "Invoices" }
            @if invoices.items.is_empty() {
                p class="muted" { "No invoices yet." }
            } @else {
                table {
                    thead { tr { th { "Number" } th { "Type" } th { "Status" } th class="num" { "Total" } th { "Issued" } } }
                    tbody {
                        @for invoice in &invoices.items {
                            tr {
                                td { a href=(format!("/dashboard/invoices/{}", invoice.id)) { (invoice.number) } }
                                td { (invoice.invoice_type) }
                                td class="invoice-status" { (invoice.status.as_str()) }
                                td class="num" { (money(invoice.total().0, &invoice.currency)) }
                                td { (when(invoice.issue_date)) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&state, &signed, display_name(&customer), &content)
}

fn subscription_section(
    state: &AppState,
    signed: &Signed,
    base: &str,
    detail: Option<&SubscriptionDetail>,
) -> Markup {
    html! {
        section id="subscription" {
            h2 { "Subscription" }
            @match detail {
                None => p class="muted" { "No live subscription." },
                Some(detail) => {
                    @let subscription = &detail.subscription;
                    dl {
                        dt { "Plan" } dd { (detail.plan.name) " " code { (detail.plan.code) } }
                        dt { "Status" } dd id="subscription-status" { (subscription.status.as_str()) }
                        dt { "Id" } dd { code { (subscription.id.as_str()) } }
                        @if let Some(period) = &subscription.current_period {
                            dt { "Current period" } dd id="current-period" { (when(period.start)) " → " (when(period.end)) }
                        }
                        @if let Some(interval) = subscription.billing_interval {
                            dt { "Billed" } dd { (interval.as_str()) }
                        }
                        @if let Some(cancellation) = &subscription.cancellation {
                            dt { "Ends" } dd { (when(cancellation.effective_at)) }
                        }
                    }
                    @if subscription.cancellation.is_none() {
                        form method="post" action=(format!("{base}/cancel")) class="row" {
                            (signed.form_fields(state))
                            input type="hidden" name="subscription" value=(subscription.id.as_str());
                            select name="when" aria-label="When" {
                                option value="period_end" { "At the end of the period" }
                                option value="now" { "At once" }
                            }
                            button type="submit" class="danger" id="cancel-subscription" { "Cancel subscription" }
                        }
                    }
                }
            }
        }
    }
}

fn usage_section(access: &[Access]) -> Markup {
    html! {
        section id="usage" {
            h2 { "Usage and quotas" }
            @if access.is_empty() {
                p class="muted" { "No features on a live subscription." }
            } @else {
                table {
                    thead { tr { th { "Feature" } th { "Type" } th { "Allowed" } th class="num" { "Used" } th class="num" { "Included" } } }
                    tbody {
                        @for feature in access {
                            @let (used, included) = figures(&feature.detail);
                            tr {
                                td { (feature.name) " " code { (feature.code) } }
                                td { (feature.feature_type.as_str()) }
                                td { (if feature.allowed { "yes" } else { "no" }) }
                                td class="num" { (used) }
                                td class="num" { (included) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a feature has used and has included, as text.
fn figures(detail: &AccessDetail) -> (String, String) {
    match detail {
        AccessDetail::Boolean { enabled } => (
            "—".to_owned(),
            (if *enabled { "on" } else { "off" }).to_owned(),
        ),
        AccessDetail::Counted {
            used,
            included,
            unlimited,
            ..
        } => (
            used.to_string(),
            if *unlimited {
                "unlimited".to_owned()
            } else {
                included.to_string()
            },
        ),
        AccessDetail::Credits {
            used,
            available_units,
            ..
        } => (used.to_string(), format!("{available_units} left")),
        AccessDetail::Balance {
            used,
            available_units,
            ..
        } => (
            used.to_string(),
            available_units.map_or("—".to_owned(), |units| format!("{units} left")),
        ),
    }
}

fn balance_section(
    state: &AppState,
    signed: &Signed,
    base: &str,
    detail: Option<&SubscriptionDetail>,
    credits: &[tally_domain::customer_credits::CustomerCredit],
) -> Markup {
    let subscription = detail.map(|d| &d.subscription);
    let ledger = subscription.and_then(|s| {
        s.credits
            .as_ref()
            .map(|c| ("Credits", c.remaining.to_string(), c.included.to_string()))
            .or_else(|| {
                s.balance.as_ref().map(|b| {
                    (
                        "Balance",
                        money(b.remaining.to_cents_floor().0, &s.currency),
                        money(b.included.to_cents_floor().0, &s.currency),
                    )
                })
            })
    });
    html! {
        section id="balance" {
            h2 { "Balance and credits" }
            @match (&ledger, subscription) {
                (Some((kind, remaining, included)), Some(subscription)) => {
                    dl {
                        dt { (kind) " remaining" } dd id="ledger-remaining" { (remaining) }
                        dt { "Included per period" } dd { (included) }
                    }
                    form method="post" action=(format!("{base}/balance")) class="row" {
                        (signed.form_fields(state))
                        input type="hidden" name="subscription" value=(subscription.id.as_str());
                        label for="adjust-amount" { "Adjust by" }
                        input id="adjust-amount" name="amount" type="number" required size="8"
                            title=(if *kind == "Credits" { "credits; negative to take away" } else { "10 000 = 1.00; negative to take away" });
                        label for="adjust-reason" { "Reason" }
                        input id="adjust-reason" name="reason" type="text" maxlength="500";
                        button type="submit" id="adjust-balance" { "Adjust" }
                    }
                    p class="muted" { (if *kind == "Credits" { "In credits." } else { "On the 10 000 = 1.00 scale, as the API takes it." }) }
                }
                _ => p class="muted" { "The live subscription's plan keeps no balance or credits." },
            }
            h2 { "Customer credits" }
            @if credits.is_empty() {
                p class="muted" { "None." }
            } @else {
                table id="customer-credits" {
                    thead { tr { th class="num" { "Amount" } th class="num" { "Used" } th { "Reason" } th { "Granted" } } }
                    tbody {
                        @for credit in credits {
                            tr {
                                td class="num" { (money(credit.amount.0, &credit.currency)) }
                                td class="num" { (money(credit.applied.0, &credit.currency)) }
                                td { (credit.reason) }
                                td { (when(credit.created_at)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST …/seats`: sets one seat type's count, as `POST /seats/set` does.
pub async fn set_seats(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Some(count) = posted.whole_number("count") else {
        return check_the_form("Seats must be a whole number.");
    };
    if let Some(problem) = check_count(count, 0, "count") {
        return check_the_form(&format!("Seats {}.", problem.message));
    }
    let Some(customer) = CustomerRef::parse(&id) else {
        return check_the_form("Unknown customer.");
    };
    let feature = posted.field("feature").to_owned();
    let command = ChangeSeats {
        customer,
        feature: feature.clone(),
        change: SeatChange::Set(count),
    };
    let back = format!("/dashboard/customers/{id}");
    posted
        .act(
            &state,
            command,
            move |event| {
                format!(
                    "{} seats of {feature}: was {}.",
                    event.new_balance, event.previous_balance
                )
            },
            &back,
        )
        .await
}

/// `POST …/balance`: a signed adjustment of the subscription's credits or balance.
pub async fn adjust_balance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let amount = match posted.whole_number("amount") {
        Some(0) | None => {
            return check_the_form("The adjustment is a whole number other than 0.");
        }
        Some(amount) => amount,
    };
    let reason = Some(posted.field("reason").trim().to_owned()).filter(|r| !r.is_empty());
    let command = AdjustLedger {
        subscription: posted.field("subscription").to_owned(),
        amount,
        kind: None,
        reason,
    };
    let back = format!("/dashboard/customers/{id}");
    posted
        .act(
            &state,
            command,
            |adjusted| {
                format!(
                    "Adjusted by {}; {} remaining.",
                    adjusted.amount, adjusted.new_balance
                )
            },
            &back,
        )
        .await
}

/// `POST …/cancel`: at the end of the period, or at once.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let immediate = posted.field("when") == "now";
    let command = CancelSubscription {
        id: posted.field("subscription").to_owned(),
        reason: Some("Canceled from the dashboard".to_owned()),
        immediate,
    };
    let back = format!("/dashboard/customers/{id}");
    posted
        .act(
            &state,
            command,
            move |_| {
                (if immediate {
                    "Subscription canceled."
                } else {
                    "Subscription set to end with its period."
                })
                .to_owned()
            },
            &back,
        )
        .await
}
