//! Dictation clean-up: filler words out, spoken punctuation and layout in, self-corrections
//! applied, sentences capitalised, the user's replacements made. Each rule can be switched off.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};

/// Which clean-up rules run, and the user's replacements and vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CleanupRules {
    /// "um", "uh", "er", and "you know" / "like" set off as fillers.
    pub fillers: bool,
    /// "comma", "period", "question mark", "new line", "open quote"… become the marks.
    pub spoken_punctuation: bool,
    /// "at 5, no, at 6" becomes "at 6".
    pub corrections: bool,
    /// A capital letter at the start and after each sentence's end.
    pub capitalize: bool,
    /// The user's replacements, made in order (whole words, any case; the case of what was said
    /// is kept where the replacement is plain lower case).
    pub replacements: Vec<Replacement>,
    /// Names and jargon given to whisper as its initial prompt, so it spells them right.
    pub vocabulary: Vec<String>,
}

impl Default for CleanupRules {
    fn default() -> Self {
        CleanupRules {
            fillers: true,
            spoken_punctuation: true,
            corrections: true,
            capitalize: true,
            replacements: Vec::new(),
            vocabulary: Vec::new(),
        }
    }
}

/// One replacement: `from` (one or more words) becomes `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Replacement {
    /// What whisper writes.
    pub from: String,
    /// What the user wants.
    pub to: String,
}

/// A line of a replacements file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected `from,to` or `from<TAB>to`, got {text:?}")]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

/// Replacements from CSV or TSV text, one `from,to` (or tab-separated) pair per line; blank
/// lines and lines starting with `#` are skipped, a `"quoted, field"` may hold a comma.
pub fn parse_replacements(text: &str) -> Result<Vec<Replacement>, BadLine> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields = if t.contains('\t') { t.split('\t').map(str::to_string).collect() } else { csv_fields(t) };
        let bad = || BadLine { line: n + 1, text: line.to_string() };
        let [from, to] = fields.as_slice() else { return Err(bad()) };
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() {
            return Err(bad());
        }
        out.push(Replacement { from: from.to_string(), to: to.to_string() });
    }
    Ok(out)
}

/// Fields of one CSV line (double quotes around a field that holds a comma; `""` is a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

impl CleanupRules {
    /// The initial prompt for whisper: the vocabulary as a list, or `None` when there is none.
    pub fn prompt(&self) -> Option<String> {
        let words: Vec<&str> = self.vocabulary.iter().map(|w| w.trim()).filter(|w| !w.is_empty()).collect();
        (!words.is_empty()).then(|| format!("{}.", words.join(", ")))
    }

    /// `text` cleaned by the rules switched on.
    pub fn apply(&self, text: &str) -> String {
        let mut t = text.to_string();
        if self.corrections {
            t = corrections(&t);
        }
        if self.fillers {
            t = fillers(&t);
        }
        if self.spoken_punctuation {
            t = spoken_punctuation(&t);
        }
        for r in &self.replacements {
            t = replace(&t, r);
        }
        t = tidy(&t);
        if self.capitalize {
            t = capitalize(&t);
        }
        t
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid built-in pattern")
}

/// "X, no, Y" / "X, I mean Y" / "X, sorry, Y" / "X, actually, Y" where Y restarts a phrase
/// of X (it begins with a word X has): that phrase of X goes.
pub(crate) fn corrections(text: &str) -> String {
    static CUE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i),\s*(?:no|sorry|i mean|actually|no wait|wait)\s*,?\s+"));
    let mut t = text.to_string();
    // Each pass removes one correction; a few are plenty for one utterance.
    for _ in 0..4 {
        let Some(m) = CUE.find(&t) else { break };
        let after = &t[m.end()..];
        let Some(first) =
            after.split_whitespace().next().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        else {
            break;
        };
        // The phrase being corrected starts at the last `first` before the cue, in the same sentence.
        let before = &t[..m.start()];
        let sentence = before.rfind(['.', '?', '!']).map_or(0, |i| i + 1);
        let from = word_starts(&before[sentence..])
            .filter(|(_, w)| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase() == first)
            .map(|(i, _)| sentence + i)
            .last();
        let Some(from) = from else { break };
        t = format!("{}{}", &t[..from], after);
    }
    t
}

/// (byte offset, word) of each whitespace-separated word.
fn word_starts(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split_whitespace().map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
}

fn fillers(text: &str) -> String {
    static SOUNDS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(^|[\s,])(?:u+m+|u+h+|erm|er|a+h+|h+m+|m{2,})\b[,.]?"));
    // "you know" and "like" only where set off as fillers: between commas, or opening a
    // sentence with a comma after them.
    static SET_OFF: LazyLock<Regex> = LazyLock::new(|| re(r"(?i),\s*(?:you know|like|i mean)\s*,"));
    static OPENING: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(^|[.?!]\s+)(?:you know|like|so like)\s*,\s*"));
    let t = SOUNDS.replace_all(text, "$1");
    let t = SET_OFF.replace_all(&t, ",");
    OPENING.replace_all(&t, "$1").into_owned()
}

