//! Dictation into any app: the hold-to-talk and toggle shortcuts, the tray and
//! `sotto-app --toggle|--start|--stop|--cancel` start and stop a dictation whose text goes into
//! the focused window of whatever app the user is in; `--paste-last` (and its shortcut) puts the
//! last one in again.

pub mod insert;
pub mod shortcuts;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use serde::Serialize;
use sotto::audio::cue::Cue;
use sotto::dictation::{SessionEvent, StopReason};
use tauri::{AppHandle, Emitter, Manager};

use self::insert::{Inserter, Method};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The event the page hears dictation into other apps by.
pub const EVENT: &str = "anywhere";

/// What a key, the tray or the command line asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Start listening (nothing if a dictation runs).
    Start,
    /// Stop: pending speech is inserted.
    Stop,
    /// Start, or stop the one running.
    Toggle,
    /// Stop and insert nothing more.
    Cancel,
    /// Put the last dictation into the focused app again.
    PasteLast,
}

impl Control {
    /// The control a command line asks for: `--start`, `--stop`, `--toggle`, `--cancel` or
    /// `--paste-last`.
    pub fn from_args(args: &[String]) -> Option<Control> {
        args.iter().find_map(|a| match a.as_str() {
            "--start" => Some(Control::Start),
            "--stop" => Some(Control::Stop),
            "--toggle" => Some(Control::Toggle),
            "--cancel" => Some(Control::Cancel),
            "--paste-last" => Some(Control::PasteLast),
            _ => None,
        })
    }
}

/// How the dictation was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// While a key is held: the text goes in once it is released.
    Hold,
    /// Until asked to stop: each utterance goes in as soon as it is final.
    Toggle,
}

/// What the page hears of dictation into other apps.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AnywhereEvent {
    /// Listening; the text will go in by `method`.
    Listening {
        /// How the text will go in.
        method: Method,
    },
    /// Input level, in dBFS.
    Level {
        /// Root-mean-square level.
        rms_db: f32,
    },
    /// Live text of the utterance being spoken.
    Partial {
        /// The text so far.
        text: String,
    },
    /// Text that went in (`copy`: only copied, the user pastes it).
    Inserted {
        /// The text.
        text: String,
        /// How.
        method: Method,
    },
    /// Something failed.
    Error {
        /// What, in words.
        message: String,
    },
    /// Not listening any more.
    Idle,
}

/// What the shortcuts share with the dictation they start.
#[derive(Default)]
pub struct Anywhere {
    /// Whether the hold-to-talk key is down now (and started the dictation).
    held: AtomicBool,
    /// The shortcuts registered now, and how each fared.
    shortcuts: Mutex<shortcuts::Registered>,
    /// This run's last texts that went in, newest last: what the tray and "paste the last
    /// dictation" offer when the history keeps none.
    recent: Mutex<Vec<String>>,
}

/// How many recent texts the tray offers.
const RECENT: usize = 5;

impl Anywhere {
    fn remember(&self, text: &str) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.push(text.to_string());
        let over = recent.len().saturating_sub(RECENT);
        recent.drain(..over);
    }
}

/// The last texts that went in, newest first: the history kept in the store (it outlives a
/// restart), else this run's.
pub fn recent(app: &AppHandle) -> Vec<String> {
    let state = app.state::<AppState>();
    if let Ok(library) = state.library() {
        match library.dictations(RECENT) {
            Ok(kept) if !kept.is_empty() => return kept.into_iter().map(|d| d.text).collect(),
            Ok(_) => {}
            Err(e) => tracing::warn!("the dictation history cannot be read: {e}"),
        }
    }
    state.anywhere.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().rev().cloned().collect()
}

/// Remember a text that went in: for this run, and in the history for the days the user keeps it.
fn remember(app: &AppHandle, text: &str) {
    let state = app.state::<AppState>();
    state.anywhere.remember(text);
    if let Ok(library) = state.library()
        && let Err(e) = library.remember_dictation(text)
    {
        tracing::warn!("the dictation history cannot keep a text: {e}");
    }
}

