//! The OpenAPI documents: served without a key, the same as `tally openapi` prints, and in step
//! with what the router actually serves. Their validity and the server's conformance to them
//! are checked by `schema_fuzz.rs` (openapi-spec-validator and schemathesis).

use crate::support::{Backend, LEGACY, SANDBOX_KEY, TestApp, json_with_status};
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn served(app: &TestApp, query: &str) -> Value {
    let response = app
        .client
        .get(format!("{}/openapi.json{query}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{query}"
    );
    json_with_status(response, 200).await
}

async fn printed(args: &[&str]) -> Value {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg("openapi")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn both_documents_are_served_without_a_key_and_match_the_command() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let direct = served(&app, "").await;
    let legacy = served(&app, &format!("?version={LEGACY}")).await;

    assert_eq!(direct["openapi"], "3.1.0");
    assert_eq!(direct["info"]["version"], "2026-08-27");
    assert_eq!(legacy["info"]["version"], LEGACY);
    assert_eq!(direct, printed(&[]).await);
    assert_eq!(legacy, printed(&["--version", LEGACY]).await);

    // The generations differ where the wire does: the envelope of every answer.
    let get_customer = "/api/v1/customers/{id}";
    let success = |doc: &Value| doc["paths"][get_customer]["get"]["responses"]["200"].clone();
    assert_eq!(
        success(&direct)["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Customer"
    );
    assert_eq!(
        success(&legacy)["content"]["application/json"]["schema"]["properties"]["success"]["const"],
        true
    );

    let unknown = app
        .client
        .get(format!("{}/openapi.json?version=1999-01-01", app.address))
        .send()
        .await
        .unwrap();
    let body = json_with_status(unknown, 400).await;
    assert_eq!(body["error"]["param"], "version", "{body}");
}

/// A path template with every `{param}` filled in.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the router has no endpoint for this method and path (`routes.rs`
/// `unknown_endpoint`), as opposed to an endpoint that refused the request.
async fn is_unknown_endpoint(app: &TestApp, method: &str, path: &str) -> bool {
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let response = app
        .client
        .request(method, format!("{}{path}", app.address))
        .header("x-api-key", SANDBOX_KEY)
        .header("commet-version", LEGACY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    status == 404 && body["error"]["code"] == "not_found" && message.starts_with("No endpoint")
}

/// Every documented operation is served, and on documented paths every other method is not:
/// the router and the documents agree route for route.
#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let direct = served(&app, "").await;
    let legacy = served(&app, &format!("?version={LEGACY}")).await;
    let routes = |doc: &Value| -> Vec<(String, String)> {
        let mut routes = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                routes.push((method.clone(), path.clone()));
            }
        }
        routes.sort();
        routes
    };
    let documented = routes(&direct);
    assert_eq!(
        documented,
        routes(&legacy),
        "both generations have the same routes"
    );
    assert!(documented.len() > 60, "{}", documented.len());

    let mut problems = Vec::new();
    for (path, item) in direct["paths"].as_object().unwrap() {
        let url = concrete(path);
        for method in METHODS {
            let is_documented = item.get(method).is_some();
            let unknown = is_unknown_endpoint(&app, method, &url).await;
            if is_documented == unknown {
                problems.push(format!(
                    "{method} {path}: documented {is_documented}, served {}",
                    !unknown
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
