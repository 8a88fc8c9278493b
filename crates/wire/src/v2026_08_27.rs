//! API version 2026-08-27 (current, `commet-sdk` 9.7.0). Identical to 2026-07-31 for the
//! objects implemented so far (`wire.md` §3.5).

pub use crate::v2026_07_31::{
    ApiKeyOut, CreatedApiKeyOut, CustomerOut, DeletedOut, customer_batch_out,
};
