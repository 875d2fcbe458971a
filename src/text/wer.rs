//! Word error rate: word-level Levenshtein distance over normalised text.

/// Lower-case words with punctuation stripped, hyphens split and numbers spelled out, so
/// "Ill-disposed, 10 men" and "ill disposed ten men" compare equal.
pub fn normalize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == '-' || c == '–' || c == '—' || c == '/') {
        // Thousands separators only make sense between digits: "1,000" → "1000".
        let compact: String = {
            let chars: Vec<char> = raw.chars().collect();
            chars
                .iter()
                .enumerate()
                .filter(|&(i, &c)| {
                    !(c == ','
                        && i > 0
                        && i + 1 < chars.len()
                        && chars[i - 1].is_ascii_digit()
                        && chars[i + 1].is_ascii_digit())
                })
                .map(|(_, &c)| c)
                .collect()
        };
        let cleaned: String = compact.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        if cleaned.is_empty() {
            continue;
        }
        match cleaned.parse::<u64>() {
            Ok(n) if cleaned.len() <= 12 => words.extend(number_words(n)),
            _ => words.push(expand_abbreviation(&cleaned).unwrap_or(&cleaned).to_string()),
        }
    }
    words
}

/// Titles that recognisers write abbreviated and references spell out.
fn expand_abbreviation(word: &str) -> Option<&'static str> {
    Some(match word {
        "mr" => "mister",
        "mrs" => "missus",
        "dr" => "doctor",
        _ => return None,
    })
}

/// Edit distance in words between two word lists.
pub fn word_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut cur = vec![0; hypothesis.len() + 1];
    for (i, r) in reference.iter().enumerate() {
        cur[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = prev[j] + usize::from(r != h);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[hypothesis.len()]
}

/// Word error rate of one hypothesis against one reference (0.0 = perfect).
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    corpus_wer([(reference, hypothesis)])
}

/// Corpus WER: total edits over total reference words, across all pairs.
pub fn corpus_wer<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> f64 {
    let (mut edits, mut words) = (0usize, 0usize);
    for (reference, hypothesis) in pairs {
        let r = normalize(reference);
        let h = normalize(hypothesis);
        edits += word_distance(&r, &h);
        words += r.len();
    }
    if words == 0 {
        return if edits == 0 { 0.0 } else { 1.0 };
    }
    edits as f64 / words as f64
}

/// English number words 0–19 (also read by the assistant).
pub(crate) const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
/// English tens words by their digit ("" for 0 and 1).
pub(crate) const TENS: [&str; 10] =
    ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/// English words for a whole number ("twenty five", "one thousand two hundred").
fn number_words(n: u64) -> Vec<String> {
    fn below_thousand(n: u64, out: &mut Vec<String>) {
        if n >= 100 {
            out.push(ONES[(n / 100) as usize].into());
            out.push("hundred".into());
        }
        let rest = n % 100;
        if rest >= 20 {
            out.push(TENS[(rest / 10) as usize].into());
            if !rest.is_multiple_of(10) {
                out.push(ONES[(rest % 10) as usize].into());
            }
        } else if rest > 0 || n == 0 {
            out.push(ONES[rest as usize].into());
        }
    }
    let mut out = Vec::new();
    if n == 0 {
        out.push("zero".into());
        return out;
    }
    let scales =
        [(1_000_000_000_000, "trillion"), (1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")];
    let mut n = n;
    for (size, name) in scales {
        if n >= size {
            below_thousand(n / size, &mut out);
            out.push(name.into());
            n %= size;
        }
    }
    if n > 0 {
        below_thousand(n, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalize("Ill-disposed, 10 men!"), ["ill", "disposed", "ten", "men"]);
        assert_eq!(normalize("It's 1,250 — OK?"), ["its", "one", "thousand", "two", "hundred", "fifty", "ok"]);
        assert_eq!(normalize("Café 21"), ["café", "twenty", "one"]);
        assert_eq!(normalize("Mr. Dashwood"), ["mister", "dashwood"]);
    }

    #[test]
    fn counts_substitutions_insertions_deletions() {
        assert_eq!(wer("ask not what your country", "Ask not, what your country!"), 0.0);
        assert!((wer("a b c d", "a x c d") - 0.25).abs() < 1e-9);
        assert!((wer("a b c d", "a b c d e f") - 0.5).abs() < 1e-9);
        assert!((wer("a b c d", "a d") - 0.5).abs() < 1e-9);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "words"), 1.0);
    }

    #[test]
    fn corpus_wer_weights_by_reference_length() {
        let pairs = [("one two three four", "one two three four"), ("five six", "five")];
        assert!((corpus_wer(pairs) - 1.0 / 6.0).abs() < 1e-9);
    }
}
