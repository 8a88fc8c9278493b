//! The operator dashboard over HTTP (`docs/contract/dashboard.md`): sign-in and sessions, the
//! refusals (no session, a forged form, the other side of the pair), double submits, the
//! customer search and its keyset pages, and the actions' effects seen through the API. The
//! browser tests (`dashboard_browser`) drive the same pages in Chromium.

use crate::catalog::pro_plan;
use crate::on_both_backends;
use crate::support::{DASHBOARD_CREDENTIAL, DIRECT, LIVE_KEY, TestApp, json_with_status};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

/// A browser-like client of the dashboard: keeps its session cookie, follows no redirects.
pub struct Operator {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// One answer: status, `Location`, body.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Operator {
    pub fn new(app: &TestApp) -> Operator {
        Operator {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
            cookie: None,
        }
    }

    pub async fn signed_in(app: &TestApp) -> Operator {
        let mut operator = Operator::new(app);
        let answer = operator.sign_in(DASHBOARD_CREDENTIAL).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert!(operator.cookie.is_some());
        operator
    }

    pub async fn sign_in(&mut self, credential: &str) -> Answer {
        let response = self
            .client
            .post(format!("{}/dashboard/sign-in", self.base))
            .form(&[("credential", credential)])
            .send()
            .await
            .unwrap();
        if let Some(cookie) = response.headers().get("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
                "{cookie}"
            );
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
        answer(response).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        answer(request.send().await.unwrap()).await
    }

    /// Submits the form of `page` whose action is `action`, with its hidden fields and
    /// `fields`; returns the answer and the form's key.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (Answer, String) {
        let html = self.get(page).await;
        assert_eq!(html.status, 200, "{page}: {}", html.body);
        let hidden = form_hidden_fields(&html.body, action);
        let key = hidden
            .iter()
            .find(|(n, _)| n == "formKey")
            .unwrap()
            .1
            .clone();
        let mut all: Vec<(&str, &str)> = hidden
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(fields);
        (self.post(action, &all).await, key)
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Answer {
        status,
        location,
        body: response.text().await.unwrap(),
    }
}

/// The hidden fields (name, value) of the form posting to `action` in `html`.
pub fn form_hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posts to {action}: {html}"));
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attribute = |name: &str| {
                let at = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                input[at..at + input[at..].find('"').unwrap()].to_owned()
            };
            (attribute("name"), attribute("value"))
        })
        .collect()
}

/// The form token and form key of the form posting to `action` in `html`.
pub fn hidden_fields(html: &str, action: &str) -> (String, String) {
    let fields = form_hidden_fields(html, action);
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).unwrap().1.clone();
    (value("formToken"), value("formKey"))
}

async fn seats(app: &TestApp, customer: &str) -> i64 {
    let balance = json_with_status(
        app.get(
            &format!("/seats/balance?customerId={customer}&featureCode=editor"),
            DIRECT,
        )
        .await,
        200,
    )
    .await;
    balance["current"].as_i64().unwrap()
}