/// Do what `control` asks.
pub fn control(app: &AppHandle, control: Control) {
    let dictating = app.state::<AppState>().dictating();
    tracing::info!("dictation into the focused app: {control:?}");
    match control {
        Control::Start | Control::Toggle if !dictating => start(app, Mode::Toggle),
        Control::Stop | Control::Toggle => {
            crate::dictation::stop(app);
        }
        Control::Cancel => {
            crate::dictation::cancel(app);
        }
        Control::PasteLast => paste_last(app),
        Control::Start => {}
    }
}

/// Put the last dictation into the focused app again, the way dictated text goes in (off the
/// caller's thread: typing takes a while, and waits for the shortcut's keys to be released).
fn paste_last(app: &AppHandle) {
    let app = app.clone();
    let _ = std::thread::Builder::new().name("sotto-paste-last".into()).spawn(move || {
        let state = app.state::<AppState>();
        let Some(text) = recent(&app).into_iter().next() else {
            notify(&app, "Nothing to paste", "Nothing has been dictated into an app yet.");
            return;
        };
        let settings = match state.library().and_then(|l| Ok(l.settings()?)) {
            Ok(settings) => settings,
            Err(e) => return notify(&app, "Sotto could not paste", &e.to_string()),
        };
        let mut inserter = Inserter::new(insert::choose(settings.insertion), &settings.paste_keys);
        match inserter.insert(&text) {
            Ok(done) => {
                tracing::info!("{} characters in again by {:?}", text.chars().count(), done.method);
                if done.method == Method::Copy {
                    notify(&app, "Dictation copied", "Press Ctrl+V to paste it.");
                }
            }
            Err(e) => notify(&app, "Sotto could not insert the text", &e.to_string()),
        }
    });
}

/// The hold-to-talk key went down or up.
pub fn hold(app: &AppHandle, down: bool) {
    let state = app.state::<AppState>();
    if !down {
        if state.anywhere.held.swap(false, Ordering::SeqCst) {
            crate::dictation::stop(app);
        }
    // Not a key repeat, nor a press while another dictation (the page's) runs: that one is
    // not this key's to stop.
    } else if !state.anywhere.held.load(Ordering::SeqCst) && !state.dictating() {
        state.anywhere.held.store(true, Ordering::SeqCst);
        start(app, Mode::Hold);
    }
}

/// Start listening on a thread of its own (the model may load, the microphone opens); failures
/// reach the user as an event and a notification.
fn start(app: &AppHandle, mode: Mode) {
    let pressed = Instant::now();
    let app = app.clone();
    let _ = std::thread::Builder::new().name("sotto-anywhere".into()).spawn(move || {
        if let Err(e) = listen(&app, mode, pressed) {
            tracing::warn!("dictation into the focused app: {e}");
            if matches!(e, AppError::Locked) {
                crate::tray::show_window(&app);
            }
            emit(&app, AnywhereEvent::Error { message: e.to_string() });
            notify(&app, "Sotto could not dictate", &e.to_string());
        }
    });
}

