//! The shared storage suite, on a fresh database per case, on each engine.

mod sqlite {
    tally_store::conformance_suite!(tally_store_sql::testing::fresh_store(
        tally_store_sql::Engine::Sqlite
    ));
}

mod postgres {
    tally_store::conformance_suite!(tally_store_sql::testing::fresh_store(
        tally_store_sql::Engine::Postgres
    ));
}

#[test]
fn both_engines_list_the_same_migrations() {
    use tally_store_sql::Engine;
    assert_eq!(
        Engine::Sqlite.migration_names(),
        Engine::Postgres.migration_names()
    );
}

#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused_with_a_reason() {
    for url in ["sqlite::memory:", "sqlite://tally.db?mode=memory"] {
        let opened = tally_store_sql::SqlStore::connect(url).await;

        let error = opened.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("in-memory"), "{url}: {error}");
    }
}

/// Migrations that rewrite existing rows, run on rows written under the schema before them.
mod upgrades {
    use std::sync::Arc;
    use tally_domain::OrgId;
    use tally_domain::page::PageRequest;
    use tally_domain::webhooks::Delivery;
    use tally_store::{Lock, Store, StoreError};
    use tally_store_sql::Engine;

    /// Deliveries as 0004 stored them: event A went to three endpoints, two of them in one
    /// version (the same bytes twice) and one in another; event B to one endpoint.
    const ROWS_AT_0004: &str = r#"
        INSERT INTO organizations (id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms)
        VALUES ('org_upgrade', 'Upgrade', 'sandbox', NULL, '2026-07-11', NULL, 1000);
        INSERT INTO webhook_endpoints (id, org_id, url, events, description, is_active, api_version,
            secret, consecutive_failures, created_at_ms, updated_at_ms, deleted_at_ms)
        VALUES ('whe_1', 'org_upgrade', 'https://a.example/', '["seats.updated"]', NULL, TRUE, NULL, 'whsec_1', 0, 1000, 1000, NULL),
               ('whe_2', 'org_upgrade', 'https://b.example/', '["seats.updated"]', NULL, TRUE, NULL, 'whsec_2', 0, 1000, 1000, NULL),
               ('whe_3', 'org_upgrade', 'https://c.example/', '["seats.updated"]', NULL, TRUE, NULL, 'whsec_3', 0, 1000, 1000, NULL);
        INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, body, signature,
            timestamp_header, status, attempts, next_attempt_at_ms, created_at_ms)
        VALUES ('whd_01A', 'org_upgrade', 'whe_1', 'whev_A', 'seats.updated', '{"v":1,"e":"A"}', 'sig1', 't', 'succeeded', 1, 2000, 2000),
               ('whd_01B', 'org_upgrade', 'whe_2', 'whev_A', 'seats.updated', '{"v":1,"e":"A"}', 'sig2', 't', 'pending', 0, 2000, 2000),
               ('whd_01C', 'org_upgrade', 'whe_3', 'whev_A', 'seats.updated', '{"v":2,"e":"A"}', 'sig3', 't', 'pending', 0, 2000, 2000),
               ('whd_01D', 'org_upgrade', 'whe_1', 'whev_B', 'seats.updated', '{"v":1,"e":"B"}', 'sig4', 't', 'failed', 8, 9000, 3000);
        INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at_ms, status_code, latency_ms, response_body, error)
        VALUES ('whd_01A', 1, 2500, 200, 12, 'ok', NULL);
    "#;

    async fn existing_deliveries_keep_their_bytes_with_each_body_stored_once(engine: Engine) {
        let Some(database) =
            tally_store_sql::testing::fresh_database_at(engine, 4, "the 0005 upgrade").await
        else {
            return;
        };
        seed(engine, &database.url).await;

        database.store.migrate().await.unwrap();

        let store: Arc<dyn Store> = database.store.clone();
        let org = OrgId::new("org_upgrade");
        let mut db = store.read().await.unwrap();
        let mut read = async |id: &str| {
            let delivery: Delivery = db.delivery(&org, id, Lock::None).await.unwrap().unwrap();
            (delivery.body_id, delivery.body, delivery.signature)
        };
        assert_eq!(
            read("whd_01A").await,
            ("whb_01A".into(), r#"{"v":1,"e":"A"}"#.into(), "sig1".into())
        );
        assert_eq!(
            read("whd_01B").await,
            ("whb_01A".into(), r#"{"v":1,"e":"A"}"#.into(), "sig2".into()),
            "the same bytes, stored once"
        );
        assert_eq!(
            read("whd_01C").await,
            ("whb_01C".into(), r#"{"v":2,"e":"A"}"#.into(), "sig3".into())
        );
        assert_eq!(
            read("whd_01D").await,
            ("whb_01D".into(), r#"{"v":1,"e":"B"}"#.into(), "sig4".into())
        );
        let page = PageRequest {
            limit: 10,
            after: None,
        };
        let logs = db.delivery_logs(&org, "whe_1", &page).await.unwrap().items;
        let attempts: Vec<(String, usize)> = logs
            .iter()
            .map(|l| (l.delivery.id.clone(), l.attempts.len()))
            .collect();
        assert_eq!(
            attempts,
            [("whd_01D".to_owned(), 0), ("whd_01A".to_owned(), 1)],
            "attempts are kept"
        );
        drop(db);
        assert_eq!(count_bodies(engine, &database.url).await, 3);
        // The moved rows keep working: claimed with their bodies, attempts recorded against them.
        let claimed = tally_store::write(&*store, move |tx| {
            Box::pin(async move {
                let due = tx
                    .claim_due_deliveries(tally_domain::Timestamp::from_millis(2000), 10)
                    .await?;
                for delivery in &due {
                    tx.record_attempt(
                        &delivery.org_id,
                        &delivery.id,
                        &tally_store::Attempt {
                            number: 1,
                            attempted_at: tally_domain::Timestamp::from_millis(2000),
                            result: tally_domain::webhooks::AttemptResult {
                                status_code: Some(200),
                                latency_ms: 1,
                                response_body: None,
                                error: None,
                            },
                        },
                    )
                    .await?;
                }
                Ok::<_, StoreError>(due.into_iter().map(|d| (d.id, d.body)).collect::<Vec<_>>())
            })
        })
        .await
        .unwrap();
        assert_eq!(
            claimed,
            [
                ("whd_01B".to_owned(), r#"{"v":1,"e":"A"}"#.to_owned()),
                ("whd_01C".to_owned(), r#"{"v":2,"e":"A"}"#.to_owned())
            ]
        );
    }

    async fn seed(engine: Engine, url: &str) {
        match engine {
            Engine::Sqlite => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                sqlx::raw_sql(ROWS_AT_0004).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Engine::Postgres => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::raw_sql(ROWS_AT_0004).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    async fn count_bodies(engine: Engine, url: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM webhook_event_bodies";
        match engine {
            Engine::Sqlite => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
            }
            Engine::Postgres => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
            }
        }
    }

    #[tokio::test]
    async fn existing_deliveries_move_to_stored_bodies_on_sqlite() {
        existing_deliveries_keep_their_bytes_with_each_body_stored_once(Engine::Sqlite).await;
    }

    #[tokio::test]
    async fn existing_deliveries_move_to_stored_bodies_on_postgres() {
        existing_deliveries_keep_their_bytes_with_each_body_stored_once(Engine::Postgres).await;
    }
}
