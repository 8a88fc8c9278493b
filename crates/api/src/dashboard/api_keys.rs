//! API keys of the organization the session looks at: the list, creating one (its secret
//! shown once), revoking one.

use super::{Notice, Posted, Signed, failure, message_page, notice_markup, outcome, page, when};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use std::collections::HashMap;
use tally_app::Written;
use tally_app::api_keys::{CreateApiKey, DeleteApiKey};
use tally_domain::ApiKeyId;
use tally_domain::api_key::NewApiKey;
use tally_domain::page::PageRequest;

const SHOWN: u32 = 100;

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let notice = outcome(&state, &signed, params.get("done").map(String::as_str)).await;
    keys_page(&state, &signed, notice, None).await
}

async fn keys_page(
    state: &AppState,
    signed: &Signed,
    notice: Option<Notice>,
    secret: Option<&str>,
) -> Response {
    let request = PageRequest {
        limit: SHOWN,
        after: None,
    };
    let keys = match state.app.api_keys(&signed.operator.caller, &request).await {
        Ok(keys) => keys,
        Err(error) => return failure(&error),
    };
    let content = html! {
        h1 { "API keys" }
        (notice_markup(notice.as_ref()))
        @if let Some(secret) = secret {
            p class="ok" role="status" { "New key: " code id="new-secret" { (secret) } " — copy it now; it is not shown again." }
        }
        section {
            form method="post" action="/dashboard/api-keys" class="row" {
                (signed.form_fields(state))
                label for="key-name" { "Name" }
                input id="key-name" name="name" type="text" required maxlength="100";
                label for="key-days" { "Expires in days" }
                input id="key-days" name="days" type="number" min="1" size="6" placeholder="never";
                button type="submit" id="create-key" { "Create key" }
            }
            table id="api-keys" {
                thead { tr { th { "Name" } th { "Key" } th { "Created" } th { "Last used" } th { "Expires" } th {} } }
                tbody {
                    @for key in &keys.items {
                        tr {
                            td { (key.name) }
                            td { code { (key.prefix) "…" } }
                            td { (when(key.created_at)) }
                            td { (key.last_used_at.map_or("never".to_owned(), when)) }
                            td { (key.expires_at.map_or("never".to_owned(), when)) }
                            td {
                                form method="post" action=(format!("/dashboard/api-keys/{}/revoke", key.id.as_str())) class="inline" {
                                    (signed.form_fields(state))
                                    button type="submit" class="danger" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(state, signed, "API keys", &content)
}

/// `POST /dashboard/api-keys`: the new key's secret is shown on the answer itself, once; a
/// double submit replays the creation without the secret (never stored).
pub async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let days = match posted.field("days").trim() {
        "" => None,
        _ => match posted.whole_number("days") {
            Some(days) => Some(days),
            None => return super::check_the_form("Expires in days is a whole number."),
        },
    };
    let new_key = match NewApiKey::parse(posted.field("name").trim(), days) {
        Ok(new_key) => new_key,
        Err(error) => return failure(&error.into()),
    };
    let idempotency = match posted.idempotency() {
        Ok(idempotency) => idempotency,
        Err(response) => return response,
    };
    let written = state
        .app
        .write(
            &posted.operator().caller,
            Some(&idempotency),
            CreateApiKey(new_key),
            |outcome| {
                let rendered = super::recorded(
                    outcome.map(|created| format!("Key {} created.", created.key.prefix)),
                );
                match outcome {
                    // The secret rides along only in the fresh answer: the stored one is made
                    // from `without_secrets`.
                    Ok(created) => match &created.secret {
                        Some(secret) => tally_store::StoredResponse {
                            body: serde_json::json!({"notice": "Key created.", "secret": secret})
                                .to_string(),
                            ..rendered
                        },
                        None => rendered,
                    },
                    Err(_) => rendered,
                }
            },
        )
        .await;
    match written {
        Ok(Written::Fresh(response)) if response.status < 400 => {
            let secret = serde_json::from_str::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|body| {
                    body.get("secret")
                        .and_then(|s| s.as_str())
                        .map(str::to_owned)
                });
            keys_page(
                &state,
                &posted.signed,
                Some(Notice::Done("Key created.".to_owned())),
                secret.as_deref(),
            )
            .await
        }
        other => super::back_to("/dashboard/api-keys", &idempotency, other),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Some(id) = ApiKeyId::parse(&id) else {
        return message_page(StatusCode::NOT_FOUND, "Not available", "No such key.");
    };
    posted
        .act(
            &state,
            DeleteApiKey(id),
            |_| "Key revoked.".to_owned(),
            "/dashboard/api-keys",
        )
        .await
}