fn listen(app: &AppHandle, mode: Mode, pressed: Instant) -> AppResult<()> {
    let state = app.state::<AppState>();
    let settings = state.library()?.settings()?;
    let method = insert::choose(settings.insertion);
    let (texts, inbox) = mpsc::channel();
    let page = app.clone();
    crate::dictation::start(app, &settings, move |event| match event {
        // Speech from here on is heard: how soon that is after the key is what clips first words
        // (with the microphone kept open, the pre-roll is heard too, so it is at once).
        SessionEvent::Ready { .. } => tracing::info!("first audio {} ms after the key", pressed.elapsed().as_millis()),
        SessionEvent::Level { rms_db, .. } => emit(&page, AnywhereEvent::Level { rms_db }),
        SessionEvent::Partial(s) => emit(&page, AnywhereEvent::Partial { text: s.text }),
        SessionEvent::Final(s) => {
            let _ = texts.send(Piece::Text(s.text));
        }
        SessionEvent::Error { message, .. } => emit(&page, AnywhereEvent::Error { message }),
        SessionEvent::Stopped { reason, .. } => {
            let _ = texts.send(Piece::End(reason));
        }
        _ => {}
    })?;
    tracing::info!("listening; the text goes in by {method:?}");
    emit(app, AnywhereEvent::Listening { method });
    if settings.overlay {
        crate::overlay::show(app);
    }
    let sounds = settings.sounds;
    if sounds {
        sound(Cue::Start);
    }
    shortcuts::while_dictating(app, true);
    // A hold shorter than the start: the key is already up.
    if mode == Mode::Hold && !state.anywhere.held.load(Ordering::SeqCst) {
        crate::dictation::stop(app);
    }
    let inserter = Inserter::new(method, &settings.paste_keys);
    let app = app.clone();
    let _ = std::thread::Builder::new()
        .name("sotto-insert".into())
        .spawn(move || put_in(&app, inbox, inserter, mode, sounds));
    Ok(())
}

/// What the session hands the inserter.
enum Piece {
    Text(String),
    End(StopReason),
}

/// Insert the session's finals as they come (toggle) or all at its end (hold: the user still
/// holds the keys while speaking, and Escape may yet cancel).
fn put_in(app: &AppHandle, inbox: mpsc::Receiver<Piece>, mut inserter: Inserter, mode: Mode, sounds: bool) {
    let mut held: Vec<String> = Vec::new();
    let mut first = true;
    let mut put = |text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        // Utterances follow each other with a space, as typed text would.
        let piece = if first { text.to_string() } else { format!(" {text}") };
        first = false;
        match inserter.insert(&piece) {
            Ok(done) => {
                tracing::info!("{} characters in by {:?}", piece.chars().count(), done.method);
                remember(app, text);
                crate::tray::refresh(app);
                if done.method == Method::Copy {
                    let why = done.fallback.map(|f| format!(" ({f})")).unwrap_or_default();
                    notify(app, "Dictation copied", &format!("Press Ctrl+V to paste it{why}."));
                }
                emit(app, AnywhereEvent::Inserted { text: text.to_string(), method: done.method });
            }
            Err(e) => {
                tracing::warn!("the text could not go in: {e}");
                emit(app, AnywhereEvent::Error { message: e.to_string() });
                notify(app, "Sotto could not insert the text", &e.to_string());
            }
        }
    };
    let reason = loop {
        match inbox.recv() {
            Ok(Piece::Text(text)) if mode == Mode::Toggle => put(&text),
            Ok(Piece::Text(text)) => held.push(text),
            Ok(Piece::End(reason)) => break reason,
            Err(_) => break StopReason::Requested,
        }
    };
    if sounds {
        sound(if reason == StopReason::Cancelled { Cue::Cancel } else { Cue::Stop });
    }
    if reason != StopReason::Cancelled {
        let all = held.join(" ");
        put(&all);
    }
    shortcuts::while_dictating(app, false);
    emit(app, AnywhereEvent::Idle);
    crate::overlay::hide(app);
}

/// Play `cue` on a thread of its own (opening the output and playing take a few hundred ms).
fn sound(cue: Cue) {
    let _ = std::thread::Builder::new().name("sotto-cue".into()).spawn(move || {
        if let Err(e) = sotto::audio::cue::play(cue) {
            tracing::debug!("no {cue:?} sound: {e}");
        } else {
            tracing::debug!("{cue:?} sound played");
        }
    });
}

fn emit(app: &AppHandle, event: AnywhereEvent) {
    let _ = app.emit(EVENT, event);
}

fn notify(app: &AppHandle, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("cannot show a notification: {e}");
    }
}
