//! Dashboard page loads (`--pages`): the customer page of a customer with `SEAT_EVENTS` seat
//! changes, and the customer list of an organization with `CUSTOMERS` customers (its first
//! page, a page deep in the keyset, and an e-mail search), over HTTP with a signed-in session;
//! next to the engine reading what dominates each page as plain SQL on the same database (the
//! seat ledger read the timeline draws; the keyset page and the search's index lookups).

use crate::fixture::{
    BenchCustomer, DASHBOARD_CREDENTIAL, FEATURE_CODE, FreshDatabase, RunningServer, authorized,
};
use crate::load::{self, LoadShape, Measured};
use crate::report::Phase;
use anyhow::{Context, bail};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use std::sync::Arc;

/// Seat changes of the measured customer: the "customer with 10 000 seat events".
pub const SEAT_EVENTS: usize = 10_000;
/// Customers of the organization: the "list of 100 000 customers".
pub const CUSTOMERS: usize = 100_000;
/// Customers per batch request while setting up (the API's largest batch).
const BATCH: usize = 100;

/// What one backend's page phases measured.
pub struct PagesReport {
    pub backend: &'static str,
    pub customer_page: Phase,
    pub customer_page_engine: Phase,
    pub list_first: Phase,
    pub list_deep: Phase,
    pub list_engine: Phase,
    pub search: Phase,
    pub search_engine: Phase,
}

impl PagesReport {
    pub fn phases(&self) -> [&Phase; 7] {
        [
            &self.customer_page,
            &self.customer_page_engine,
            &self.list_first,
            &self.list_deep,
            &self.list_engine,
            &self.search,
            &self.search_engine,
        ]
    }

    pub fn failed(&self) -> bool {
        self.phases().iter().any(|p| p.measured.errors > 0)
    }

    /// (label, HTTP page, its engine floor) for the ratios.
    pub fn ratios(&self) -> [(&'static str, &Phase, &Phase); 3] {
        [
            (
                "customer page / engine ledger read",
                &self.customer_page,
                &self.customer_page_engine,
            ),
            (
                "deep list page / engine keyset page",
                &self.list_deep,
                &self.list_engine,
            ),
            (
                "search / engine index lookups",
                &self.search,
                &self.search_engine,
            ),
        ]
    }
}

/// Sets up and measures the dashboard's pages on a fresh database of `backend`.
pub async fn measure(
    backend: &crate::fixture::Backend,
    shape: LoadShape,
) -> anyhow::Result<PagesReport> {
    let name = backend.name();
    let database = FreshDatabase::create(backend).await;
    let server = RunningServer::start(database.url()).await?;
    let customer = server
        .set_up(1)
        .await?
        .pop()
        .context("the set-up made a customer")?;
    eprintln!("{name}: {SEAT_EVENTS} seat changes on one customer");
    seat_history(&server, &customer).await?;
    eprintln!("{name}: {CUSTOMERS} customers in batches of {BATCH}");
    many_customers(&server).await?;
    let operator = SignedIn::new(&server).await?;
    let deep = operator.deep_cursor().await?;

    let page_of = |path: String| {
        let operator = operator.clone();
        move |_| {
            let (operator, path) = (operator.clone(), path.clone());
            async move { operator.get(&path).await }
        }
    };
    eprintln!("{name}: dashboard customer page");
    let customer_page = load::run(
        shape,
        page_of(format!("/dashboard/customers/{}", customer.id.as_str())),
    )
    .await;
    eprintln!("{name}: dashboard customer list");
    let list_first = load::run(shape, page_of("/dashboard/customers".to_owned())).await;
    let list_deep = load::run(shape, page_of(format!("/dashboard/customers?after={deep}"))).await;
    let search = load::run(
        shape,
        page_of("/dashboard/customers?q=many_50000@bench.test".to_owned()),
    )
    .await;
    server.stop().await?;

    eprintln!("{name}: engine reads (plain SQL, same database)");
    let engine = Engine::connect(database.url()).await?;
    let customer_page_engine = engine
        .clone()
        .run(shape, Read::Ledger(customer.id.as_str().to_owned()))
        .await;
    let list_engine = engine
        .clone()
        .run(shape, Read::KeysetPage(deep_position(&deep)?))
        .await;
    let search_engine = engine
        .run(shape, Read::Search("many_50000@bench.test".to_owned()))
        .await;
    drop(database);

    Ok(PagesReport {
        backend: name,
        customer_page: Phase {
            operation: "customer page, 10 000 seat events (HTTP)",
            measured: customer_page,
        },
        customer_page_engine: Phase {
            operation: "its ledger read + customer row (engine: SQL)",
            measured: customer_page_engine,
        },
        list_first: Phase {
            operation: "customer list, first page of 100 000 (HTTP)",
            measured: list_first,
        },
        list_deep: Phase {
            operation: "customer list, page 1 000 of 2 000 (HTTP)",
            measured: list_deep,
        },
        list_engine: Phase {
            operation: "its keyset page (engine: SQL)",
            measured: list_engine,
        },
        search: Phase {
            operation: "customer search by e-mail (HTTP)",
            measured: search,
        },
        search_engine: Phase {
            operation: "its three index lookups (engine: SQL)",
            measured: search_engine,
        },
    })
}

/// `SEAT_EVENTS` seat changes on `customer`, each a `PUT /seats` to a count other than the
/// one before, so each records a ledger event.
async fn seat_history(server: &RunningServer, customer: &BenchCustomer) -> anyhow::Result<()> {
    // One customer's changes serialize on its row: sent one after another.
    for n in 0..SEAT_EVENTS {
        let count = 11 + (n % 7) as i64;
        let response = server
            .request(reqwest::Method::PUT, "/seats")
            .json(&json!({"customerId": customer.external_id, "featureCode": FEATURE_CODE, "count": count}))
            .send()
            .await?;
        if response.status() != 200 {
            bail!("seat change {n}: {}", response.text().await?);
        }
    }
    Ok(())
}

async fn many_customers(server: &RunningServer) -> anyhow::Result<()> {
    let shape = LoadShape {
        concurrency: 8,
        stop: load::Stop::Requests((CUSTOMERS / BATCH) as u64),
    };
    let client = server.client.clone();
    let url = format!("{}/api/v1/customers/batch", server.address);
    let measured = load::run(shape, move |n| {
        let customers: Vec<Value> = (0..BATCH as u64)
            .map(|i| {
                let k = n * BATCH as u64 + i;
                json!({"email": format!("many_{k}@bench.test"), "id": format!("many_{k}")})
            })
            .collect();
        let request = authorized(client.post(&url)).json(&json!({"customers": customers}));
        async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            match response.status().as_u16() {
                200 => Ok(()),
                status => Err(format!(
                    "{status}: {}",
                    response.text().await.unwrap_or_default()
                )),
            }
        }
    })
    .await;
    if measured.errors > 0 {
        bail!("creating customers failed: {:?}", measured.error_samples);
    }
    Ok(())
}

