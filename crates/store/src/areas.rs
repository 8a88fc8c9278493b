//! One trait per storage area. Each is implemented once, for both engines, in `tally-store-sql`.

mod addons;
mod catalog;
mod credit_packs;
mod customer_credits;
mod customers;
mod idempotency;
mod invoice_sends;
mod invoices;
mod markets;
mod offers;
mod organizations;
mod plan_groups;
mod seats;
mod server_secrets;
mod subscriptions;
mod test_clock;
mod usage;
mod webhooks;

pub use addons::Addons;
pub use catalog::Catalog;
pub use credit_packs::CreditPacks;
pub use customer_credits::CustomerCredits;
pub use customers::Customers;
pub use idempotency::{Idempotency, IdempotencyScope};
pub use invoice_sends::InvoiceSends;
pub use invoices::Invoices;
pub use markets::{Markets, SubscriptionPricing};
pub use offers::Offers;
pub use organizations::Organizations;
pub use plan_groups::PlanGroups;
pub use seats::Seats;
pub use server_secrets::ServerSecrets;
pub use subscriptions::Subscriptions;
pub use test_clock::TestClock;
pub use usage::Usage;
pub use webhooks::Webhooks;