fn spoken_punctuation(text: &str) -> String {
    // A spoken mark takes any punctuation whisper put around the word with it.
    static MARKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (r"new paragraph", "\n\n"),
            (r"new line|newline", "\n"),
            (r"question mark", "?"),
            (r"exclamation (?:mark|point)", "!"),
            (r"comma", ","),
            (r"colon", ":"),
            (r"semicolon", ";"),
        ]
        .into_iter()
        .map(|(w, mark)| (re(&format!(r"(?i)[ \t]*[,.]?[ \t]*\b(?:{w})\b[,.!?]?")), mark))
        .collect()
    });
    static PERIOD: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)[ \t]*[,.]?[ \t]*\b(?:period|full stop)\b[,.!?]?"));
    static OPEN: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:open|begin) (?:quote|quotes)\b[,.:]?\s*"));
    static CLOSE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)[ \t]*[,.]?[ \t]*\b(?:close|end) (?:quote|quotes)\b|[ \t]*[,.]?[ \t]*\bunquote\b"));
    let mut t = text.to_string();
    for (pattern, mark) in MARKS.iter() {
        t = pattern.replace_all(&t, *mark).into_owned();
    }
    // "period" only where a sentence ends: at the end, or before a capital or a new line ("the
    // period of time" stays).
    let ends_here = |rest: &str| {
        let rest = rest.trim_start_matches([' ', '\t']);
        rest.is_empty() || rest.starts_with('\n') || rest.chars().next().is_some_and(char::is_uppercase)
    };
    let mut out = String::with_capacity(t.len());
    let mut last = 0;
    for m in PERIOD.find_iter(&t) {
        out.push_str(&t[last..m.start()]);
        out.push_str(if ends_here(&t[m.end()..]) { "." } else { m.as_str() });
        last = m.end();
    }
    out.push_str(&t[last..]);
    let t = OPEN.replace_all(&out, "\u{201c}");
    CLOSE.replace_all(&t, "\u{201d}").into_owned()
}

/// Spaces and marks put right: no space before a mark, one after, no doubled marks.
fn tidy(text: &str) -> String {
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| re(r"[ \t]+([,.?!:;\u{201d}])"));
    static DOUBLED: LazyLock<Regex> = LazyLock::new(|| re(r"([,.?!:;])[,.?!:;]+"));
    static COMMA_END: LazyLock<Regex> = LazyLock::new(|| re(r",([.?!])"));
    static AFTER: LazyLock<Regex> = LazyLock::new(|| re(r"([,.?!:;\u{201d}])([\p{L}\p{N}\u{201c}])"));
    static SPACES: LazyLock<Regex> = LazyLock::new(|| re(r"[ \t]{2,}"));
    static LINE_EDGES: LazyLock<Regex> = LazyLock::new(|| re(r"[ \t]*\n[ \t]*"));
    static OPEN_SPACE: LazyLock<Regex> = LazyLock::new(|| re(r"\u{201c}[ \t]+"));
    let t = text.replace("...", "\u{2026}");
    let t = BEFORE.replace_all(&t, "$1");
    let t = DOUBLED.replace_all(&t, "$1");
    let t = COMMA_END.replace_all(&t, "$1");
    // Not inside numbers ("3.5", "10:30") or abbreviations: only a mark followed by a letter
    // when a letter came before it too.
    let t = AFTER.replace_all(&t, |c: &Captures| {
        let mark = &c[1];
        let number = matches!(mark, "." | ":" | ",") && c[2].chars().all(|ch| ch.is_ascii_digit());
        let abbreviation = mark == "." && c[2].chars().all(char::is_lowercase);
        if number || abbreviation { format!("{}{}", &c[1], &c[2]) } else { format!("{} {}", &c[1], &c[2]) }
    });
    let t = SPACES.replace_all(&t, " ");
    let t = LINE_EDGES.replace_all(&t, "\n");
    let t = OPEN_SPACE.replace_all(&t, "\u{201c}");
    t.trim_matches([' ', '\t', ',']).to_string()
}

/// A capital letter at the start, after a sentence's end and after a line break.
fn capitalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut up = true;
    for c in text.chars() {
        if up && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            up = false;
            continue;
        }
        if matches!(c, '.' | '?' | '!' | '\n') {
            up = true;
        } else if !(c.is_whitespace() || c == '\u{201c}' || c == '"') {
            up = false;
        }
        out.push(c);
    }
    out
}

