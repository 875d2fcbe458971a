//! Voice commands in the Dictate view: a final is understood and, when it is a command, carried
//! out; the page shows what was understood with an undo.

use serde::{Deserialize, Serialize};
use sotto::assistant::{Outcome, Parsed};
use tauri::{AppHandle, Manager, State};

use super::blocking;
use crate::error::AppResult;
use crate::state::AppState;

/// A dictated utterance, understood and (when a command) carried out.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Understood {
    /// What it asks.
    pub parsed: Parsed,
    /// What was done (`dictation`: nothing, the text stays dictated text).
    pub outcome: Outcome,
}

/// What an undo takes back.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Undo {
    /// A reminder the command made: cancelled.
    Reminder {
        /// Its id.
        id: i64,
    },
    /// A note the command made: deleted.
    Note {
        /// Its id.
        id: i64,
    },
    /// A reminder the command cancelled: pending again.
    Cancelled {
        /// Its id.
        id: i64,
    },
}

/// Understand `text` and carry it out if it is a command.
#[tauri::command]
pub async fn run_command(app: AppHandle, state: State<'_, AppState>, text: String) -> AppResult<Understood> {
    let library = state.library()?;
    blocking(move || {
        // Loading the embedder for the first time takes a moment: off the main thread.
        let assistant = app.state::<AppState>().assistant();
        let parsed = assistant.parse(&text, &jiff::ZonedDateTime::now());
        let outcome = assistant.perform(&library, &parsed)?;
        Ok(Understood { parsed, outcome })
    })
    .await
}

/// Take back what a command did.
#[tauri::command]
pub async fn undo_command(state: State<'_, AppState>, undo: Undo) -> AppResult<()> {
    let library = state.library()?;
    blocking(move || {
        match undo {
            Undo::Reminder { id } => drop(library.cancel_reminder(id)?),
            Undo::Note { id } => library.delete(id)?,
            Undo::Cancelled { id } => drop(library.reopen_reminder(id)?),
        }
        Ok(())
    })
    .await
}
