//! The catalog, read-only: features, plans with their prices, plan groups, add-ons, as the API
//! renders them in the current version.

use super::{Signed, failure, page};
use crate::AppState;
use crate::routes::plans::parts;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;
use tally_domain::ApiVersion;
use tally_domain::page::PageRequest;

/// Entries of each kind the page lists (the API's largest page).
const SHOWN: u32 = 100;

pub async fn show(State(state): State<AppState>, signed: Signed) -> Response {
    let app = &state.app;
    let caller = &signed.operator.caller;
    let request = PageRequest {
        limit: SHOWN,
        after: None,
    };
    let livemode = tally_wire::Livemode(caller.is_live());
    let version = ApiVersion::CURRENT;
    let (features, plans, groups, addons) = tokio::join!(
        app.features(caller, &request),
        app.plans(caller, true, &request),
        app.plan_groups(caller, &request),
        app.addons(caller, &request),
    );
    let (features, plans, groups, addons) = match (features, plans, groups, addons) {
        (Ok(f), Ok(p), Ok(g), Ok(a)) => (f, p, g, a),
        (Err(error), ..) | (_, Err(error), ..) | (_, _, Err(error), _) | (.., Err(error)) => {
            return failure(&error);
        }
    };
    let plans: Vec<Value> = plans
        .items
        .iter()
        .map(|p| tally_wire::plan(version, parts(p), livemode))
        .collect();
    let features: Vec<Value> = features
        .items
        .iter()
        .map(|f| tally_wire::feature(version, f, livemode))
        .collect();
    let groups: Vec<Value> = groups
        .items
        .iter()
        .map(|g| tally_wire::plan_groups::plan_group(g, livemode))
        .collect();
    let addons: Vec<Value> = addons
        .items
        .iter()
        .map(|(a, f)| tally_wire::addons::addon(a, f, livemode))
        .collect();
    let content = html! {
        h1 { "Catalog" }
        section id="plans" { h2 { "Plans" } (table(&plans, &["name", "code", "isPublic", "prices"])) }
        section id="features" { h2 { "Features" } (table(&features, &["name", "code", "type", "unitName"])) }
        section id="plan-groups" { h2 { "Plan groups" } (table(&groups, &["name", "id", "plans"])) }
        section id="addons" { h2 { "Add-ons" } (table(&addons, &["name", "slug", "price", "featureCode"])) }
    };
    page(&state, &signed, "Catalog", &content)
}

/// A table of `fields` of each object; lists and objects in a field are summarized.
fn table(objects: &[Value], fields: &[&str]) -> Markup {
    html! {
        @if objects.is_empty() {
            p class="muted" { "None yet." }
        } @else {
            table {
                thead { tr { @for field in fields { th { (field) } } } }
                tbody {
                    @for object in objects {
                        tr { @for field in fields { td { (cell(object.get(*field))) } } }
                    }
                }
            }
        }
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(object) => ["billingInterval", "code", "name", "id"]
                    .iter()
                    .find_map(|k| object.get(*k).and_then(Value::as_str))
                    .map(|label| match object.get("price").and_then(Value::as_i64) {
                        Some(price) => format!("{label} {price}"),
                        None => label.to_owned(),
                    })
                    .unwrap_or_else(|| "…".to_owned()),
                other => cell(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}
