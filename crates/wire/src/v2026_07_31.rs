//! API version 2026-07-31 (also serves 2026-07-24): the direct generation. Customers, API keys
//! and deleted objects are unchanged from 2026-07-11; the customer batch is renamed
//! `customer_batch` (`wire.md` §3.5). Frozen.

use crate::{BatchItemView, Livemode};

pub use crate::v2026_07_11::{ApiKeyOut, CreatedApiKeyOut, CustomerOut, DeletedOut};

pub struct CustomerBatchOut;

impl CustomerBatchOut {
    pub fn new<'a>(
        items: &'a [BatchItemView<'a>],
        livemode: Livemode,
    ) -> crate::v2026_07_11::CustomerBatchOut<'a> {
        crate::v2026_07_11::CustomerBatchOut::with_object(items, livemode, "customer_batch")
    }
}