/// A client signed in to the dashboard (its session cookie), following no redirects.
#[derive(Clone)]
struct SignedIn {
    client: reqwest::Client,
    base: Arc<str>,
    cookie: Arc<str>,
}

impl SignedIn {
    async fn new(server: &RunningServer) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()?;
        let response = client
            .post(format!("{}/dashboard/sign-in", server.address))
            .form(&[("credential", DASHBOARD_CREDENTIAL)])
            .send()
            .await?;
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .context("signing in to the dashboard sets a cookie")?
            .to_owned();
        Ok(Self {
            client,
            base: server.address.clone().into(),
            cookie: cookie.into(),
        })
    }

    async fn get(&self, path: &str) -> Result<(), String> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &*self.cookie)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if status != 200 || !body.contains("</html>") {
            return Err(format!("{path}: {status}"));
        }
        Ok(())
    }

    /// The cursor of the list's middle page: followed from the first page, 50 at a time.
    async fn deep_cursor(&self) -> anyhow::Result<String> {
        let mut path = "/dashboard/customers".to_owned();
        let mut cursor = String::new();
        for _ in 0..(CUSTOMERS / 50 / 2) {
            let body = self
                .client
                .get(format!("{}{path}", self.base))
                .header("cookie", &*self.cookie)
                .send()
                .await?
                .text()
                .await?;
            let link = "id=\"next-page\" href=\"/dashboard/customers?after=";
            let at = body.find(link).context("a next page link")? + link.len();
            cursor = body[at..at + body[at..].find('"').context("the link ends")?].to_owned();
            path = format!("/dashboard/customers?after={cursor}");
        }
        Ok(cursor)
    }
}

/// The dashboard's cursor: hex of `<createdAt ms>:<id>`.
fn deep_position(cursor: &str) -> anyhow::Result<(i64, String)> {
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()?;
    let text = String::from_utf8(bytes)?;
    let (ms, id) = text.split_once(':').context("a cursor is ms:id")?;
    Ok((ms.parse()?, id.to_owned()))
}

