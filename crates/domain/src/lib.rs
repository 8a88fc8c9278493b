//! Tally's billing rules and the types they speak in.
//!
//! Pure by design: no async, no clock reads, no randomness, no SQL, no HTTP and no wire serde.
//! Time, ids and the current state come in as arguments; new state and refusals go out. JSON
//! views of these types live in `tally-wire`; storage lives behind `tally-store`.

pub mod addons;
pub mod adjustments;
pub mod api_key;
pub mod api_version;
pub mod billing;
pub mod catalog;
pub mod claims;
pub mod credit_packs;
pub mod customer;
pub mod customer_credits;
pub mod dashboard;
pub mod dunning;
pub mod error;
pub mod events;
pub mod ids;
pub mod invoice_sends;
pub mod limits;
pub mod markets;
pub mod money;
pub mod offers;
pub mod organization;
pub mod page;
pub mod pause;
pub mod payments;
pub mod payouts;
pub mod period;
pub mod plan_change;
pub mod plan_grants;
pub mod plan_groups;
pub mod portal;
pub mod seats;
pub mod subscription;
pub mod test_clock;
pub mod time;
pub mod usage;
pub mod webhook_targets;
pub mod webhooks;

pub use api_version::{ApiVersion, Generation};
pub use customer::{Customer, CustomerRef};
pub use error::{Conflict, DomainError, FieldError, PlanChangeRefusal};
pub use ids::{ApiKeyId, CustomerId, OrgId};
pub use organization::{Mode, Organization};
pub use time::Timestamp;
