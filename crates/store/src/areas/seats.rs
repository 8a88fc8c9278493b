//! Seat balances and the seat ledger.

use crate::{SeatEventFilter, StoreError};
use async_trait::async_trait;
use tally_domain::page::{Page, PageRequest};
use tally_domain::seats::{SeatBalance, SeatEvent, SeatPoint};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{CustomerId, OrgId};

#[async_trait]
pub trait Seats {
    /// Seat balances of a subscription, by feature code.
    async fn seat_balances(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatBalance>, StoreError>;

    /// Inserts or replaces one balance of a subscription of `org`; `NotFound` when the
    /// subscription is not one of `org`'s.
    async fn save_seat_balance(
        &mut self,
        org: &OrgId,
        balance: &SeatBalance,
    ) -> Result<(), StoreError>;

    /// Appends an event of a subscription of the event's organization and customer
    /// (`NotFound` otherwise).
    async fn append_seat_event(&mut self, event: &SeatEvent) -> Result<(), StoreError>;

    /// A customer's seat events, newest first, optionally of one feature and within
    /// `[from, to)`.
    async fn seat_events(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        filter: &SeatEventFilter,
        page: &PageRequest,
    ) -> Result<Page<SeatEvent>, StoreError>;

    /// The newest `limit` seat changes of a customer, newest first, as a timeline draws them:
    /// one index range, four columns a row.
    async fn seat_timeline(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        limit: u32,
    ) -> Result<Vec<SeatPoint>, StoreError>;
}
