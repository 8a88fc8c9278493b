//! Tally's operations. One function per API operation; each change is one store write job (one
//! transaction): resolve now (organization clock) → replay if the idempotency key is known →
//! lock what will change → the domain decides → save state and idempotency record → commit.
//! Reads go through a read connection (`Store::read`).
//!
//! No HTTP and no SQL here: callers hand in parsed commands and a renderer for the response that
//! an idempotency key should replay; storage sits behind `tally_store::Store`.

pub mod addons;
pub mod adjustments;
pub mod api_keys;
pub mod auth;
pub mod balance;
pub mod bootstrap;
pub mod card_updates;
pub mod catalog;
pub mod checkout;
pub mod claims;
pub mod clock;
pub mod collection;
pub mod credit_packs;
pub mod customer_credits;
pub mod customers;
pub mod dashboard;
pub mod deadlines;
mod error;
pub mod hosted_tokens;
mod hot;
pub mod ids;
pub mod invoice_files;
pub mod invoice_pages;
pub mod invoice_sends;
pub mod invoicing;
pub mod markets;
pub mod offers;
mod outbox;
pub mod pauses;
pub mod payments;
pub mod payouts;
pub mod plan_changes;
pub mod plan_grants;
pub mod plan_groups;
pub mod portal;
pub mod processors;
pub mod quota;
pub mod recovery;
mod seat_codes;
pub mod seats;
pub mod subscriptions;
pub mod test_clock;
pub mod usage;
pub mod webhooks;
pub mod write;

pub use auth::Caller;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AppError, NotFound};
pub use ids::{IdSource, RandomIds};
pub use write::{Command, Idempotency, WriteCtx, Written};

use std::sync::Arc;
use tally_store::Store;

/// Everything an operation needs from the outside world, injected once at start.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    transport: Option<Arc<dyn webhooks::WebhookTransport>>,
    /// The port this process serves the API on, which webhook endpoints may not target.
    own_port: Option<u16>,
    /// The address ranges webhook endpoints may name besides public addresses.
    webhook_networks: tally_domain::webhook_targets::AllowedNetworks,
    /// How long a dispatcher holds the deliveries it claimed (`webhooks::claim_due_deliveries`).
    delivery_lease_ms: i64,
    /// The status invoices are issued in: `paid` (Tally takes no payments), or `outstanding`
    /// when the operator settles them (`balance.md` §5.1 `autoPay: false`).
    invoice_status: tally_domain::billing::InvoiceStatus,
    /// `billingMode: charge`: subscription invoices are charged to customers' default cards
    /// where the organization has a processor (`collection`).
    charge_mode: bool,
    /// Whether seats above the included amount are refused where they cannot be sold
    /// (`seats.md` §3.7 `seatCaps: "enforce"`).
    enforce_seat_caps: bool,
    /// The API keys this node has seen (`auth`).
    known_keys: Arc<auth::KnownKeys>,
    /// The hot reads' view, kept in memory where this process is the only writer (`hot`).
    view: Arc<ReadView>,
    /// Where other nodes write: hot-read state kept with the database stamp it was read under.
    stamped: Arc<StampedView>,
    /// Where invoice download links point and what signs them (`invoice_files`).
    links: Arc<invoice_files::InvoiceLinks>,
    /// Sends invoice e-mails; `None` when the server has no SMTP (`invoice_sends`).
    mailer: Option<Arc<dyn invoice_sends::Mailer>>,
}

/// Customers' hot-read state by (organization, reference), with the stamp it was read under.
pub(crate) type StampedView = hot::StampedView<
    (tally_domain::OrgId, String),
    (tally_domain::CustomerId, i64, i64),
    usage::CustomerView,
>;

/// The read view's entries: key standings, and customers' hot-read state.
pub(crate) type ReadView = hot::HotView<
    (tally_domain::OrgId, tally_domain::ApiKeyId),
    Option<tally_store::KeyStanding>,
    (tally_domain::OrgId, String),
    usage::CustomerView,
>;

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self {
            clock,
            ids,
            transport: None,
            own_port: None,
            webhook_networks: tally_domain::webhook_targets::AllowedNetworks::none(),
            delivery_lease_ms: webhooks::DELIVERY_LEASE_MS_DEFAULT,
            invoice_status: tally_domain::billing::InvoiceStatus::Paid,
            charge_mode: false,
            enforce_seat_caps: false,
            known_keys: Arc::default(),
            view: Arc::new(hot::HotView::new(store.single_writer_process())),
            stamped: Arc::new(hot::StampedView::new()),
            links: Arc::default(),
            mailer: None,
            store,
        }
    }

    /// Refuses seat counts above the included amount when overage is off, during trials and on
    /// free plans.
    pub fn with_seat_caps(mut self, enforce: bool) -> Self {
        self.enforce_seat_caps = enforce;
        self
    }

    /// Issues invoices `outstanding` instead of `paid` (`autoPay: false`).
    pub fn with_auto_pay(mut self, auto_pay: bool) -> Self {
        self.invoice_status = if auto_pay {
            tally_domain::billing::InvoiceStatus::Paid
        } else {
            tally_domain::billing::InvoiceStatus::Outstanding
        };
        self
    }

    /// Collects subscription invoices through the organization's processor (`billingMode:
    /// charge`, `payments.md` §5) instead of issuing them as `autoPay` says.
    pub fn with_charge_mode(mut self, charge: bool) -> Self {
        self.charge_mode = charge;
        self
    }

    /// Sets how long a claimed delivery stays reserved; it must outlast one send.
    pub fn with_delivery_lease_ms(mut self, lease_ms: i64) -> Self {
        self.delivery_lease_ms = lease_ms;
        self
    }

    /// Delivers webhooks (and test sends) through `transport`.
    pub fn with_transport(mut self, transport: Arc<dyn webhooks::WebhookTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Refuses webhook endpoints that point at this API's own port.
    pub fn with_own_port(mut self, port: u16) -> Self {
        self.own_port = Some(port);
        self
    }

    /// Lets webhook endpoints name addresses in `networks` besides public ones (the transport
    /// applies the same ranges when it connects).
    pub fn with_webhook_networks(
        mut self,
        networks: tally_domain::webhook_targets::AllowedNetworks,
    ) -> Self {
        self.webhook_networks = networks;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The real (wall or injected) time; an organization's "now" may differ (test clock).
    pub fn real_now(&self) -> tally_domain::Timestamp {
        self.clock.now()
    }
}
