//! Carrying out what an utterance asked, on the user's library.

use serde::Serialize;

use super::{Assistant, Intent, Parsed};
use crate::notes::{Hit, Library, NotesError, SearchMode};
use crate::store::{NewNote, NewReminder, Reminder, ReminderState, Source};
use crate::text::{cosine, wer};

/// Why a command could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    /// A reminder without a time.
    #[error("the reminder has no time: say when, e.g. \"at 5 pm\", \"in 20 minutes\" or \"tomorrow morning\"")]
    NoTime,
    /// A reminder or note without words.
    #[error("nothing to remember: say what, e.g. \"remind me to call Ana at 5\"")]
    NoText,
    /// A search or cancel without a query.
    #[error("say what to look for, e.g. \"search my notes for the boiler\"")]
    NoQuery,
    /// No pending reminder is like the one named.
    #[error("no pending reminder is like {0:?} (sotto reminder list shows them)")]
    NoSuchReminder(String),
    /// The library failed.
    #[error(transparent)]
    Notes(#[from] NotesError),
}

/// What was done.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "done", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Outcome {
    /// A reminder was saved.
    ReminderCreated {
        /// It, as saved.
        reminder: Reminder,
    },
    /// A note was saved.
    NoteCreated {
        /// Its id.
        id: i64,
    },
    /// Notes found, best first.
    Found {
        /// The hits.
        hits: Vec<Hit>,
    },
    /// The pending reminders, soonest first.
    Reminders {
        /// The list.
        reminders: Vec<Reminder>,
    },
    /// A reminder was cancelled.
    ReminderCancelled {
        /// It, as it is now.
        reminder: Reminder,
    },
    /// Nothing to do: the utterance is dictation.
    Dictation,
}

/// A pending reminder must be at least this like the words naming it (word overlap, or cosine
/// with the embedder).
const MATCH_WORDS: f32 = 0.34;
const MATCH_MEANING: f32 = 0.5;

impl Assistant {
    /// Carry out `parsed` on `library`.
    pub fn perform(&self, library: &Library, parsed: &Parsed) -> Result<Outcome, AssistantError> {
        perform(self, library, parsed)
    }
}

fn perform(assistant: &Assistant, library: &Library, parsed: &Parsed) -> Result<Outcome, AssistantError> {
    let slots = &parsed.slots;
    Ok(match parsed.intent {
        Intent::CreateReminder => {
            let due = slots.due.as_ref().ok_or(AssistantError::NoTime)?;
            let text = slots.text.clone().ok_or(AssistantError::NoText)?;
            let id = library.add_reminder(&NewReminder { due_at: due.timestamp().as_second(), text, note_id: None })?;
            Outcome::ReminderCreated { reminder: library.reminder(id)? }
        }
        Intent::CreateNote => {
            let body = slots.text.clone().ok_or(AssistantError::NoText)?;
            Outcome::NoteCreated {
                id: library.add(&NewNote { body, source: Some(Source::Text), ..Default::default() })?,
            }
        }
        Intent::SearchNotes => {
            let query = slots.query.as_deref().ok_or(AssistantError::NoQuery)?;
            Outcome::Found { hits: library.search(query, SearchMode::Hybrid, 10)? }
        }
        Intent::ListReminders => Outcome::Reminders { reminders: library.reminders(Some(ReminderState::Pending))? },
        Intent::CancelReminder => {
            let query = slots.query.as_deref().ok_or(AssistantError::NoQuery)?;
            let pending = library.reminders(Some(ReminderState::Pending))?;
            let best = best_match(assistant, query, &pending)
                .ok_or_else(|| AssistantError::NoSuchReminder(query.to_string()))?;
            Outcome::ReminderCancelled { reminder: library.cancel_reminder(best.id)? }
        }
        Intent::None => Outcome::Dictation,
    })
}

/// The pending reminder `query` names: by meaning with the embedder, else by shared words.
fn best_match<'r>(assistant: &Assistant, query: &str, pending: &'r [Reminder]) -> Option<&'r Reminder> {
    if let Some(examples) = &assistant.examples {
        let mut texts = vec![query];
        texts.extend(pending.iter().map(|r| r.text.as_str()));
        if let Ok(v) = examples.embedder().embed(&texts) {
            return pending
                .iter()
                .zip(&v[1..])
                .map(|(r, e)| (r, cosine(&v[0], e)))
                .filter(|(_, s)| *s >= MATCH_MEANING)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(r, _)| r);
        }
    }
    pending
        .iter()
        .map(|r| (r, overlap(query, &r.text)))
        .filter(|(_, s)| *s >= MATCH_WORDS)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| r)
}

/// Share of the query's content words found in `text` (a shared 5-letter start counts: "call"
/// and "calling" differ, "dentist" and "dentist's" do not).
fn overlap(query: &str, text: &str) -> f32 {
    const STOP: &[&str] = &["the", "a", "an", "to", "my", "about", "for", "of", "that", "and", "me", "i", "it"];
    let content =
        |s: &str| -> Vec<String> { wer::normalize(s).into_iter().filter(|w| !STOP.contains(&w.as_str())).collect() };
    let (q, t) = (content(query), content(text));
    if q.is_empty() {
        return 0.0;
    }
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    let hits = q.iter().filter(|w| t.iter().any(|x| x == *w || stem(x) == stem(w))).count();
    hits as f32 / q.len() as f32
}
