//! Invoice operations over HTTP (`commerce.md` §8): adjustments and credit notes, sends (with
//! and without SMTP), and signed, expiring links to a real PDF whose text is read back by an
//! independent reader (`pdftotext`) and whose first page is rendered to PNG (`pdftoppm`).

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::smtp_sink::SmtpSink;
use crate::support::{DIRECT, LEGACY, LIVE_KEY, Options, TestApp, error_of, json_with_status};
use crate::usage::{advance, data, delivered, freeze, invoices, names, ok};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const REQUIRE_VAR: &str = "TALLY_TEST_REQUIRE_POPPLER";

/// Whether `pdftotext` and `pdftoppm` (Debian's poppler-utils) can run; without them the PDF's
/// contents are not checked, unless `TALLY_TEST_REQUIRE_POPPLER=1` makes that a failure.
fn poppler() -> bool {
    let present = ["pdftotext", "pdftoppm"]
        .iter()
        .all(|tool| std::process::Command::new(tool).arg("-v").output().is_ok());
    if !present {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{REQUIRE_VAR}=1 but pdftotext or pdftoppm (poppler-utils) is missing"
        );
        eprintln!("skipped: the PDF's text and picture (pdftotext or pdftoppm is missing)");
    }
    present
}

/// The text of `pdf`, as `pdftotext` reads it (layout kept, so a row stays on one line).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext reads the PDF: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Renders the first page of `pdf` to `<target tmp>/invoice-pdfs/<name>.png`, to be looked at,
/// and checks that a picture came out.
fn render_first_page(pdf: &[u8], name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("invoice-pdfs");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftoppm renders the PDF: {out:?}");
    let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG came out");
    assert!(
        png.len() > 5_000,
        "the page is not blank: {} bytes",
        png.len()
    );
}

/// Every recorded send of invoice `id`, oldest first, read from the server's database.
async fn sends_of(app: &TestApp, id: &str) -> Vec<tally_domain::invoice_sends::InvoiceSend> {
    let mut db = app.app.store().read().await.unwrap();
    let org = db
        .invoice_org(id)
        .await
        .unwrap()
        .expect("the invoice exists");
    db.invoice_sends(&org, id).await.unwrap()
}

/// A request with the live organization's key.
fn live(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("x-api-key", LIVE_KEY)
        .header("commet-version", DIRECT)
}

/// Downloads `url` without any key.
async fn fetch(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).send().await.unwrap()
}

