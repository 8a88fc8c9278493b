//! The read view of the hot paths (`usage.md` §8): feature access, usage checks and seat and
//! quota balances are asked about on nearly every request an app serves.
//!
//! Where this process is the database's only writer (SQLite), what those reads need — a key's
//! standing, a customer with its live subscription, plan, catalog, snapshot, balances and usage
//! counters — is kept in memory and answered from there. Every write job that can change any of
//! it moves the view's generation on before the write is acknowledged, and an entry is used only
//! under the generation it was read at: a read that starts after an acknowledged write never sees
//! the state before it. Entries are read from the database at a generation taken before the
//! read, so one that overlaps a write is simply never used.
//!
//! Where other processes or nodes write (PostgreSQL) no write of theirs reaches this node's
//! generation. There each entry is kept with the stamp it was read under (`StampedView`): the
//! versions the database moves on with every committed change to the customer's state and to
//! the catalog (`tally_store::HotStamp`). A read first reads the stamp, one statement, and uses
//! the kept entry only when the stamp is unchanged: a write acknowledged by any node is seen by
//! the next read on every node. Entries are read after their stamp, so they are never older
//! than it.
//!
//! Decision: one generation for the whole node. A write anywhere drops every entry, which keeps
//! the rule one line long; reads between writes, the common case, are answered from memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Entries kept per map at most; past that a map starts afresh.
const ENTRIES_MAX: usize = 100_000;

/// A map whose entries are valid only under the tag (a generation, a stamp) they were read at.
struct Entries<K, T, V> {
    map: Mutex<HashMap<K, (T, V)>>,
}

impl<K: Eq + Hash, T: PartialEq, V: Clone> Entries<K, T, V> {
    fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K, tag: &T) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(at, _)| at == tag)
            .map(|(_, value)| value.clone())
    }

    fn put(&self, key: K, tag: T, value: V) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= ENTRIES_MAX {
            map.clear();
        }
        map.insert(key, (tag, value));
    }
}

/// Entries kept with the database stamp they were read under, for where other nodes write.
pub(crate) struct StampedView<K, S, V> {
    entries: Entries<K, S, Arc<V>>,
}

impl<K: Eq + Hash, S: PartialEq, V> StampedView<K, S, V> {
    pub(crate) fn new() -> Self {
        Self {
            entries: Entries::new(),
        }
    }

    pub(crate) fn get(&self, key: &K, stamp: &S) -> Option<Arc<V>> {
        self.entries.get(key, stamp)
    }

    pub(crate) fn put(&self, key: K, stamp: S, value: Arc<V>) {
        self.entries.put(key, stamp, value);
    }
}

/// The node's read view; inert unless enabled.
pub(crate) struct HotView<K1, V1, K2, V2> {
    enabled: bool,
    generation: AtomicU64,
    standings: Entries<K1, u64, V1>,
    customers: Entries<K2, u64, Arc<V2>>,
}

impl<K1: Eq + Hash, V1: Clone, K2: Eq + Hash, V2> HotView<K1, V1, K2, V2> {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            generation: AtomicU64::new(0),
            standings: Entries::new(),
            customers: Entries::new(),
        }
    }

    /// The generation a read starts at: take it before reading the database.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Called by every write job that may change what the view holds, before the write is
    /// answered.
    pub(crate) fn invalidate(&self) {
        if self.enabled {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn standing(&self, key: &K1, generation: u64) -> Option<V1> {
        self.enabled
            .then(|| self.standings.get(key, &generation))
            .flatten()
    }

    pub(crate) fn remember_standing(&self, key: K1, generation: u64, value: V1) {
        if self.enabled {
            self.standings.put(key, generation, value);
        }
    }

    pub(crate) fn customer(&self, key: &K2, generation: u64) -> Option<Arc<V2>> {
        self.enabled
            .then(|| self.customers.get(key, &generation))
            .flatten()
    }

    pub(crate) fn remember_customer(&self, key: K2, generation: u64, value: Arc<V2>) {
        if self.enabled {
            self.customers.put(key, generation, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_only_under_the_generation_it_was_read_at() {
        let view: HotView<u32, u32, u32, u32> = HotView::new(true);
        let before = view.generation();
        view.remember_customer(1, before, Arc::new(10));
        assert_eq!(view.customer(&1, view.generation()).as_deref(), Some(&10));

        view.invalidate();
        assert_eq!(
            view.customer(&1, view.generation()),
            None,
            "a write drops it"
        );
        // A read that began before the write and finished after it stores a stale entry under
        // the old generation: it is never used.
        view.remember_customer(2, before, Arc::new(20));
        assert_eq!(view.customer(&2, view.generation()), None);
    }

    #[test]
    fn a_disabled_view_holds_nothing() {
        let view: HotView<u32, u32, u32, u32> = HotView::new(false);
        view.remember_standing(1, view.generation(), 5);
        assert_eq!(view.standing(&1, view.generation()), None);
    }
}
