//! Live dictation in the Dictate view: start, stop, cancel; events stream to the page on a channel.

use sotto::dictation::SessionEvent;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use super::blocking;
use crate::error::AppResult;
use crate::state::AppState;

/// Start listening on the chosen microphone; returns once it is open (or failed to open).
#[tauri::command]
pub async fn start_dictation(
    app: AppHandle,
    state: State<'_, AppState>,
    on_event: Channel<SessionEvent>,
) -> AppResult<()> {
    let library = state.library()?;
    blocking(move || {
        let settings = library.settings()?;
        crate::dictation::start(&app, &settings, move |event| {
            let _ = on_event.send(event);
        })
    })
    .await
}

/// Stop: pending speech becomes a final, then `stopped`.
#[tauri::command]
pub fn stop_dictation(app: AppHandle) {
    crate::dictation::stop(&app);
}

/// Cancel: pending speech is discarded, then `stopped`.
#[tauri::command]
pub fn cancel_dictation(app: AppHandle) {
    crate::dictation::cancel(&app);
}