on_both_backends! {
    /// Commerce scenario 3, the invoice half: a credit note on 2026-10-01, sent (no SMTP here)
    /// and downloaded; the PDFs of it and of the renewal show every amount; the link is
    /// refused once changed or expired.
    async fn a_credit_note_is_sent_and_downloaded_as_a_pdf_until_its_link_expires(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "billing@globex.test", "id": "user_456", "fullName": "Globex",
            "taxDocument": "30-12345678-9", "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "49007", "country": "US"}})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_456", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", DIRECT, Some(json!({"url": receiver.url, "events": ["invoice.created", "invoice.sent"]}))).await;
        let mut seen = 0;
        delivered(&app, &receiver, &mut seen).await;
        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let renewal = invoices(&app, &sub).await.into_iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        delivered(&app, &receiver, &mut seen).await;

        // The credit note, in the direct generation: the full invoice, outside any subscription.
        let note = ok(&app, Method::POST, "/invoices", DIRECT, Some(json!({"customerId": "user_456", "amount": -5_000, "description": "Refund for outage", "metadata": {"ticket": "T-1"}}))).await;
        let note_id = note["id"].as_str().unwrap().to_owned();
        assert_eq!(note, json!({
            "id": note_id, "customerId": note["customerId"], "subscriptionId": null, "invoiceNumber": "INV-000003",
            "status": "paid", "invoiceType": "adjustment", "currency": "usd", "subtotal": -5_000, "discountAmount": 0,
            "taxAmount": 0, "total": -5_000, "periodStart": "2026-10-01T00:00:00.000Z", "periodEnd": "2026-10-01T00:00:00.000Z",
            "issueDate": "2026-10-01T00:00:00.000Z", "dueDate": "2026-10-01T00:00:00.000Z", "memo": "Refund for outage",
            "metadata": {"ticket": "T-1"}, "createdAt": "2026-10-01T00:00:00.000Z", "updatedAt": "2026-10-01T00:00:00.000Z",
            "creditApplied": 0, "planName": null, "poNumber": null, "reference": null,
            "lineItems": [{"lineType": "one_time", "featureName": null, "description": "Refund for outage", "quantity": 1,
                "unitAmount": -5_000, "amount": -5_000, "includedAmount": null, "usedAmount": null, "overageAmount": null,
                "discountType": null, "discountValue": null, "discountName": null, "chargeType": "standard"}],
            "object": "invoice", "livemode": false,
        }));
        assert!(note["customerId"].as_str().unwrap().starts_with("cus_"));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["invoice.created"]);
        let created = data(&events, "invoice.created");
        assert_eq!((&created["invoiceId"], &created["total"], &created["subscriptionId"]), (&json!(note_id), &json!(-5_000), &Value::Null));

        // A charge, in the legacy generation, is issued like any invoice (paid here).
        let charge = ok(&app, Method::POST, "/invoices", LEGACY, Some(json!({"customerId": "user_456", "amount": 2_500, "description": "Setup fee"}))).await;
        assert_eq!((&charge["invoiceType"], &charge["status"], &charge["total"], &charge["invoiceNumber"]), (&json!("adjustment"), &json!("paid"), &json!(2_500), &json!("INV-000004")));
        delivered(&app, &receiver, &mut seen).await;

        // Sends: recorded at the organization's now, announced, in each generation's shape.
        let sent = ok(&app, Method::POST, &format!("/invoices/{note_id}/send"), DIRECT, None).await;
        assert_eq!(sent, json!({"sent": true, "sentAt": "2026-10-01T00:00:00.000Z", "object": "invoice_delivery", "livemode": false}));
        let sent = ok(&app, Method::POST, &format!("/invoices/{note_id}/send"), LEGACY, Some(json!({}))).await;
        assert_eq!(sent, json!({"sent": true, "sentAt": "2026-10-01T00:00:00.000Z", "object": "invoice", "livemode": false}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["invoice.sent", "invoice.sent"]);
        let announced = &events[0].1;
        assert_eq!((&announced["invoiceId"], &announced["invoiceNumber"], &announced["total"]), (&json!(note_id), &json!("INV-000003"), &json!(-5_000)));
        assert_eq!((&announced["sentAt"], &announced["recipientEmail"], &announced["emailDelivery"]), (&json!("2026-10-01T00:00:00.000Z"), &json!("billing@globex.test"), &json!("not_configured")));

        // Links: seven days of the organization's clock, in each generation's shape.
        let link = ok(&app, Method::POST, &format!("/invoices/{note_id}/download-links"), DIRECT, None).await;
        assert_eq!((&link["expiresAt"], &link["object"], &link["livemode"]), (&json!("2026-10-08T00:00:00.000Z"), &json!("invoice_download_link"), &json!(false)));
        let legacy = ok(&app, Method::GET, &format!("/invoices/{note_id}/download"), LEGACY, None).await;
        assert_eq!((&legacy["expiresAt"], &legacy["object"]), (&json!("2026-10-08T00:00:00.000Z"), &json!("invoice")));
        let url = link["url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&format!("{}/files/invoices/{note_id}.pdf?exp=", app.address)), "{url}");

        let file = fetch(&url).await;
        assert_eq!(file.status(), 200);
        assert_eq!(file.headers()["content-type"], "application/pdf");
        assert_eq!(file.headers()["content-disposition"], "inline; filename=\"INV-000003.pdf\"");
        let pdf = file.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The legacy link is another link to the same file.
        assert_eq!(fetch(legacy["url"].as_str().unwrap()).await.status(), 200);

        if poppler() {
            let text = pdf_text(&pdf);
            for expected in ["INV-000003", "PAID", "TEST MODE", "adjustment", "Tally", "Globex", "billing@globex.test",
                "1 Main St", "49007 Springfield", "Tax ID: 30-12345678-9", "Refund for outage", "-$50.00 USD", "Oct 1, 2026"] {
                assert!(text.contains(expected), "{expected:?} in the PDF:\n{text}");
            }
            assert!(text.contains("Amount due") && text.contains("$0.00 USD"), "a paid credit note is due nothing:\n{text}");
            render_first_page(&pdf, &format!("credit-note-{note_id}"));

            // The renewal's PDF: every line and total of the invoice, in dollars.
            let renewal_id = renewal["id"].as_str().unwrap();
            let link = ok(&app, Method::POST, &format!("/invoices/{renewal_id}/download-links"), DIRECT, None).await;
            let pdf = fetch(link["url"].as_str().unwrap()).await.bytes().await.unwrap();
            let text = pdf_text(&pdf);
            assert_eq!(renewal["subtotal"], json!(12_400));
            for line in renewal["lineItems"].as_array().unwrap() {
                let amount = line["amount"].as_i64().unwrap();
                let amount = format!("${}.{:02} USD", amount / 100, amount % 100);
                let row = text.lines().find(|row| row.contains(line["description"].as_str().unwrap()));
                assert!(row.is_some_and(|row| row.ends_with(&amount)), "{line} as a row of the PDF:\n{text}");
            }
            for expected in ["INV-000002", "recurring", "$99.00 USD", "$25.00 USD", "$124.00 USD", "Oct 1, 2026 – Nov 1, 2026"] {
                assert!(text.contains(expected), "{expected:?} in the PDF:\n{text}");
            }
            render_first_page(&pdf, &format!("renewal-{renewal_id}"));
        }

        // A changed signature, a missing one, a changed expiry: refused, with the error shape.
        let tampered = format!("{}{}", &url[..url.len() - 1], if url.ends_with('0') { '1' } else { '0' });
        for bad in [tampered, url.split("&sig=").next().unwrap().to_owned(), url.replace("?exp=", "?exp=9")] {
            let refused = fetch(&bad).await;
            assert_eq!(refused.status(), 403, "{bad}");
            let body: Value = refused.json().await.unwrap();
            assert_eq!(body["error"]["code"], json!("forbidden"), "{body}");
        }
        // An invoice that does not exist is not found, signature or not.
        let unknown = fetch(&url.replace(&note_id, "inv_01JAAAAAAAAAAAAAAAAAAAAAAA")).await;
        assert_eq!(unknown.status(), 404);
        // Another organization's key mints no link to it.
        let other = live(&app, Method::POST, &format!("/invoices/{note_id}/download-links")).send().await.unwrap();
        assert_eq!(error_of(&json_with_status(other, 404).await, DIRECT)["code"], json!("invoice_not_found"));

        // Seven days and a bit later by the test clock, the unchanged link is refused too.
        assert_eq!(fetch(&url).await.status(), 200);
        advance(&app, "2026-10-09T00:00:00.000Z").await;
        assert_eq!(fetch(&url).await.status(), 403);
    }
}

on_both_backends! {
    async fn bad_adjustments_and_sends_are_refused_and_change_nothing(app: TestApp) {
        app.create_customer(&json!({"email": "h@acme.test", "id": "user_h"})).await;
        let refused = |body: Value, status: u16| {
            let app = &app;
            async move {
                let response = send(app, Method::POST, "/invoices", DIRECT, Some(body)).await;
                error_of(&json_with_status(response, status).await, DIRECT)
            }
        };
        let cases = [
            (json!({"customerId": "user_h", "amount": 0, "description": "x"}), 400, "validation_error", "amount"),
            (json!({"customerId": "user_h", "amount": 10.5, "description": "x"}), 400, "validation_error", "amount"),
            (json!({"customerId": "user_h", "amount": "100", "description": "x"}), 400, "validation_error", "amount"),
            (json!({"customerId": "user_h", "amount": 100_000_000_001_i64, "description": "x"}), 400, "validation_error", "amount"),
            (json!({"customerId": "user_h", "amount": -100_000_000_001_i64, "description": "x"}), 400, "validation_error", "amount"),
            (json!({"customerId": "user_h", "description": "x"}), 400, "validation_error", "amount"),
            (json!({"customerId": "user_h", "amount": 100}), 400, "validation_error", "description"),
            (json!({"customerId": "user_h", "amount": 100, "description": "  "}), 400, "validation_error", "description"),
            (json!({"customerId": "user_h", "amount": 100, "description": "x".repeat(501)}), 400, "validation_error", "description"),
            (json!({"amount": 100, "description": "x"}), 400, "validation_error", "customerId"),
            (json!({"customerId": "nobody", "amount": 100, "description": "x"}), 404, "customer_not_found", "customerId"),
        ];
        for (body, status, code, param) in cases {
            let error = refused(body.clone(), status).await;
            assert_eq!((&error["code"], &error["param"]), (&json!(code), &json!(param)), "{body}");
        }
        // The live organization does not see the sandbox's customer.
        let live = live(&app, Method::POST, "/invoices")
            .json(&json!({"customerId": "user_h", "amount": 100, "description": "x"})).send().await.unwrap();
        assert_eq!(error_of(&json_with_status(live, 404).await, DIRECT)["code"], json!("customer_not_found"));
        let listed = ok(&app, Method::GET, "/invoices", DIRECT, None).await;
        assert_eq!(listed["data"], json!([]), "no refusal issued an invoice");

        let unknown = send(&app, Method::POST, "/invoices/inv_unknown/send", DIRECT, None).await;
        assert_eq!(error_of(&json_with_status(unknown, 404).await, DIRECT)["code"], json!("invoice_not_found"));
    }
}

/// Where invoices are settled by hand, a charge is issued outstanding (a credit note still
/// paid), and once void it is no longer sent; the refusal records no send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_pay_a_charge_is_outstanding_and_a_void_invoice_is_not_sent() {
    let options = Options {
        auto_pay: false,
        ..Options::default()
    };
    let app = TestApp::spawn_with(crate::support::Backend::Sqlite, options)
        .await
        .unwrap();
    app.create_customer(&json!({"email": "h@acme.test", "id": "user_h"}))
        .await;
    let charge = ok(
        &app,
        Method::POST,
        "/invoices",
        DIRECT,
        Some(json!({"customerId": "user_h", "amount": 100, "description": "x"})),
    )
    .await;
    let note = ok(
        &app,
        Method::POST,
        "/invoices",
        DIRECT,
        Some(json!({"customerId": "user_h", "amount": -100, "description": "y"})),
    )
    .await;
    assert_eq!(
        (&charge["status"], &note["status"]),
        (&json!("outstanding"), &json!("paid"))
    );
    let id = charge["id"].as_str().unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/invoices/{id}/send"),
        DIRECT,
        None,
    )
    .await;
    ok(
        &app,
        Method::PATCH,
        &format!("/invoices/{id}/status"),
        DIRECT,
        Some(json!({"status": "void"})),
    )
    .await;
    let refused = send(
        &app,
        Method::POST,
        &format!("/invoices/{id}/send"),
        DIRECT,
        None,
    )
    .await;
    let error = error_of(&json_with_status(refused, 400).await, DIRECT);
    assert_eq!(
        (&error["code"], &error["param"]),
        (&json!("validation_error"), &json!("id"))
    );
    let sends = sends_of(&app, id).await;
    let states: Vec<_> = sends.iter().map(|s| s.delivery.as_str()).collect();
    assert_eq!(
        states,
        ["not_configured"],
        "only the send before the void is recorded"
    );
}

