//! Voice commands, understood on the device: "remind me to call Ana at 5 pm" becomes a reminder
//! due today at 17:00 in the user's time zone. An utterance is one of a few intents, or plain
//! dictation (`none`), the answer whenever unsure, so ordinary text is never hijacked.
//!
//! Clear cues at the start of the utterance decide first ([`rules`]); without one, the MiniLM
//! embedder (when installed) compares the utterance with labelled examples and takes a command
//! only above a threshold calibrated on `tests/data/commands.tsv` ([`examples`]).

pub mod cleanup;
mod examples;
mod perform;
mod rules;
pub mod when;
mod words;

use std::fmt;
use std::str::FromStr;

use jiff::ZonedDateTime;
use serde::{Serialize, Serializer};

use crate::text::{EmbedError, Embedder};
pub use perform::{AssistantError, Outcome};
use words::{Word, words};

/// What an utterance asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Intent {
    /// "Remind me to call Ana at 5": a reminder with its text and due time.
    CreateReminder,
    /// "Take a note: …": a note with the body.
    CreateNote,
    /// "Search my notes for …", "what did I say about …": a search with the query.
    SearchNotes,
    /// "What are my reminders?"
    ListReminders,
    /// "Cancel the reminder about Ana": the query says which.
    CancelReminder,
    /// Plain dictation.
    None,
}

impl Intent {
    /// Every intent, in a fixed order (reports, the confusion matrix).
    pub const ALL: [Intent; 6] = [
        Intent::CreateReminder,
        Intent::CreateNote,
        Intent::SearchNotes,
        Intent::ListReminders,
        Intent::CancelReminder,
        Intent::None,
    ];

    /// Its name in JSON and in the test data: `create_reminder`, …, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::CreateReminder => "create_reminder",
            Intent::CreateNote => "create_note",
            Intent::SearchNotes => "search_notes",
            Intent::ListReminders => "list_reminders",
            Intent::CancelReminder => "cancel_reminder",
            Intent::None => "none",
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Intent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s).ok_or_else(|| format!("no intent {s:?}"))
    }
}

/// What the command is about.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Slots {
    /// The reminder's text or the note's body.
    pub text: Option<String>,
    /// When the reminder is due, in the user's time zone (JSON: `YYYY-MM-DDTHH:MM:SS±HH:MM`).
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub due: Option<ZonedDateTime>,
    /// What to search for, or which reminder to cancel.
    pub query: Option<String>,
}

/// An utterance understood.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Parsed {
    /// What it asks.
    pub intent: Intent,
    /// What about.
    pub slots: Slots,
    /// How sure the assistant is, 0–1 (rules 0.95; the embedder its similarity).
    pub confidence: f32,
}

/// `2026-12-07T17:00:00+00:00`: RFC 3339 with the offset, no zone name.
pub fn format_due(due: &ZonedDateTime) -> String {
    due.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// An instant as text: RFC 3339 (read in the system's zone) or jiff's `…[Zone/Name]` form,
/// e.g. `2026-12-07T08:30:00-05:00` or `2026-12-07T08:30:00-05:00[America/New_York]`.
pub fn parse_instant(s: &str) -> Result<ZonedDateTime, jiff::Error> {
    if let Ok(z) = s.parse::<ZonedDateTime>() {
        return Ok(z);
    }
    let t: jiff::Timestamp = s.parse()?;
    Ok(t.to_zoned_datetime(jiff::tz::TimeZone::system()))
}

// By hand: the due time as RFC 3339 text, and ts-rs reads no serde attribute it cannot parse.
impl Serialize for Slots {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Slots", 3)?;
        out.serialize_field("text", &self.text)?;
        out.serialize_field("due", &self.due.as_ref().map(format_due))?;
        out.serialize_field("query", &self.query)?;
        out.end()
    }
}

/// Confidence of a rule that fired.
const RULE_CONFIDENCE: f32 = 0.95;

/// Understands utterances; with an embedder, also commands worded in ways the rules miss.
pub struct Assistant {
    examples: Option<examples::Examples>,
}

impl Assistant {
    /// Rules only (no model needed).
    pub fn rules_only() -> Self {
        Assistant { examples: None }
    }

    /// Rules, then the nearest labelled examples by meaning.
    pub fn with_embedder(embedder: Embedder) -> Result<Self, EmbedError> {
        Ok(Assistant { examples: Some(examples::Examples::new(embedder)?) })
    }

