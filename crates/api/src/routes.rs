//! The route table, and the few pieces every handler shares: the write path with idempotency,
//! and list rendering.

mod api_keys;
mod balance;
mod customers;
mod features;
mod invoices;
mod plans;
mod seats;
mod subscriptions;
mod test_clock;
mod webhooks;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Ctx, IdempotencyKey, encode_cursor};
use crate::reply::{self, Reply};
use axum::Router;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};
use std::sync::Arc;
use tally_app::{AppError, Command};
use tally_domain::Timestamp;
use tally_domain::page::Page;
use tally_store::StoredResponse;
use tower_http::catch_panic::CatchPanicLayer;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/api/v1/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route("/api/v1/api-keys/{id}", delete(api_keys::delete))
        .route(
            "/api/v1/customers",
            get(customers::list).post(customers::create),
        )
        .route("/api/v1/customers/batch", post(customers::create_batch))
        .route(
            "/api/v1/customers/{id}",
            get(customers::get)
                .put(customers::update)
                .patch(customers::update),
        )
        .route(
            "/api/v1/features",
            get(features::list).post(features::create),
        )
        .route("/api/v1/features/manage", post(features::create))
        .route(
            "/api/v1/features/{code}",
            get(features::get)
                .patch(features::update)
                .delete(features::delete),
        )
        .route(
            "/api/v1/features/{code}/manage",
            put(features::update).delete(features::delete),
        )
        .route("/api/v1/plans", get(plans::list).post(plans::create))
        .route("/api/v1/plans/manage", post(plans::create))
        .route(
            "/api/v1/plans/{id}",
            get(plans::get).patch(plans::update).delete(plans::delete),
        )
        .route(
            "/api/v1/plans/{id}/manage",
            put(plans::update).delete(plans::delete),
        )
        .route("/api/v1/plans/{id}/visibility", put(plans::set_visibility))
        .route("/api/v1/plans/{id}/features", post(plans::add_feature))
        .route(
            "/api/v1/plans/{id}/features/{feature}",
            put(plans::update_feature)
                .patch(plans::update_feature)
                .delete(plans::remove_feature),
        )
        .route("/api/v1/plans/{id}/prices", post(plans::add_price))
        .route(
            "/api/v1/plans/{id}/prices/{price}",
            put(plans::update_price)
                .patch(plans::update_price)
                .delete(plans::delete_price),
        )
        .route(
            "/api/v1/plans/{id}/prices/{price}/default",
            put(plans::set_default_price),
        )
        .route(
            "/api/v1/subscriptions",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/api/v1/subscriptions/active",
            get(subscriptions::get_active),
        )
        .route("/api/v1/subscriptions/{id}", get(subscriptions::get))
        .route(
            "/api/v1/subscriptions/{id}/cancel",
            post(subscriptions::cancel),
        )
        .route(
            "/api/v1/subscriptions/{id}/uncancel",
            post(subscriptions::uncancel),
        )
        .route(
            "/api/v1/seats",
            post(seats::add).put(seats::set).delete(seats::remove),
        )
        .route("/api/v1/seats/remove", post(seats::remove))
        .route("/api/v1/seats/bulk", put(seats::set_all))
        .route("/api/v1/seats/balance", get(seats::balance))
        .route("/api/v1/seats/balances", get(seats::balances))
        .route("/api/v1/seats/events", get(seats::history))
        .route(
            "/api/v1/subscriptions/{id}/balance/adjust",
            post(balance::adjust),
        )
        .route(
            "/api/v1/subscriptions/{id}/balance/topup",
            post(balance::top_up),
        )
        .route("/api/v1/invoices", get(invoices::list))
        .route("/api/v1/invoices/{id}", get(invoices::get))
        .route(
            "/api/v1/invoices/{id}/status",
            put(invoices::set_status).patch(invoices::set_status),
        )
        .route(
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get)
                .put(webhooks::update)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/api/v1/webhooks/{id}/test", post(webhooks::test))
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/v1/test-clock",
            get(test_clock::get).post(test_clock::advance),
        )
        .route(
            "/api/v1/test-clock/process-billing",
            post(test_clock::process_billing),
        )
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(unknown_endpoint)
        .layer(CatchPanicLayer::custom(|_| {
            // A backstop only: a panic is a bug, reported as internal_error, never a dropped
            // connection.
            axum::response::IntoResponse::into_response(ApiError::internal("handler panicked"))
        }))
        .layer(from_fn_with_state(state.clone(), crate::edge::edge));
    let health = Router::new()
        .route("/healthz", get(health).fallback(unknown_endpoint))
        .layer(from_fn_with_state(
            state.clone(),
            crate::edge::render_unversioned_errors,
        ));
    Router::new()
        .merge(health)
        .merge(api)
        .layer(axum::middleware::from_fn(crate::edge::stamp_request_id))
        .layer(axum::middleware::from_fn(crate::request_metrics::record))
        .with_state(state)
}