/// A read the engine does for one page.
#[derive(Clone)]
enum Read {
    /// The customer row and its newest 10 001 seat events.
    Ledger(String),
    /// 51 customers after a keyset position, newest first.
    KeysetPage((i64, String)),
    /// A customer by id, externalId or e-mail.
    Search(String),
}

impl Read {
    fn sql(&self) -> &'static str {
        match self {
            Read::Ledger(_) => {
                "SELECT feature_code, previous_balance, new_balance, ts_ms FROM seat_events \
                 WHERE org_id = $1 AND customer_id = $2 AND substr(id, 1, 4) = 'sev_' \
                 ORDER BY ts_ms DESC, id DESC LIMIT 10001"
            }
            Read::KeysetPage(_) => {
                "SELECT id, org_id, external_id, full_name, email, tax_document, timezone, metadata, \
                 address, created_at_ms, updated_at_ms FROM customers WHERE org_id = $1 \
                 AND (created_at_ms, id) < ($2, $3) \
                 ORDER BY created_at_ms DESC, id DESC LIMIT 51"
            }
            Read::Search(_) => {
                "SELECT id, email FROM ( \
                     SELECT id, email, created_at_ms FROM customers WHERE org_id = $1 AND id = $2 \
                     UNION SELECT id, email, created_at_ms FROM customers WHERE org_id = $1 AND external_id = $2 \
                     UNION SELECT id, email, created_at_ms FROM customers WHERE org_id = $1 AND email = $2 \
                 ) AS found ORDER BY created_at_ms DESC, id DESC LIMIT 50"
            }
        }
    }
}

/// Plain SQL reads on the database, through sqlx (as the server's reads go), a pool of the
/// phase's concurrency.
#[derive(Clone)]
enum Engine {
    Sqlite(sqlx::SqlitePool, String),
    Postgres(sqlx::PgPool, String),
}

impl Engine {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(8)
                .connect(url)
                .await?;
            let org = sandbox_org_sqlite(&pool).await?;
            Ok(Engine::Sqlite(pool, org))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .connect(url)
                .await?;
            let org: String = sqlx::query_scalar(
                "SELECT id FROM organizations WHERE mode = 'sandbox' ORDER BY created_at_ms LIMIT 1",
            )
            .fetch_one(&pool)
            .await?;
            Ok(Engine::Postgres(pool, org))
        }
    }

    async fn run(self, shape: LoadShape, read: Read) -> Measured {
        let engine = Arc::new(self);
        load::run(shape, move |_| {
            let (engine, read) = (engine.clone(), read.clone());
            async move { engine.read(&read).await.map_err(|e| e.to_string()) }
        })
        .await
    }

    async fn read(&self, read: &Read) -> Result<(), sqlx::Error> {
        // The same statements on either pool (sqlx's pools are typed per engine).
        macro_rules! on {
            ($pool:expr, $org:expr) => {{
                let query = sqlx::query(read.sql()).bind($org.as_str());
                let query = match read {
                    Read::Ledger(customer) => query.bind(customer.clone()),
                    Read::KeysetPage((ms, id)) => query.bind(*ms).bind(id.clone()),
                    Read::Search(text) => query.bind(text.clone()),
                };
                let rows = query.fetch_all($pool).await?;
                if let Read::Ledger(customer) = read {
                    sqlx::query("SELECT id, email FROM customers WHERE org_id = $1 AND id = $2")
                        .bind($org.as_str())
                        .bind(customer.as_str())
                        .fetch_one($pool)
                        .await?;
                }
                check_rows(read, rows.len())
            }};
        }
        match self {
            Engine::Sqlite(pool, org) => on!(pool, org),
            Engine::Postgres(pool, org) => on!(pool, org),
        }
    }
}

async fn sandbox_org_sqlite(pool: &sqlx::SqlitePool) -> anyhow::Result<String> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM organizations WHERE mode = 'sandbox' ORDER BY created_at_ms LIMIT 1",
    )
    .fetch_one(pool)
    .await?)
}

/// The engine must find what the page shows, or its figure would flatter the page.
fn check_rows(read: &Read, rows: usize) -> Result<(), sqlx::Error> {
    let expected = match read {
        Read::Ledger(_) => rows >= SEAT_EVENTS,
        Read::KeysetPage(_) => rows == 51,
        Read::Search(_) => rows == 1,
    };
    if expected {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "the engine read found {rows} rows"
        )))
    }
}