    /// What `text` asks, with times resolved against `now` (and its time zone).
    pub fn parse(&self, text: &str, now: &ZonedDateTime) -> Parsed {
        // "at 5, no, at 6": the command is what the user settled on.
        let text = &cleanup::corrections(text);
        let w = words(text);
        if let Some(cue) = rules::cue(&w) {
            return slots_for(cue.intent, text, &w, cue.slot, now, RULE_CONFIDENCE);
        }
        if let Some((intent, similarity)) = self.examples.as_ref().and_then(|e| e.nearest(text)) {
            let parsed = slots_for(intent, text, &w, examples::slot_start(&w), now, similarity);
            // A reminder needs its time, a search or a note its words: without them, dictation.
            let complete = match intent {
                Intent::CreateReminder => parsed.slots.due.is_some() && parsed.slots.text.is_some(),
                Intent::CreateNote => parsed.slots.text.is_some(),
                Intent::SearchNotes | Intent::CancelReminder => parsed.slots.query.is_some(),
                Intent::ListReminders => true,
                Intent::None => false,
            };
            if complete {
                return parsed;
            }
        }
        Parsed { intent: Intent::None, slots: Slots::default(), confidence: 1.0 }
    }
}

/// The slots of `intent` in `text`, whose slot words start at `slot`.
fn slots_for(intent: Intent, text: &str, w: &[Word], slot: usize, now: &ZonedDateTime, confidence: f32) -> Parsed {
    let mut slots = Slots::default();
    match intent {
        Intent::CreateReminder => {
            let found = when::find(w, now);
            let (first, end) = found.as_ref().map_or((w.len(), w.len()), |f| (f.first, f.end));
            let kept: Vec<(usize, usize)> =
                [(slot, first.max(slot)), (end.max(slot), w.len())].into_iter().filter(|(a, b)| a < b).collect();
            slots.text = pieces_text(text, w, &kept);
            slots.due = found.map(|f| f.due);
        }
        Intent::CreateNote => slots.text = pieces_text(text, w, &[(slot, w.len())]),
        Intent::SearchNotes | Intent::CancelReminder => {
            let mut end = w.len();
            // "… in my notes", "… reminder" at the end are the command's, not the query's.
            let tail: &[&[&str]] =
                &[&["in", "my", "notes"], &["in", "notes"], &["among", "my", "notes"], &["reminder"], &["please"]];
            for t in tail {
                if end >= slot + t.len() && w[end - t.len()..end].iter().map(|x| x.norm.as_str()).eq(t.iter().copied())
                {
                    end -= t.len();
                }
            }
            slots.query = pieces_text(text, w, &[(slot, end)]);
        }
        Intent::ListReminders | Intent::None => {}
    }
    Parsed { intent, slots, confidence }
}

/// The original text of the word ranges `pieces`, joined, without joiners and punctuation at
/// its ends; `None` when nothing is left.
fn pieces_text(text: &str, w: &[Word], pieces: &[(usize, usize)]) -> Option<String> {
    const LOOSE: &[&str] = &["to", "that", "about", "for", "at", "on", "by", "in", "and", "please", "of"];
    let mut parts: Vec<&str> = Vec::new();
    for &(a, b) in pieces {
        let (mut a, mut b) = (a, b);
        while a < b && LOOSE.contains(&w[a].norm.as_str()) && parts.is_empty() {
            a += 1;
        }
        while a < b && LOOSE.contains(&w[b - 1].norm.as_str()) {
            b -= 1;
        }
        if a < b {
            parts.push(&text[w[a].start..w[b - 1].end]);
        }
    }
    let joined = parts.join(" ");
    let trimmed = joined.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ';' | ':'));
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> ZonedDateTime {
        "2026-12-07T08:30:00[Europe/Lisbon]".parse().unwrap()
    }

    #[test]
    fn a_reminder_with_its_text_and_time() {
        let p = Assistant::rules_only().parse("Remind me to call Ana at 5 p.m.", &now());
        assert_eq!(p.intent, Intent::CreateReminder);
        assert_eq!(p.slots.text.as_deref(), Some("call Ana"));
        assert_eq!(p.slots.due.as_ref().map(format_due).as_deref(), Some("2026-12-07T17:00:00+00:00"));
        let p = Assistant::rules_only().parse("Remind me tomorrow at 9 to take out the trash.", &now());
        assert_eq!(p.slots.text.as_deref(), Some("take out the trash"));
        assert_eq!(p.slots.due.as_ref().map(format_due).as_deref(), Some("2026-12-08T09:00:00+00:00"));
    }

    #[test]
    fn json_keeps_its_contract() {
        let p = Assistant::rules_only().parse("Search my notes for the boiler in my notes", &now());
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["intent"], "search_notes");
        assert_eq!(json["slots"]["query"], "the boiler");
        assert!(json["slots"]["due"].is_null() && json["confidence"].is_number());
    }

    #[test]
    fn plain_dictation_stays_dictation() {
        for text in ["I'll call Ana at 5 pm.", "The note on the fridge says search the garage.", "Remind me why."] {
            assert_eq!(Assistant::rules_only().parse(text, &now()).intent, Intent::None, "{text}");
        }
    }
}
