//! Every storage area, implemented once for both engines.

mod catalog;
mod customers;
mod idempotency;
mod invoices;
mod organizations;
mod seats;
mod subscriptions;
mod test_clock;
mod webhooks;

use tally_domain::page::PageRequest;

/// Where a keyset page resumes: strictly after this (created-at, id), newest first; the first
/// page starts past every row.
fn page_after(page: &PageRequest) -> (i64, String) {
    match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    }
}
