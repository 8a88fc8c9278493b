//! `tally backup`: the real command copies the SQLite database of a real server while 8 clients
//! keep writing seats with idempotency keys, and a new server then runs on the copy.
//!
//! What must hold: the copy is a sound database holding a consistent prefix of the writes.
//! Every write acknowledged before the backup began is in it, none sent after it ended is, and
//! no write is there in part: each idempotency record has its seat event, each seat event its
//! record, and every subscription's seat ledger adds up to its stored balance. Restored, the
//! copy serves the same state and takes every key again exactly once.

use crate::seat_kill::{add_seat, ledger, seats, set_up};
use crate::support::{Backend, TestApp};
use crate::webhook_restart::start;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 4;
const WRITERS: usize = 8;
/// Acknowledged writes to wait for before the backup, and after it: the copy is taken mid-run.
const ACKNOWLEDGED_BEFORE_BACKUP: usize = 150;
const ACKNOWLEDGED_AFTER_BACKUP: usize = 100;

/// One seat write as its client saw it.
struct Sent {
    key: String,
    customer: String,
    sent_at: Instant,
    acknowledged_at: Option<Instant>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_mid_write_is_a_consistent_prefix_a_new_server_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("tally.db").display());
    let copy = dir.path().join("copy.db");
    let client = reqwest::Client::new();
    let server = start(&database_url).await;
    let customers: Vec<String> = (0..CUSTOMERS).map(|n| format!("backup-{n}")).collect();
    let customer_ids: Vec<&str> = customers.iter().map(String::as_str).collect();
    set_up(&client, &server.address, &customer_ids).await;
    add_ballast(&database_url);

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged_count = Arc::new(AtomicUsize::new(0));
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (client, address) = (client.clone(), server.address.clone());
        let (stop, acknowledged_count) = (stop.clone(), acknowledged_count.clone());
        let customer = customers[writer % CUSTOMERS].clone();
        writers.spawn(async move {
            let mut sent = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("w{writer}-{n}");
                n += 1;
                let sent_at = Instant::now();
                let acknowledged = add_seat(&client, &address, &customer, &key)
                    .await
                    .is_ok_and(|response| response.status() == 200);
                if acknowledged {
                    acknowledged_count.fetch_add(1, Ordering::Relaxed);
                }
                sent.push(Sent {
                    key,
                    customer: customer.clone(),
                    sent_at,
                    acknowledged_at: acknowledged.then(Instant::now),
                });
            }
            sent
        });
    }
    wait_for(&acknowledged_count, ACKNOWLEDGED_BEFORE_BACKUP).await;
    let backup_started = Instant::now();
    let backup = run_backup(&database_url, &["--to", copy.to_str().unwrap()]).await;
    let backup_finished = Instant::now();
    let acknowledged_at_finish = acknowledged_count.load(Ordering::Relaxed);
    wait_for(
        &acknowledged_count,
        acknowledged_at_finish + ACKNOWLEDGED_AFTER_BACKUP,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut sent = Vec::new();
    while let Some(writer) = writers.join_next().await {
        sent.extend(writer.unwrap());
    }
    drop(server);

    assert!(backup.status.success(), "{}", stderr_of(&backup));
    let in_copy = inspect_copy(&copy);
    let keys_in_copy: BTreeSet<&str> = in_copy.keys.iter().map(String::as_str).collect();
    let acknowledged = sent.iter().filter(|s| s.acknowledged_at.is_some()).count();
    for write in &sent {
        let in_it = keys_in_copy.contains(write.key.as_str());
        if write.acknowledged_at.is_some_and(|at| at < backup_started) {
            assert!(in_it, "{} was acknowledged before the backup", write.key);
        }
        if write.sent_at > backup_finished {
            assert!(!in_it, "{} was sent after the backup", write.key);
        }
    }
    let sent_keys: BTreeSet<&str> = sent.iter().map(|s| s.key.as_str()).collect();
    assert!(keys_in_copy.is_subset(&sent_keys));
    assert!(
        keys_in_copy.len() >= ACKNOWLEDGED_BEFORE_BACKUP && keys_in_copy.len() < acknowledged,
        "some but not all acknowledged writes: {} of {acknowledged}",
        keys_in_copy.len()
    );

    // Restore: a new server on the copy.
    let copy_url = format!("sqlite://{}", copy.display());
    let restored = start(&copy_url).await;
    for customer in &customers {
        let balance = seats(&client, &restored.address, customer).await;
        assert_eq!(balance, in_copy.balances[customer], "{customer} restored");
        assert_eq!(ledger(&client, &restored.address, customer).await, balance);
    }
    for write in &sent {
        let again = add_seat(&client, &restored.address, &write.customer, &write.key)
            .await
            .unwrap();
        let replayed = again
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        assert_eq!(again.status(), 200, "key {}", write.key);
        assert_eq!(
            replayed,
            keys_in_copy.contains(write.key.as_str()),
            "{} replays exactly when the copy holds it",
            write.key
        );
    }
    for customer in &customers {
        let keys = sent.iter().filter(|s| &s.customer == customer).count();
        assert_eq!(
            seats(&client, &restored.address, customer).await,
            keys as i64,
            "{customer}: each key applied once"
        );
    }
}

