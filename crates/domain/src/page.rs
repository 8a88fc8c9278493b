//! Cursor pagination bounds and the position a cursor stands for.
//!
//! Contract: `wire.md` §9. Lists are newest first by `createdAt`, ties broken by id.

use crate::Timestamp;

pub const PAGE_SIZE_DEFAULT: u32 = 25;
pub const PAGE_SIZE_MAX: u32 = 100;

/// The last item a page showed; the next page starts strictly after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePosition {
    pub created_at: Timestamp,
    pub id: String,
}

/// What a caller asked for: how many items, after which position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<PagePosition>,
}

/// One page of items plus whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only proves there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32) -> Self {
        let limit = limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        Self {
            items: rows,
            has_more,
        }
    }
}
