//! Version resolution (`wire.md` §3.1): header, then the organization's pin, then current.

use crate::on_both_backends;
use crate::support::SANDBOX_KEY;
use crate::support::{DIRECT, error_of, json_with_status};

on_both_backends! {
    async fn the_header_picks_the_generation_and_is_echoed(app: TestApp) {
        let cases = [
            ("2026-07-11", "2026-07-11", true),
            ("2026-05-25", "2026-07-11", true),
            ("2026-07-24", "2026-07-24", false),
            ("2026-08-01", "2026-07-31", false),
            ("2026-08-27", "2026-08-27", false),
            ("2027-03-01", "2026-08-27", false),
        ];
        for (requested, resolved, is_legacy) in cases {
            let response = app.get("/customers", requested).await;

            assert_eq!(response.headers()["commet-version"], resolved, "{requested}");
            let body = json_with_status(response, 200).await;
            if is_legacy {
                assert_eq!(body, serde_json::json!({"success": true, "data": [], "hasMore": false}), "{requested}");
            } else {
                assert_eq!(body, serde_json::json!({"object": "list", "data": [], "hasMore": false}), "{requested}");
            }
        }
    }
}

on_both_backends! {
    async fn without_a_header_the_organization_pin_applies(app: TestApp) {
        let response = app
            .client
            .get(app.url("/customers"))
            .header("x-api-key", SANDBOX_KEY)
            .send()
            .await
            .unwrap();

        assert_eq!(response.headers()["commet-version"], DIRECT);
        let body = json_with_status(response, 200).await;
        assert_eq!(body["object"], "list");
    }
}

on_both_backends! {
    async fn a_malformed_version_header_is_a_validation_error(app: TestApp) {
        for requested in ["latest", "2026-13-01", "2026-7-11", "11/07/2026"] {
            let response = app.get("/customers", requested).await;

            assert_eq!(response.headers()["commet-version"], DIRECT, "rendered in the current version");
            let body = json_with_status(response, 400).await;
            let error = error_of(&body, DIRECT);
            assert_eq!(error["code"], "validation_error", "{requested}");
            assert_eq!(error["param"], "commet-version", "{requested}");
        }
    }
}
