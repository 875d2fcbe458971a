//! The one running dictation, whoever started it: the page (its events go to the page) or a
//! shortcut (its text goes into the focused app, `anywhere`).

use sotto::asr::TranscribeOptions;
use sotto::audio::capture::{CaptureError, DeviceChoice};
use sotto::dictation::{Session, SessionConfig, SessionError, SessionEvent};
use sotto::store::Settings;
use tauri::{AppHandle, Manager};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Listen on the user's microphone with the user's model, language and clean-up; `on_event`
/// gets every event, `Stopped` last, after which the slot is free again. Blocks while the
/// model loads and the microphone opens: call it off the main thread. Where the microphone is
/// kept open, the session hears its pre-roll first (the audio from just before the start).
pub fn start(
    app: &AppHandle,
    settings: &Settings,
    mut on_event: impl FnMut(SessionEvent) + Send + 'static,
) -> AppResult<()> {
    let state = app.state::<AppState>();
    if state.dictating() {
        return Err(AppError::Busy);
    }
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
    let events: sotto::dictation::EventSink = Box::new(move |event| {
        let last = matches!(event, SessionEvent::Stopped { .. });
        on_event(event);
        if last {
            // Ended by itself (silence, a lost microphone): free the slot. Dropping a
            // session joins its worker, which is this thread: drop it on another.
            let app = ended.clone();
            std::thread::spawn(move || {
                drop(app.state::<AppState>().take_dictation_numbered(number));
                crate::tray::refresh(&app);
            });
        }
    });
    let session = if state.microphone.is_open() {
        let session = Session::start(transcriber, config, events)?;
        if !state.microphone.feed(session.feeder()) {
            session.cancel();
            return Err(SessionError::Capture(CaptureError::Lost("the microphone kept open".into())).into());
        }
        session
    } else {
        Session::listen(transcriber, config, device, events)?
    };
    state.set_dictation(number, session)?;
    crate::tray::refresh(app);
    Ok(())
}

/// Stop the running dictation, if any: pending speech becomes a final, then `stopped`.
pub fn stop(app: &AppHandle) -> bool {
    end(app, Session::stop)
}

/// Cancel the running dictation, if any: pending speech is discarded, then `stopped`.
pub fn cancel(app: &AppHandle) -> bool {
    end(app, Session::cancel)
}

fn end(app: &AppHandle, how: fn(&Session)) -> bool {
    let Some(session) = app.state::<AppState>().take_dictation() else { return false };
    how(&session);
    crate::tray::refresh(app);
    // The worker finishes on its own; waiting here would hold the caller (the page, a key).
    std::thread::spawn(move || session.wait());
    true
}
