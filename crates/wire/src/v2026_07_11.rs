//! API version 2026-07-11: the legacy generation (`@commet/node` 7.x). Frozen.

mod catalog;
mod customers;
mod seats;
mod subscriptions;

pub use catalog::*;
pub use customers::*;
pub use seats::*;
pub use subscriptions::*;