/// `user_1` on plan `pro` with 3 editor seats; returns the customer's `cus_…` id.
async fn subscribed(app: &TestApp) -> String {
    pro_plan(app).await;
    let customer = app
        .create_customer(
            &json!({"email": "ada@acme.test", "id": "user_1", "fullName": "Ada Lovelace"}),
        )
        .await;
    json_with_status(
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": "user_1", "planCode": "pro", "initialSeats": {"editor": 3}}),
        )
        .await,
        200,
    )
    .await;
    customer["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    /// Without a session every page leads to the sign-in form and every action is refused,
    /// and nothing changes; a wrong credential, an unknown cookie and a signed-out session's
    /// cookie open nothing either.
    async fn every_page_and_action_refuses_an_unauthenticated_request(app: TestApp) {
        let customer = subscribed(&app).await;
        let pages = [
            "/dashboard/customers".to_owned(),
            format!("/dashboard/customers/{customer}"),
            "/dashboard/customers?q=ada@acme.test".to_owned(),
            "/dashboard/invoices/inv_x".to_owned(),
            "/dashboard/catalog".to_owned(),
            "/dashboard/webhooks".to_owned(),
            "/dashboard/webhooks/wh_x".to_owned(),
            "/dashboard/test-clock".to_owned(),
            "/dashboard/api-keys".to_owned(),
        ];
        let actions = [
            format!("/dashboard/customers/{customer}/seats"),
            format!("/dashboard/customers/{customer}/balance"),
            format!("/dashboard/customers/{customer}/cancel"),
            "/dashboard/invoices/inv_x/void".to_owned(),
            "/dashboard/webhooks/wh_x/test".to_owned(),
            "/dashboard/webhooks/wh_x/deliveries/whd_x/resend".to_owned(),
            "/dashboard/test-clock".to_owned(),
            "/dashboard/api-keys".to_owned(),
            "/dashboard/api-keys/key_x/revoke".to_owned(),
            "/dashboard/mode".to_owned(),
            "/dashboard/sign-out".to_owned(),
        ];
        // A sign-in posted by another site's page is refused, even with the right credential.
        let forged = Operator::new(&app)
            .client
            .post(format!("{}/dashboard/sign-in", app.address))
            .header("origin", "https://evil.example")
            .form(&[("credential", DASHBOARD_CREDENTIAL)])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert!(forged.headers().get("set-cookie").is_none());

        let mut wrong = Operator::new(&app);
        let refused = wrong.sign_in("not-the-credential").await;
        assert_eq!(refused.status, 401);
        assert!(refused.body.contains("not the operator credential"), "{}", refused.body);
        assert!(wrong.cookie.is_none());

        let signed_out = Operator::signed_in(&app).await;
        let (out, _) = signed_out.submit("/dashboard/customers", "/dashboard/sign-out", &[]).await;
        assert_eq!((out.status, out.location.as_str()), (303, "/dashboard/sign-in"));

        let mut forged = Operator::new(&app);
        forged.cookie = Some("tally_dashboard=NotASessionSecret".to_owned());
        for operator in [&Operator::new(&app), &forged, &signed_out] {
            for path in &pages {
                let answer = operator.get(path).await;
                assert_eq!((answer.status, answer.location.as_str()), (303, "/dashboard/sign-in"), "{path}");
                assert!(!answer.body.contains("ada@acme.test"), "{path}");
            }
            for path in &actions {
                let answer = operator
                    .post(path, &[("formToken", "x"), ("formKey", "k1"), ("feature", "editor"), ("count", "9"), ("days", "30"), ("name", "k")])
                    .await;
                assert_eq!(answer.status, 403, "{path}: {}", answer.body);
            }
        }
        assert_eq!(seats(&app, "user_1").await, 3, "nothing changed");
        let clock = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        assert_eq!(clock["simulatedTime"], Value::Null, "the clock did not move: {clock}");
    }
}

