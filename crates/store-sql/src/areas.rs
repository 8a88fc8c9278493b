//! Every storage area, implemented once for both engines.

mod addons;
pub(crate) mod catalog;
mod claims;
mod credit_packs;
mod customer_credits;
mod customers;
mod dashboard;
mod idempotency;
mod invoice_sends;
mod invoices;
mod markets;
mod offers;
pub(crate) mod organizations;
mod payments;
mod payouts;
mod plan_grants;
mod plan_groups;
mod portal;
mod seats;
mod server_secrets;
pub(crate) mod subscriptions;
mod test_clock;
mod usage;
mod webhooks;
