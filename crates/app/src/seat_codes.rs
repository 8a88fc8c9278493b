//! Matching the map keys callers send to feature codes (`wire.md` §2.3). The Python SDK
//! camel-cases every key it sends, so `team_member` arrives as `teamMember`.

/// The code a key names: an exact match first, else the one code whose camel-cased form equals
/// the key. `Ok(None)` when none matches; `Err` when several codes match the same key.
pub fn resolve_code<'a>(key: &str, codes: &[&'a str]) -> Result<Option<&'a str>, String> {
    if let Some(exact) = codes.iter().find(|c| **c == key) {
        return Ok(Some(exact));
    }
    let matches: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|c| camel_case(c) == key)
        .collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => Err(format!(
            "{key} matches several feature codes ({}); send the exact code",
            several.join(", ")
        )),
    }
}

/// `a_b_c` → `aBC`: what the Python SDK does to keys.
pub fn camel_case(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut upper_next = false;
    for ch in code.chars() {
        if ch == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(ch.to_uppercase());
            upper_next = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_cased_keys_find_their_codes() {
        let codes = ["editor", "team_member", "api_calls_v2"];

        assert_eq!(resolve_code("editor", &codes), Ok(Some("editor")));
        assert_eq!(resolve_code("teamMember", &codes), Ok(Some("team_member")));
        assert_eq!(resolve_code("apiCallsV2", &codes), Ok(Some("api_calls_v2")));
        assert_eq!(resolve_code("viewer", &codes), Ok(None));
    }

    #[test]
    fn an_ambiguous_key_is_refused_and_an_exact_code_wins() {
        let codes = ["a_b", "aB", "x_y", "x__y"];

        assert_eq!(resolve_code("aB", &codes), Ok(Some("aB")));
        assert!(resolve_code("xY", &codes).is_err());
    }
}
