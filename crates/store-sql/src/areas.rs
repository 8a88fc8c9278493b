//! Every storage area, implemented once for both engines.

mod catalog;
mod customers;
mod idempotency;
mod invoices;
pub(crate) mod organizations;
mod seats;
mod subscriptions;
mod test_clock;
mod usage;
mod webhooks;