on_both_backends! {
    /// A signed-in form without the session's form token, or with another session's, is
    /// refused and changes nothing; with its own token it sets the seats.
    async fn a_forged_form_without_the_form_token_is_refused(app: TestApp) {
        let customer = subscribed(&app).await;
        let operator = Operator::signed_in(&app).await;
        let other = Operator::signed_in(&app).await;
        let page = format!("/dashboard/customers/{customer}");
        let action = format!("{page}/seats");
        let (_, key) = hidden_fields(&operator.get(&page).await.body, &action);
        let (other_token, _) = hidden_fields(&other.get(&page).await.body, &action);

        let missing = operator.post(&action, &[("formKey", &key), ("feature", "editor"), ("count", "9")]).await;
        let foreign = operator.post(&action, &[("formToken", &other_token), ("formKey", &key), ("feature", "editor"), ("count", "9")]).await;
        assert_eq!(missing.status, 403, "{}", missing.body);
        assert_eq!(foreign.status, 403, "{}", foreign.body);
        assert!(missing.body.contains("did not come from a page of your session"));
        assert_eq!(seats(&app, "user_1").await, 3);

        let (done, _) = operator.submit(&page, &action, &[("feature", "editor"), ("count", "9")]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert!(done.location.starts_with(&format!("{page}?done=")), "{}", done.location);
        assert_eq!(seats(&app, "user_1").await, 9);
        let shown = operator.get(&done.location).await;
        assert!(shown.body.contains("9 seats of editor: was 3."), "{}", shown.body);
    }
}

on_both_backends! {
    /// A session looks at the sandbox until it switches: live customers are neither found nor
    /// shown nor changed from it, and after the switch the sandbox's are out of reach.
    async fn a_sandbox_session_cannot_see_or_act_on_live_data(app: TestApp) {
        let live = app.client.post(app.url("/customers")).header("x-api-key", LIVE_KEY)
            .json(&json!({"email": "live@acme.test", "id": "live_1"})).send().await.unwrap();
        let live = json_with_status(live, 200).await;
        let live_id = live["id"].as_str().unwrap();
        let sandbox = subscribed(&app).await;
        let operator = Operator::signed_in(&app).await;

        let list = operator.get("/dashboard/customers").await;
        assert!(list.body.contains("SANDBOX") && list.body.contains("ada@acme.test"), "{}", list.body);
        assert!(!list.body.contains("live@acme.test"));
        let search = operator.get("/dashboard/customers?q=live@acme.test").await;
        assert!(search.body.contains("No customer has exactly"), "{}", search.body);
        assert_eq!(operator.get(&format!("/dashboard/customers/{live_id}")).await.status, 404);
        // A form of a sandbox page pointed at the live customer is refused by the operation.
        let page = format!("/dashboard/customers/{sandbox}");
        let (token, key) = hidden_fields(&operator.get(&page).await.body, &format!("{page}/seats"));
        let acted = operator.post(&format!("/dashboard/customers/{live_id}/seats"), &[("formToken", &token), ("formKey", &key), ("feature", "editor"), ("count", "4")]).await;
        assert_eq!(acted.status, 303);
        assert_eq!(operator.get(&acted.location).await.status, 404, "the live customer stays out of sight");

        let (switched, _) = operator.submit("/dashboard/customers", "/dashboard/mode", &[("mode", "live")]).await;
        assert_eq!(switched.status, 303);
        let list = operator.get("/dashboard/customers").await;
        assert!(list.body.contains("LIVE") && list.body.contains("live@acme.test"), "{}", list.body);
        assert!(!list.body.contains("ada@acme.test"));
        assert_eq!(operator.get(&format!("/dashboard/customers/{sandbox}")).await.status, 404);
        assert_eq!(operator.get("/dashboard/test-clock").await.status, 404, "no test clock in live mode");
        assert_eq!(seats(&app, "user_1").await, 3);
    }
}

on_both_backends! {
    /// The same form submitted twice runs once: the test clock moves 30 days, not 60, and the
    /// second answer is the first one's.
    async fn a_double_submitted_action_runs_once(app: TestApp) {
        crate::usage::freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let operator = Operator::signed_in(&app).await;
        let page = operator.get("/dashboard/test-clock").await;
        let (token, key) = hidden_fields(&page.body, "/dashboard/test-clock");
        let fields = [("formToken", token.as_str()), ("formKey", key.as_str()), ("days", "30")];
        let first = operator.post("/dashboard/test-clock", &fields).await;
        let second = operator.post("/dashboard/test-clock", &fields).await;
        assert_eq!((first.status, second.status), (303, 303));
        assert_eq!(first.location, second.location);
        let clock = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        assert_eq!(clock["simulatedTime"], json!("2026-10-01T00:00:00.000Z"));
        let shown = operator.get(&first.location).await;
        assert!(shown.body.contains("Advanced to 2026-10-01 00:00 UTC"), "{}", shown.body);
        // The same key with other fields is not a replay: it is refused, and nothing moves.
        let changed = operator.post("/dashboard/test-clock", &[("formToken", token.as_str()), ("formKey", key.as_str()), ("days", "5")]).await;
        assert_eq!(changed.status, 409, "{}", changed.body);
        assert!(changed.body.contains("role=\"alert\""), "{}", changed.body);
        let clock = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        assert_eq!(clock["simulatedTime"], json!("2026-10-01T00:00:00.000Z"));
    }
}

on_both_backends! {
    /// The list pages by keyset, fifty at a time, newest first; the search finds a customer
    /// by e-mail, externalId or id, exactly.
    async fn customers_are_listed_by_keyset_and_found_exactly(app: TestApp) {
        let customers: Vec<Value> = (0..55)
            .map(|i| json!({"email": format!("c{i:02}@acme.test"), "id": format!("ext_{i:02}")}))
            .collect();
        for chunk in customers.chunks(20) {
            json_with_status(app.post("/customers/batch", DIRECT, &json!({"customers": chunk})).await, 200).await;
        }
        let operator = Operator::signed_in(&app).await;
        let first = operator.get("/dashboard/customers").await;
        let rows = |html: &str| html.matches("href=\"/dashboard/customers/cus_").count();
        assert_eq!(rows(&first.body), 50);
        let at = first.body.find("id=\"next-page\" href=\"").unwrap() + 21;
        let next = first.body[at..at + first.body[at..].find('"').unwrap()].replace("&amp;", "&");
        let second = operator.get(&next).await;
        assert_eq!(rows(&second.body), 5, "{}", second.body);
        assert!(!second.body.contains("next-page"));
        let mut seen: Vec<String> = [&first.body, &second.body].iter().flat_map(|b| {
            b.match_indices("<code>ext_").map(|(i, _)| b[i + 6..i + 12].to_owned()).collect::<Vec<_>>()
        }).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 55, "every customer once");

        for text in ["c07@acme.test", "ext_07"] {
            let found = operator.get(&format!("/dashboard/customers?q={text}")).await;
            assert_eq!(rows(&found.body), 1, "{text}");
            assert!(found.body.contains("c07@acme.test"));
        }
        assert_eq!(rows(&operator.get("/dashboard/customers?q=c07@acme").await.body), 0, "exact only");
        assert_eq!(operator.get("/dashboard/customers?after=zz").await.status, 422);
    }
}

