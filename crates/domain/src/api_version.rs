//! API versions Tally implements and how a requested version maps onto them.
//!
//! Contract: `wire.md` §3. The version decides the response shape; nothing else does.

use std::fmt;

/// One version of the Commet API that Tally implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    /// The legacy `{success, data}` envelope (`@commet/node` 7.x).
    V2026_07_11,
    /// The first direct version; served with 2026-07-31 rules (`wire.md` §3.2).
    V2026_07_24,
    V2026_07_31,
    /// Current (`commet-sdk` 9.7.0).
    V2026_08_27,
}

/// The two response families: the legacy envelope, or bare objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Legacy,
    Direct,
}

impl ApiVersion {
    /// Decision (`wire.md` §3.1): the current version is the newest one implemented.
    pub const CURRENT: ApiVersion = ApiVersion::V2026_08_27;

    pub const ALL: [ApiVersion; 4] = [
        ApiVersion::V2026_07_11,
        ApiVersion::V2026_07_24,
        ApiVersion::V2026_07_31,
        ApiVersion::V2026_08_27,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2026_07_11 => "2026-07-11",
            ApiVersion::V2026_07_24 => "2026-07-24",
            ApiVersion::V2026_07_31 => "2026-07-31",
            ApiVersion::V2026_08_27 => "2026-08-27",
        }
    }

    pub fn generation(self) -> Generation {
        if self < ApiVersion::V2026_07_24 {
            Generation::Legacy
        } else {
            Generation::Direct
        }
    }

    /// Resolves a requested `YYYY-MM-DD` value. A known version maps to itself; any other valid
    /// date maps to the rules in force on that date (`wire.md` §3.1); a value that is not a
    /// calendar date is `None`, which the API reports as a validation error.
    pub fn resolve(requested: &str) -> Option<ApiVersion> {
        let date = chrono::NaiveDate::parse_from_str(requested.trim(), "%Y-%m-%d").ok()?;
        let spelled = date.format("%Y-%m-%d").to_string();
        if spelled != requested.trim() {
            // `2026-7-1` parses but is not the contract's spelling.
            return None;
        }
        if let Some(known) = Self::ALL.into_iter().find(|v| v.as_str() == spelled) {
            return Some(known);
        }
        Some(if spelled.as_str() < "2026-07-24" {
            ApiVersion::V2026_07_11
        } else if spelled.as_str() < "2026-08-27" {
            ApiVersion::V2026_07_31
        } else {
            ApiVersion::V2026_08_27
        })
    }

    /// A stored pin naming an unknown version falls back to the current one (`wire.md` §3.1).
    pub fn from_pin(pin: &str) -> ApiVersion {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == pin)
            .unwrap_or(Self::CURRENT)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions_resolve_to_themselves() {
        for version in ApiVersion::ALL {
            assert_eq!(ApiVersion::resolve(version.as_str()), Some(version));
        }
    }

    #[test]
    fn other_dates_map_to_the_rules_in_force_on_that_date() {
        let cases = [
            ("2026-05-25", ApiVersion::V2026_07_11),
            ("2026-07-23", ApiVersion::V2026_07_11),
            ("2026-07-25", ApiVersion::V2026_07_31),
            ("2026-08-26", ApiVersion::V2026_07_31),
            ("2027-01-01", ApiVersion::V2026_08_27),
        ];
        for (requested, expected) in cases {
            assert_eq!(
                ApiVersion::resolve(requested),
                Some(expected),
                "{requested}"
            );
        }
    }

    #[test]
    fn malformed_values_do_not_resolve() {
        for requested in [
            "",
            "latest",
            "2026-13-01",
            "2026-7-11",
            "2026-02-30",
            "26-07-11",
        ] {
            assert_eq!(ApiVersion::resolve(requested), None, "{requested:?}");
        }
    }

    #[test]
    fn generation_flips_at_2026_07_24() {
        assert_eq!(ApiVersion::V2026_07_11.generation(), Generation::Legacy);
        assert_eq!(ApiVersion::V2026_07_24.generation(), Generation::Direct);
        assert_eq!(ApiVersion::V2026_08_27.generation(), Generation::Direct);
    }
}
