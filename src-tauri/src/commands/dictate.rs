//! Live dictation: start, stop, cancel; events stream to the page on a channel.

use sotto::asr::TranscribeOptions;
use sotto::audio::capture::DeviceChoice;
use sotto::dictation::{Session, SessionConfig, SessionEvent};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use super::blocking;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Start listening on the chosen microphone; returns once it is open (or failed to open).
#[tauri::command]
pub async fn start_dictation(
    app: AppHandle,
    state: State<'_, AppState>,
    on_event: Channel<SessionEvent>,
) -> AppResult<()> {
    if state.dictating() {
        return Err(AppError::Busy);
    }
    let library = state.library()?;
    blocking(move || {
        let state = app.state::<AppState>();
        let settings = library.settings()?;
        let transcriber = state.speech.get(settings.model.as_deref())?;
        let config = SessionConfig {
            transcribe: TranscribeOptions {
                language: settings.language.clone(),
                vad: state.config.dirs.live_vad().map_err(|e| AppError::Session(e.into()))?,
                ..TranscribeOptions::default()
            },
            cleanup: Some(settings.cleanup.clone()),
            ..SessionConfig::default()
        };
        let device = settings.microphone.clone().map_or(DeviceChoice::Default, DeviceChoice::Named);
        let number = state.next_dictation();
        let ended = app.clone();
        let session = Session::listen(
            transcriber,
            config,
            device,
            Box::new(move |event| {
                let last = matches!(event, SessionEvent::Stopped { .. });
                let _ = on_event.send(event);
                if last {
                    // Ended by itself (silence, a lost microphone): free the slot. Dropping a
                    // session joins its worker, which is this thread: drop it on another.
                    let app = ended.clone();
                    std::thread::spawn(move || drop(app.state::<AppState>().take_dictation_numbered(number)));
                }
            }),
        )?;
        state.set_dictation(number, session)
    })
    .await
}

/// Stop: pending speech becomes a final, then `stopped`.
#[tauri::command]
pub fn stop_dictation(state: State<'_, AppState>) {
    if let Some(session) = state.take_dictation() {
        session.stop();
        // The worker finishes on its own; waiting here would hold the page's call.
        std::thread::spawn(move || session.wait());
    }
}

/// Cancel: pending speech is discarded, then `stopped`.
#[tauri::command]
pub fn cancel_dictation(state: State<'_, AppState>) {
    if let Some(session) = state.take_dictation() {
        session.cancel();
        std::thread::spawn(move || session.wait());
    }
}
