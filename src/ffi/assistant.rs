//! Voice commands: what an utterance asks, understood on the device.

use std::path::Path;
use std::sync::Arc;

use jiff::ZonedDateTime;

use super::SottoError;
use super::notes::EmbedderPaths;
use crate::assistant::{self, format_due, parse_instant};
use crate::text::Embedder;

/// An utterance understood.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ParsedCommand {
    /// create_reminder, create_note, search_notes, list_reminders, cancel_reminder or none
    /// (plain dictation).
    pub intent: String,
    /// How sure, 0–1.
    pub confidence: f32,
    /// The reminder's text or the note's body.
    pub text: Option<String>,
    /// When the reminder is due: RFC 3339 with the user's offset, `2026-12-07T17:00:00-05:00`.
    pub due: Option<String>,
    /// What to search for, or which reminder to cancel.
    pub query: Option<String>,
}

/// The command parser: rules, and MiniLM nearest examples where the embedder is given.
#[derive(uniffi::Object)]
pub struct CommandParser(assistant::Assistant);

#[uniffi::export]
impl CommandParser {
    /// A parser with the rules, plus sentence embeddings for phrasings the rules miss when
    /// `embedder` is given (a bad model file is a `Model` error).
    #[uniffi::constructor]
    pub fn new(embedder: Option<EmbedderPaths>) -> Result<Arc<Self>, SottoError> {
        let assistant = match embedder {
            None => assistant::Assistant::rules_only(),
            Some(p) => {
                let model = |e: &dyn std::error::Error| SottoError::Model { detail: e.to_string() };
                let embedder = Embedder::load(Path::new(&p.onnx), Path::new(&p.tokenizer)).map_err(|e| model(&e))?;
                assistant::Assistant::with_embedder(embedder).map_err(|e| model(&e))?
            }
        };
        Ok(Arc::new(CommandParser(assistant)))
    }

    /// What `text` asks; times ("at 5 pm", "in ten minutes", "tomorrow") are read from `now`
    /// (RFC 3339, or with a zone: `…-05:00[America/New_York]`; none: this moment, here).
    pub fn parse(&self, text: String, now: Option<String>) -> Result<ParsedCommand, SottoError> {
        let now = match now {
            None => ZonedDateTime::now(),
            Some(s) => parse_instant(&s).map_err(|e| {
                SottoError::invalid(format!("{s:?} is not a time (RFC 3339, e.g. 2026-12-07T08:30:00-05:00): {e}"))
            })?,
        };
        let parsed = self.0.parse(&text, &now);
        Ok(ParsedCommand {
            intent: parsed.intent.as_str().into(),
            confidence: parsed.confidence,
            text: parsed.slots.text,
            due: parsed.slots.due.as_ref().map(format_due),
            query: parsed.slots.query,
        })
    }
}
