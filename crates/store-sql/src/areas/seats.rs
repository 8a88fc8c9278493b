//! The seats area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::{keyset_page, query};
use crate::rows::{SeatBalanceRow, SeatEventRow};
use async_trait::async_trait;
use tally_domain::page::{Page, PageRequest};
use tally_domain::seats::{SeatBalance, SeatEvent, SeatPoint};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{SeatEventFilter, Seats, StoreError};

sql_row! {
    struct SeatPointRow {
        feature_code: String,
        previous_balance: i64,
        new_balance: i64,
        ts_ms: i64,
    }
}

#[async_trait]
impl Seats for SqlDb {
    async fn seat_balances(
        &mut self,
        org: &OrgId,
        sub: &SubscriptionId,
    ) -> Result<Vec<SeatBalance>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<SeatBalanceRow> = query(
            "SELECT subscription_id, feature_code, current, paid_extra, peak, updated_at_ms FROM seat_balances WHERE org_id = $1 AND subscription_id = $2 ORDER BY feature_code",
        )
        .bind(org.as_str())
        .bind(sub.as_str())
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(SeatBalanceRow::into_domain).collect())
    }

    async fn save_seat_balance(
        &mut self,
        org: &OrgId,
        balance: &SeatBalance,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Scoped twice, since the key (subscription, feature) does not name the organization:
        // a balance is only made for a subscription of `org`, and only a balance of `org` is
        // replaced. (The SELECT keeps its WHERE: SQLite needs one before an upsert clause.)
        query(
            "INSERT INTO seat_balances (subscription_id, feature_code, org_id, current, paid_extra, peak, updated_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7 \
             WHERE EXISTS (SELECT 1 FROM subscriptions WHERE org_id = $3 AND id = $1) \
             ON CONFLICT (subscription_id, feature_code) DO UPDATE SET current = excluded.current, paid_extra = excluded.paid_extra, peak = excluded.peak, updated_at_ms = excluded.updated_at_ms \
             WHERE seat_balances.org_id = excluded.org_id",
        )
        .bind(balance.subscription_id.as_str())
        .bind(&balance.feature_code)
        .bind(org.as_str())
        .bind(balance.current)
        .bind(balance.paid_extra)
        .bind(balance.peak)
        .bind(balance.updated_at.as_millis())
        .execute_one(conn)
        .await
    }

    async fn append_seat_event(&mut self, event: &SeatEvent) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Only onto a subscription of the event's organization and customer.
        query(
            "INSERT INTO seat_events (id, org_id, customer_id, subscription_id, feature_code, \
                 previous_balance, new_balance, ts_ms, created_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE EXISTS (SELECT 1 FROM subscriptions \
                           WHERE org_id = $2 AND id = $4 AND customer_id = $3)",
        )
        .bind(event.id.as_str())
        .bind(event.org_id.as_str())
        .bind(event.customer_id.as_str())
        .bind(event.subscription_id.as_str())
        .bind(&event.feature_code)
        .bind(event.previous_balance)
        .bind(event.new_balance)
        .bind(event.ts.as_millis())
        .bind(event.ts.as_millis())
        .execute_one(conn)
        .await
    }

    async fn seat_events(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        filter: &SeatEventFilter,
        page: &PageRequest,
    ) -> Result<Page<SeatEvent>, StoreError> {
        let conn = &mut self.conn;
        // Seat events page on the time of the change, which is what history is read by. Quota
        // changes share the ledger under `qev_` ids; seat history lists seat events only.
        let rows: Vec<SeatEventRow> = query(format!(
            "SELECT id, org_id, customer_id, subscription_id, feature_code, previous_balance, \
                 new_balance, ts_ms FROM seat_events \
             WHERE org_id = $1 AND customer_id = $2 AND substr(id, 1, 4) = 'sev_' \
               AND (CAST($3 AS TEXT) IS NULL OR feature_code = $3) \
               AND ts_ms >= $4 AND ts_ms < $5 AND {}",
            keyset_page("ts_ms", 6)
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .bind(filter.feature_code.as_deref())
        .bind(filter.from.map_or(i64::MIN, |t| t.as_millis()))
        .bind(filter.to.map_or(i64::MAX, |t| t.as_millis()))
        .bind_page(page)
        .fetch_all(conn)
        .await?;
        let events = rows.into_iter().map(SeatEventRow::into_domain).collect();
        Ok(Page::from_overfetch(events, page.limit))
    }

    async fn seat_timeline(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        limit: u32,
    ) -> Result<Vec<SeatPoint>, StoreError> {
        // Seat changes only, as the history lists them (quota changes share the ledger).
        let rows: Vec<SeatPointRow> = query(
            "SELECT feature_code, previous_balance, new_balance, ts_ms FROM seat_events \
             WHERE org_id = $1 AND customer_id = $2 AND substr(id, 1, 4) = 'sev_' \
             ORDER BY ts_ms DESC, id DESC LIMIT $3",
        )
        .bind(org.as_str())
        .bind(customer.as_str())
        .bind(i64::from(limit))
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| SeatPoint {
                feature_code: row.feature_code,
                previous_balance: row.previous_balance,
                new_balance: row.new_balance,
                ts: Timestamp::from_millis(row.ts_ms),
            })
            .collect())
    }
}
