//! API version 2026-08-27 (current, `commet-sdk` 9.7.0). Identical to 2026-07-31 except that
//! every subscription shape carries `pause` (always null in Tally: pausing is not offered) and
//! `semiannual` becomes a valid interval (`wire.md` §3.5).

pub use crate::v2026_07_31::*;

/// What 2026-08-27 adds to every subscription shape.
pub const EXTRAS: Extras = Extras {
    discount: None,
    pause: Some(None),
};
