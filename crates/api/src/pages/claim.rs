//! The claim page (`provisioning.createClaimLink`, `payments.md` §10.2): the person a platform
//! provisioned an organization for records their e-mail and name and becomes its owner.

use super::{
    Answered, HostedPage, PageForm, answer_action, form_problem, layout, show, wants_json,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use tally_app::claims::ClaimPage;
use tally_app::hosted_tokens::PageSigner;
use tally_domain::FieldError;

impl HostedPage for ClaimPage {
    fn state(&self) -> Value {
        json!({
            "kind": "claim",
            "status": if self.owner.is_some() { "succeeded" } else { "open" },
            "livemode": self.organization.mode == tally_domain::Mode::Live,
            "organization": {
                "name": self.organization.name,
                "liveId": self.live_org.as_ref().map(|o| o.as_str()),
                "sandboxId": self.sandbox_org.as_ref().map(|o| o.as_str()),
            },
            "owner": self.owner.as_ref().map(|o| json!({"email": o.email, "name": o.name})),
            "error": null,
            "redirectUrl": null,
        })
    }
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        claim_html(self, signer, token, problem)
    }
}

pub(super) async fn claim_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.claim_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

pub(super) async fn claim_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let reload = state.app.claim_page(&token);
    if !matches!(form.field("action"), "claim" | "") {
        let problem = FieldError::new("action", "action must be claim");
        return form_problem(&state, &token, form.json, problem, reload).await;
    }
    let outcome = state
        .app
        .claim_on_page(&token, (form.field("email"), form.field("name")))
        .await;
    answer_action(
        &state,
        (&token, form.json),
        outcome,
        |_| Answered::InPlace,
        reload,
    )
    .await
}

fn claim_html(
    page: &ClaimPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&FieldError>,
) -> Markup {
    let action = format!("/claim/{token}");
    let sandbox = page.organization.mode == tally_domain::Mode::Sandbox;
    let content = html! {
        @match &page.owner {
            Some(owner) => {
                h1 { "Organization claimed" }
                p role="status" { (page.organization.name) " now belongs to " (owner.name) " (" (owner.email) ")." }
                dl {
                    @if let Some(id) = &page.live_org { dt { "Live organization" } dd { code { (id.as_str()) } } }
                    @if let Some(id) = &page.sandbox_org { dt { "Sandbox organization" } dd { code { (id.as_str()) } } }
                }
            }
            None => {
                h1 { "Claim " (page.organization.name) }
                p { "This organization was set up for you. Tell us who you are to become its owner." }
                @if let Some(problem) = problem { p role="alert" id="form-problem" { (problem.message) } }
                form method="post" action=(action) {
                    input type="hidden" name="formKey" value=(signer.form_key(token));
                    input type="hidden" name="action" value="claim";
                    label for="email" { "E-mail" }
                    input id="email" name="email" type="email" autocomplete="email" required;
                    label for="name" { "Name" }
                    input id="name" name="name" type="text" autocomplete="name" required;
                    button type="submit" { "Claim the organization" }
                }
            }
        }
    };
    layout("Claim your organization", sandbox, &content)
}
