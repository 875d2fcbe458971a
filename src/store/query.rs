//! User text → a safe FTS5 query. Users type words, `"exact phrases"` and `prefix*`; everything
//! else (FTS5 operators, quotes, SQL) is taken as literal text, so no input can be a syntax error.

/// The FTS5 MATCH expression for `input`, or `None` when it has no searchable words.
pub fn fts_query(input: &str) -> Option<String> {
    let mut terms = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            // A phrase runs to the next quote (or the end).
            let (phrase, tail) = after.split_once('"').unwrap_or((after, ""));
            let words: Vec<String> = words(phrase).into_iter().map(|(w, _)| w).collect();
            if !words.is_empty() {
                terms.push(quote(&words.join(" ")));
            }
            rest = tail;
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        let prefix = token.ends_with('*');
        for (w, cjk) in words(token) {
            // CJK runs are single tokens to unicode61: match them as prefixes to find words inside.
            terms.push(if prefix || cjk { format!("{}*", quote(&w)) } else { quote(&w) });
        }
        rest = tail.trim_start_matches(|c: char| c.is_whitespace());
    }
    if terms.is_empty() { None } else { Some(terms.join(" ")) }
}

/// Alphanumeric runs of `s` (what unicode61 indexes), each with "contains CJK".
fn words(s: &str) -> Vec<(String, bool)> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| (w.to_string(), w.chars().any(is_cjk)))
        .collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_safe_queries() {
        assert_eq!(fts_query("budget meeting").unwrap(), "\"budget\" \"meeting\"");
        assert_eq!(fts_query("\"call Ana\" tomor*").unwrap(), "\"call Ana\" \"tomor\"*");
        assert_eq!(fts_query("a OR b -c NOT").unwrap(), "\"a\" \"OR\" \"b\" \"c\" \"NOT\"");
        assert_eq!(fts_query("'; DROP TABLE notes; --").unwrap(), "\"DROP\" \"TABLE\" \"notes\"");
        assert_eq!(fts_query("東京").unwrap(), "\"東京\"*");
        assert_eq!(fts_query("\"unterminated phrase").unwrap(), "\"unterminated phrase\"");
        for empty in ["", "   ", "\"\"", "*", "- ; '", "🎉"] {
            assert_eq!(fts_query(empty), None, "{empty:?}");
        }
    }
}