on_both_backends! {
    with crate::support::Options { auto_pay: false, ..Default::default() };
    /// From a customer's page: the balance of seats and the timeline follow a change; an
    /// invoice's page shows its lines and voids it; the subscription is canceled; an API key
    /// is made (its secret shown once) and revoked.
    async fn the_actions_change_what_the_api_sees(app: TestApp) {
        let customer = subscribed(&app).await;
        let operator = Operator::signed_in(&app).await;
        let page = format!("/dashboard/customers/{customer}");
        let before = operator.get(&page).await.body;
        assert!(before.contains("data-feature=\"editor\" data-last=\"3\""), "{before}");
        let (done, _) = operator.submit(&page, &format!("{page}/seats"), &[("feature", "editor"), ("count", "7")]).await;
        let after = operator.get(&done.location).await.body;
        assert!(after.contains("data-feature=\"editor\" data-last=\"7\""), "{after}");
        assert!(after.contains("Seats over time, 2 changes"), "{after}");

        let invoices = json_with_status(app.get("/invoices?customerId=user_1", DIRECT).await, 200).await;
        let invoice = invoices["data"][0]["id"].as_str().unwrap().to_owned();
        let invoice_page = format!("/dashboard/invoices/{invoice}");
        let shown = operator.get(&invoice_page).await.body;
        assert!(shown.contains("id=\"invoice-lines\"") && shown.contains("/files/invoices/"), "{shown}");
        let (voided, _) = operator.submit(&invoice_page, &format!("{invoice_page}/void"), &[]).await;
        let shown = operator.get(&voided.location).await.body;
        assert!(shown.contains("is void.") && !shown.contains("id=\"void-invoice\""), "{shown}");
        let invoice = json_with_status(app.get(&format!("/invoices/{invoice}"), DIRECT).await, 200).await;
        assert_eq!(invoice["status"], "void");

        let (canceled, _) = operator.submit(&page, &format!("{page}/cancel"), &[("when", "now")]).await;
        let shown = operator.get(&canceled.location).await.body;
        assert!(shown.contains("Subscription canceled."), "{shown}");
        let subscription = json_with_status(app.get("/subscriptions?customerId=user_1", DIRECT).await, 200).await;
        assert_eq!(subscription["data"][0]["status"], "canceled", "{subscription}");

        let (created, _) = operator.submit("/dashboard/api-keys", "/dashboard/api-keys", &[("name", "From the dashboard"), ("days", "")]).await;
        assert_eq!(created.status, 200, "{}", created.body);
        let at = created.body.find("id=\"new-secret\">").unwrap() + 16;
        let secret = &created.body[at..at + created.body[at..].find('<').unwrap()];
        assert!(secret.starts_with("ck_sandbox_"), "{secret}");
        let works = app.client.get(app.url("/customers")).header("x-api-key", secret).send().await.unwrap();
        assert_eq!(works.status(), 200);
        let keys = json_with_status(app.get("/api-keys", DIRECT).await, 200).await;
        let id = keys["data"].as_array().unwrap().iter().find(|k| k["name"] == "From the dashboard").unwrap()["id"].as_str().unwrap().to_owned();
        operator.submit("/dashboard/api-keys", &format!("/dashboard/api-keys/{id}/revoke"), &[]).await;
        let refused = app.client.get(app.url("/customers")).header("x-api-key", secret).send().await.unwrap();
        assert_eq!(refused.status(), 401);
    }
}