#[tokio::test]
async fn an_existing_file_is_replaced_only_with_force_and_never_the_database_itself() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_customer(&json!({"email": "kept@example.com", "id": "kept"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.db");
    std::fs::write(&target, "an older backup").unwrap();
    let database_file = app.database_url.strip_prefix("sqlite://").unwrap();
    let target_arg = target.to_str().unwrap();

    let refused = run_backup(&app.database_url, &["--to", target_arg]).await;
    let kept = std::fs::read_to_string(&target).unwrap();
    let itself = run_backup(&app.database_url, &["--to", database_file, "--force"]).await;
    let wal = format!("{database_file}-wal");
    let its_wal = run_backup(&app.database_url, &["--to", &wal, "--force"]).await;
    let forced = run_backup(&app.database_url, &["--to", target_arg, "--force"]).await;

    assert!(!refused.status.success());
    assert!(
        stderr_of(&refused).contains("already exists; pass --force to replace it"),
        "{}",
        stderr_of(&refused)
    );
    assert_eq!(kept, "an older backup", "the refused target is untouched");
    for (output, case) in [(&itself, "the database"), (&its_wal, "its WAL")] {
        assert!(!output.status.success(), "{case}");
        assert!(
            stderr_of(output).contains("is the database itself or one of its files"),
            "{case}: {}",
            stderr_of(output)
        );
    }
    assert!(forced.status.success(), "{}", stderr_of(&forced));
    let copy = inspect_copy(&target);
    assert_eq!(copy.customer_ids, ["kept"]);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no partial file is left beside the backup");
    // The server still runs on its database.
    app.create_customer(&json!({"email": "after@example.com"}))
        .await;
}

#[tokio::test]
async fn a_postgres_database_is_refused_with_the_tools_to_use_instead() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.db");

    // Nothing listens on port 1: the refusal comes before any connection.
    let refused = run_backup(
        "postgres://tally:s3cret@127.0.0.1:1/tally",
        &["--to", target.to_str().unwrap()],
    )
    .await;

    let stderr = stderr_of(&refused);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("SQLite databases only")
            && stderr.contains("pg_dump")
            && stderr.contains("point-in-time recovery"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert!(!target.exists());
}

/// Megabytes of filler the backup copies besides Tally's own rows, so that the copy takes long
/// enough for many of the writers' commits to land while it runs.
const BALLAST_MB: usize = 16;

/// Adds `BALLAST_MB` of rows in a table of the test's own, next to the running server.
fn add_ballast(database_url: &str) {
    let path = database_url.strip_prefix("sqlite://").unwrap();
    let db = rusqlite::Connection::open(path).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute_batch(&format!(
        "CREATE TABLE test_ballast (filler BLOB NOT NULL); \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         INSERT INTO test_ballast SELECT randomblob(4096) FROM n;",
        rows = BALLAST_MB * 256
    ))
    .unwrap();
}

/// Runs `tally backup` with `args` against `database_url`.
async fn run_backup(database_url: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg("backup")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .await
        .unwrap()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Polls with a deadline: the writers run on their own.
async fn wait_for(count: &AtomicUsize, at_least: usize) {
    tokio::time::timeout(Duration::from_secs(60), async {
        while count.load(Ordering::Relaxed) < at_least {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the writers keep going");
}

/// What a backup file holds, read with SQLite directly.
struct Copy {
    /// Idempotency keys recorded.
    keys: Vec<String>,
    /// Each customer's seat balance.
    balances: BTreeMap<String, i64>,
    customer_ids: Vec<String>,
}

/// Opens the copy read-only and checks what must hold of any backup: SQLite finds it sound,
/// and no write is there in part.
fn inspect_copy(path: &Path) -> Copy {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let strings = |sql: &str| -> Vec<String> {
        let mut statement = db.prepare(sql).unwrap();
        let rows = statement.query_map([], |row| row.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(strings("PRAGMA integrity_check"), ["ok"]);
    assert_eq!(
        strings("PRAGMA journal_mode"),
        ["delete"],
        "a standalone file, no WAL beside it"
    );

    let mut statement = db
        .prepare("SELECT key, response_status, response_body FROM idempotency_keys")
        .unwrap();
    let records: Vec<(String, Option<i64>, Option<String>)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut recorded_events = BTreeSet::new();
    for (key, status, body) in &records {
        assert_eq!(*status, Some(200), "{key}: a finished write");
        let body: Value = serde_json::from_str(body.as_deref().unwrap()).unwrap();
        recorded_events.insert(body["id"].as_str().unwrap().to_owned());
    }
    let events: BTreeSet<String> = strings("SELECT id FROM seat_events").into_iter().collect();
    assert_eq!(
        recorded_events, events,
        "each write's idempotency record and seat event are both in the copy, or neither"
    );

    let mut statement = db
        .prepare(
            "SELECT c.external_id, b.current, \
               (SELECT COALESCE(SUM(e.new_balance - e.previous_balance), 0) FROM seat_events e \
                WHERE e.subscription_id = b.subscription_id AND e.feature_code = b.feature_code) \
             FROM seat_balances b JOIN subscriptions s ON s.id = b.subscription_id \
             JOIN customers c ON c.id = s.customer_id",
        )
        .unwrap();
    let mut balances = BTreeMap::new();
    for row in statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .unwrap()
    {
        let (customer, current, ledger) = row.unwrap();
        assert_eq!(
            current, ledger,
            "{customer}: the ledger adds up to the balance"
        );
        balances.insert(customer, current);
    }
    Copy {
        keys: records.into_iter().map(|(key, _, _)| key).collect(),
        balances,
        customer_ids: strings("SELECT external_id FROM customers ORDER BY external_id"),
    }
}