/// `text` with `r.from` (whole words, any case, any spacing) replaced by `r.to`; a plain lower
/// case `to` takes the case of what it replaces ("Gonna" → "Going to").
fn replace(text: &str, r: &Replacement) -> String {
    let words: Vec<String> = r.from.split_whitespace().map(regex::escape).collect();
    if words.is_empty() {
        return text.to_string();
    }
    let Ok(pattern) = Regex::new(&format!(r"(?i)\b{}\b", words.join(r"\s+"))) else { return text.to_string() };
    let plain = r.to.chars().all(|c| !c.is_uppercase());
    pattern
        .replace_all(text, |c: &Captures| {
            let said = &c[0];
            if !plain {
                r.to.clone()
            } else if said.chars().any(char::is_alphabetic)
                && said.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase)
                && said.chars().filter(|c| c.is_alphabetic()).count() > 1
            {
                r.to.to_uppercase()
            } else if said.chars().next().is_some_and(char::is_uppercase) {
                let mut chars = r.to.chars();
                chars.next().map(|f| f.to_uppercase().chain(chars).collect()).unwrap_or_default()
            } else {
                r.to.clone()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(set: impl FnOnce(&mut CleanupRules)) -> CleanupRules {
        let mut r = CleanupRules {
            fillers: false,
            spoken_punctuation: false,
            corrections: false,
            capitalize: false,
            ..Default::default()
        };
        set(&mut r);
        r
    }

    #[test]
    fn fillers_go_and_the_same_words_in_use_stay() {
        let r = only(|r| r.fillers = true);
        assert_eq!(r.apply("Um, I think, uh, we should go."), "I think, we should go.");
        assert_eq!(r.apply("It was, you know, fine. You know, it works."), "It was, fine. it works.");
        assert_eq!(r.apply("I like it and you know the answer."), "I like it and you know the answer.");
        assert_eq!(r.apply("So, like, it broke. Like, twice."), "So, it broke. twice.");
        assert_eq!(r.apply("The error was on the server."), "The error was on the server.");
    }

    #[test]
    fn spoken_punctuation_becomes_marks() {
        let r = only(|r| r.spoken_punctuation = true);
        assert_eq!(r.apply("Hello comma how are you question mark"), "Hello, how are you?");
        assert_eq!(r.apply("Hello, comma, how are you? Question mark."), "Hello, how are you?");
        assert_eq!(r.apply("Stop period New paragraph Then go exclamation point"), "Stop.\n\nThen go!");
        assert_eq!(r.apply("first new line second full stop"), "first\nsecond.");
        assert_eq!(r.apply("He said open quote hello close quote and left"), "He said \u{201c}hello\u{201d} and left");
        // "period" in its ordinary sense stays.
        assert_eq!(r.apply("The period of time was 3.5 hours at 10:30"), "The period of time was 3.5 hours at 10:30");
    }

    #[test]
    fn a_self_correction_keeps_the_second_version() {
        let r = only(|r| r.corrections = true);
        assert_eq!(r.apply("remind me at 5, no, at 6 to call Ana"), "remind me at 6 to call Ana");
        assert_eq!(r.apply("Call Ana, I mean call Bob."), "call Bob.");
        assert_eq!(r.apply("Meet on Tuesday, sorry, on Wednesday."), "Meet on Wednesday.");
        // No phrase to correct: left as said.
        assert_eq!(r.apply("Is it done? No, not yet."), "Is it done? No, not yet.");
        assert_eq!(r.apply("I said, no, thanks."), "I said, no, thanks.");
    }

    #[test]
    fn sentences_start_with_a_capital() {
        let r = only(|r| r.capitalize = true);
        assert_eq!(r.apply("hello. how are you? fine!\nnext"), "Hello. How are you? Fine!\nNext");
        assert_eq!(r.apply("version 3.5 is out"), "Version 3.5 is out");
    }

    #[test]
    fn replacements_keep_the_case_said() {
        let r = only(|r| {
            r.replacements = vec![
                Replacement { from: "gonna".into(), to: "going to".into() },
                Replacement { from: "sotto app".into(), to: "Sotto".into() },
            ]
        });
        assert_eq!(
            r.apply("Gonna try the sotto  app. I'm gonna. GONNA"),
            "Going to try the Sotto. I'm going to. GOING TO"
        );
        assert_eq!(r.apply("agonnab"), "agonnab");
    }

    #[test]
    fn all_rules_together() {
        let r = CleanupRules::default();
        assert_eq!(
            r.apply("um so remind me at 5, no, at 6 comma uh call Ana period new line thanks"),
            "So remind me at 6, call Ana.\nThanks"
        );
    }

    #[test]
    fn replacements_from_csv_and_tsv() {
        let csv = "# mine\ngonna,going to\n\"k8s, kube\",Kubernetes\n\nwanna\twant to\n";
        let r = parse_replacements(csv).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], Replacement { from: "k8s, kube".into(), to: "Kubernetes".into() });
        assert_eq!(r[2].to, "want to");
        assert_eq!(parse_replacements("one field").unwrap_err().line, 1);
    }

    #[test]
    fn vocabulary_becomes_the_prompt() {
        let r = CleanupRules {
            vocabulary: vec!["Ana Quintela".into(), " ".into(), "Kubernetes".into()],
            ..Default::default()
        };
        assert_eq!(r.prompt().as_deref(), Some("Ana Quintela, Kubernetes."));
        assert_eq!(CleanupRules::default().prompt(), None);
    }
}