/// Decision (`README.md`, Tier 4): an endpoint is a method and a path; any pair Tally does not
/// serve, including a known path with another method, is `404 not_found`.
async fn unknown_endpoint(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("No endpoint {method} {}", uri.path()),
    )
}

/// `200` while the database answers; `503` while it is unreachable.
async fn health(State(state): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    let unhealthy = |error| ApiError::from(AppError::Store(error));
    state
        .app
        .store()
        .read()
        .await
        .map_err(unhealthy)?
        .organization_count()
        .await
        .map_err(unhealthy)?;
    Ok(axum::Json(json!({ "status": "ok" })))
}

/// Runs a command through the app's write path, rendering success with `view` and refusals in
/// the documented error shape, both for the resolved version; the bytes are what an
/// idempotency key will replay. `view` owns what it needs: the write job that calls it runs on
/// even if this request goes away.
async fn write<C: Command + 'static>(
    state: &AppState,
    ctx: &Ctx,
    key: &IdempotencyKey,
    canonical_body: &str,
    command: C,
    view: impl Fn(&C::Output) -> StoredResponse + Send + Sync + 'static,
) -> Result<Reply, ApiError> {
    let idempotency = key.for_body(canonical_body);
    let written = state
        .app
        .write(
            &ctx.caller,
            idempotency.as_ref(),
            command,
            render(state, ctx, view),
        )
        .await?;
    Ok(Reply(written))
}

/// The renderer of an operation's outcome that `write` hands to the app: `view` for success,
/// the documented error shape for refusals, in the resolved version.
fn render<T>(
    state: &AppState,
    ctx: &Ctx,
    view: impl Fn(&T) -> StoredResponse + Send + Sync + 'static,
) -> impl Fn(Result<&T, &AppError>) -> StoredResponse + Send + Sync + 'static {
    let version = ctx.version;
    let doc_url_base = Arc::clone(&state.doc_url_base);
    move |outcome: Result<&T, &AppError>| match outcome {
        Ok(output) => view(output),
        Err(refusal) => {
            let error = ApiError::from(refusal);
            StoredResponse {
                status: error.status().as_u16(),
                body: error.body(version, &doc_url_base).to_string(),
            }
        }
    }
}

/// Renders a page of items, with the cursor of its last item when more follow.
fn page_reply<T>(
    ctx: &Ctx,
    page: &Page<T>,
    position: impl Fn(&T) -> (Timestamp, &str),
    view: impl Fn(&T) -> Value,
) -> Reply {
    let next_cursor = page.items.last().map(|last| {
        let (created_at, id) = position(last);
        encode_cursor(created_at, id)
    });
    let items = page.items.iter().map(view).collect();
    reply::page(ctx.version, items, page.has_more, next_cursor).into()
}

/// `page_reply` for the catalog lists, which were never paginated: a page that holds the rest
/// of the list keeps the plain array shape (legacy `{success, data}`), so nothing changes for
/// a catalog that fits in one page.
fn catalog_page_reply<T>(
    ctx: &Ctx,
    page: &Page<T>,
    position: impl Fn(&T) -> (Timestamp, &str),
    view: impl Fn(&T) -> Value,
) -> Reply {
    if page.has_more {
        page_reply(ctx, page, position, view)
    } else {
        reply::array(ctx.version, page.items.iter().map(view).collect()).into()
    }
}

/// `{}` for requests without a body (DELETE), for the idempotency fingerprint.
const EMPTY_BODY: &str = "{}";

/// The value of a required body field, or a `validation_error` naming it.
fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::validation(field, format!("{field} is required")))
}

/// A `validation_error` from domain field checks.
fn invalid(error: tally_domain::DomainError) -> ApiError {
    ApiError::from(AppError::from(error))
}
