//! API version 2026-07-31 (also serves 2026-07-24): the direct generation. Customers, API keys
//! and deleted objects are unchanged from 2026-07-11; the customer batch is renamed
//! `customer_batch` (`wire.md` §3.5). Frozen.

use crate::{BatchItemView, Livemode};

pub use crate::v2026_07_11::{
    ApiKeyOut, CreatedApiKeyOut, CustomerBatchOut, CustomerOut, DeletedOut,
};

/// The 2026-07-11 batch view under its new `object` name.
pub fn customer_batch_out<'a>(
    items: &'a [BatchItemView<'a>],
    livemode: Livemode,
) -> CustomerBatchOut<'a> {
    CustomerBatchOut::with_object(items, livemode, "customer_batch")
}