/// With SMTP configured, a send queues an e-mail that a mailer pass delivers with the PDF
/// attached and a fresh link; a mail server that refuses gets three attempts, with the waits
/// between them, and the send ends `failed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_an_invoice_is_mailed_with_its_pdf_and_refusals_are_retried_three_times() {
    let sink = SmtpSink::start().await;
    let options = Options {
        smtp_url: Some(sink.url.clone()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(crate::support::Backend::Sqlite, options)
        .await
        .unwrap();
    app.create_customer(
        &json!({"email": "ap@initech.test", "id": "initech", "fullName": "Initech"}),
    )
    .await;
    let invoice = ok(&app, Method::POST, "/invoices", DIRECT, Some(json!({"customerId": "initech", "amount": 12_345, "description": "Consulting, October"}))).await;
    let id = invoice["id"].as_str().unwrap().to_owned();
    let receiver = Receiver::start().await;
    ok(
        &app,
        Method::POST,
        "/webhooks",
        DIRECT,
        Some(json!({"url": receiver.url, "events": ["invoice.sent"]})),
    )
    .await;
    ok(
        &app,
        Method::POST,
        &format!("/invoices/{id}/send"),
        DIRECT,
        None,
    )
    .await;
    let mut seen = 0;
    let events = delivered(&app, &receiver, &mut seen).await;
    assert_eq!(
        data(&events, "invoice.sent")["emailDelivery"],
        json!("smtp")
    );
    assert!(
        sink.mails().is_empty(),
        "the response did not wait for the mail server"
    );

    let mailing = tally_workers::Mailing::new(app.app.clone(), Duration::from_millis(100));
    let report = mailing.run_once().await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, ["<ap@initech.test>"]);
    assert_eq!(mail.from, "<billing@acme.test>");
    assert!(
        mail.data.contains("Subject: Invoice INV-000001 from Tally"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("filename=\"INV-000001.pdf\""),
        "{}",
        mail.data
    );
    // The attachment is the invoice's PDF; the text carries a working link to it.
    let pdf = attachment(&mail.data);
    assert!(pdf.starts_with(b"%PDF-"));
    let text = mail.data.replace("=\r\n", "").replace("=3D", "=");
    let link = text
        .split_whitespace()
        .find(|word| word.contains("/files/invoices/"))
        .expect("the e-mail carries a link");
    assert_eq!(fetch(link).await.status(), 200, "{link}");
    if poppler() {
        let text = pdf_text(&pdf);
        for expected in [
            "INV-000001",
            "Initech",
            "Consulting, October",
            "$123.45 USD",
        ] {
            assert!(text.contains(expected), "{expected:?} in the PDF:\n{text}");
        }
    }
    assert_eq!(
        mailing.run_once().await.unwrap(),
        tally_workers::MailReport::default(),
        "a delivered e-mail is not sent again"
    );

    // Refused: retried after 30 s and 60 s of real time, then failed, and never sent again.
    sink.refuse_recipients(true);
    ok(
        &app,
        Method::POST,
        &format!("/invoices/{id}/send"),
        DIRECT,
        None,
    )
    .await;
    let clock = app.clock.as_ref().unwrap();
    assert_eq!(mailing.run_once().await.unwrap().retried, 1);
    assert_eq!(
        mailing.run_once().await.unwrap(),
        tally_workers::MailReport::default(),
        "not again before its wait"
    );
    clock.advance_millis(30_000);
    assert_eq!(mailing.run_once().await.unwrap().retried, 1);
    clock.advance_millis(60_000);
    assert_eq!(mailing.run_once().await.unwrap().failed, 1);
    clock.advance_millis(600_000);
    assert_eq!(
        mailing.run_once().await.unwrap(),
        tally_workers::MailReport::default()
    );
    let sends = sends_of(&app, &id).await;
    let states: Vec<_> = sends
        .iter()
        .map(|s| (s.delivery.as_str(), s.attempts))
        .collect();
    assert_eq!(states, [("delivered", 1), ("failed", 3)]);
    assert!(
        sends[1]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("No such mailbox"),
        "{sends:?}"
    );
    assert_eq!(sink.mails().len(), 1);
}

/// The base64 body of the message's PDF part, decoded.
fn attachment(data: &str) -> Vec<u8> {
    let part = data
        .split("Content-Type: application/pdf")
        .nth(1)
        .expect("a PDF part");
    let body = part.split("\r\n\r\n").nth(1).expect("the part has a body");
    let encoded: String = body
        .lines()
        .take_while(|line| !line.starts_with("--"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .expect("the attachment is base64")
}
