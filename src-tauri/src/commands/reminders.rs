//! The Reminders view: pending (late ones first), done; done, snooze, cancel.

use sotto::store::Reminder;
use tauri::State;

use super::blocking;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Every reminder, soonest first (the page groups them: due, pending, done, cancelled).
#[tauri::command]
pub async fn list_reminders(state: State<'_, AppState>) -> AppResult<Vec<Reminder>> {
    let library = state.library()?;
    blocking(move || Ok(library.reminders(None)?)).await
}

/// Pending reminders whose time has come (the page's "due now" banner).
#[tauri::command]
pub async fn due_reminders(state: State<'_, AppState>) -> AppResult<Vec<Reminder>> {
    let library = state.library()?;
    blocking(move || Ok(library.due_reminders(jiff::Timestamp::now().as_second())?)).await
}

/// Mark a reminder done.
#[tauri::command]
pub async fn complete_reminder(state: State<'_, AppState>, id: i64) -> AppResult<Reminder> {
    let library = state.library()?;
    blocking(move || Ok(library.complete_reminder(id)?)).await
}

/// Move a reminder `minutes` from now (1 minute to a week).
#[tauri::command]
pub async fn snooze_reminder(state: State<'_, AppState>, id: i64, minutes: u32) -> AppResult<Reminder> {
    if !(1..=7 * 24 * 60).contains(&minutes) {
        return Err(AppError::Invalid(format!("snooze for {minutes} minutes: 1 minute to a week")));
    }
    let library = state.library()?;
    let until = jiff::Timestamp::now().as_second() + i64::from(minutes) * 60;
    blocking(move || Ok(library.snooze_reminder(id, until)?)).await
}

/// Cancel a reminder.
#[tauri::command]
pub async fn cancel_reminder(state: State<'_, AppState>, id: i64) -> AppResult<Reminder> {
    let library = state.library()?;
    blocking(move || Ok(library.cancel_reminder(id)?)).await
}
