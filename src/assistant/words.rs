//! Words of an utterance as the assistant reads them: lower case, punctuation off, "5pm" and
//! "5:30p.m." split into a number and "pm", each word keeping where it was in the text (so a
//! slot can be cut out of the original with its capitals and punctuation).

use crate::text::wer::{ONES, TENS};

/// One word: its normalised form and its byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Lower case, no surrounding punctuation; "a.m."/"p.m." become "am"/"pm", "o'clock" "oclock".
    pub norm: String,
    /// Byte offsets of the word in the original text.
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
}

/// The words of `text`.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut offset = 0;
    for piece in text.split_inclusive(char::is_whitespace) {
        let raw = piece.trim_end();
        let start = offset;
        offset += piece.len();
        // Trim punctuation around the word, keeping byte offsets.
        let lead = raw.len() - raw.trim_start_matches(is_edge_punct).len();
        let body = raw[lead..].trim_end_matches(is_edge_punct);
        if body.is_empty() {
            continue;
        }
        let (s, e) = (start + lead, start + lead + body.len());
        let lower = body.to_lowercase().replace('’', "'");
        push_split(&mut out, &lower, s, e);
    }
    out
}

/// Push `lower` as one or two words: a number glued to its meridiem ("5pm", "5:30p.m.") is two.
fn push_split(out: &mut Vec<Word>, lower: &str, s: usize, e: usize) {
    let compact: String = lower.chars().filter(|c| *c != '.').collect();
    for suffix in ["am", "pm"] {
        if let Some(num) = compact.strip_suffix(suffix)
            && !num.is_empty()
            && num.chars().all(|c| c.is_ascii_digit() || c == ':')
        {
            out.push(Word { norm: num.to_string(), start: s, end: e });
            out.push(Word { norm: suffix.to_string(), start: s, end: e });
            return;
        }
    }
    let norm = match compact.as_str() {
        "am" | "pm" => compact.clone(),
        "o'clock" | "oclock" => "oclock".to_string(),
        // "5.30" is a clock time; other dots (an abbreviation's) go.
        _ if is_dotted_clock(lower) => lower.replace('.', ":"),
        _ => lower.trim_end_matches('.').to_string(),
    };
    out.push(Word { norm, start: s, end: e });
}

fn is_dotted_clock(s: &str) -> bool {
    let Some((h, m)) = s.split_once('.') else { return false };
    !h.is_empty() && h.len() <= 2 && m.len() == 2 && (h.to_string() + m).chars().all(|c| c.is_ascii_digit())
}

fn is_edge_punct(c: char) -> bool {
    matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '"' | '(' | ')' | '[' | ']' | '“' | '”' | '‘' | '\'' | '…')
}

/// The value of a number word or numeral below 100 ("seven", "twenty-five", "17").
pub fn number(word: &str) -> Option<u32> {
    if !word.is_empty() && word.len() <= 4 && word.chars().all(|c| c.is_ascii_digit()) {
        return word.parse().ok();
    }
    if let Some((tens, ones)) = word.split_once('-') {
        let (t, o) = (small(tens)?, small(ones)?);
        return (t >= 20 && t % 10 == 0 && (1..10).contains(&o)).then_some(t + o);
    }
    small(word)
}

fn small(word: &str) -> Option<u32> {
    if let Some(n) = ONES.iter().position(|u| *u == word) {
        return Some(n as u32);
    }
    // Tens up to fifty: minutes and amounts of time.
    TENS[2..6].iter().position(|t| *t == word).map(|n| 20 + 10 * n as u32)
}

/// The value of an ordinal ("10th", "first", "twenty-third"), 1–31.
pub fn ordinal(word: &str) -> Option<u32> {
    const WORDS: [&str; 31] = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
        "twentieth",
        "twenty-first",
        "twenty-second",
        "twenty-third",
        "twenty-fourth",
        "twenty-fifth",
        "twenty-sixth",
        "twenty-seventh",
        "twenty-eighth",
        "twenty-ninth",
        "thirtieth",
        "thirty-first",
    ];
    if let Some(n) = WORDS.iter().position(|w| *w == word) {
        return Some(n as u32 + 1);
    }
    let digits = ["st", "nd", "rd", "th"].iter().find_map(|s| word.strip_suffix(s))?;
    digits.parse().ok().filter(|n| (1..=31).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.norm).collect()
    }

    #[test]
    fn words_are_normalised_and_keep_their_place() {
        assert_eq!(norms("Call Ana at 5 p.m., please!"), ["call", "ana", "at", "5", "pm", "please"]);
        assert_eq!(norms("at 5:30PM"), ["at", "5:30", "pm"]);
        assert_eq!(norms("at 5.30 o'clock"), ["at", "5:30", "oclock"]);
        assert_eq!(norms("at 7am."), ["at", "7", "am"]);
        let text = "Remind me, “call Ana”.";
        let w = words(text);
        assert_eq!(&text[w[2].start..w[3].end], "call Ana");
    }

    #[test]
    fn numbers_and_ordinals() {
        assert_eq!(number("seven"), Some(7));
        assert_eq!(number("twenty-five"), Some(25));
        assert_eq!(number("17"), Some(17));
        assert_eq!(number("twenty-zero"), None);
        assert_eq!(ordinal("10th"), Some(10));
        assert_eq!(ordinal("twenty-third"), Some(23));
        assert_eq!(ordinal("32nd"), None);
    }
}
