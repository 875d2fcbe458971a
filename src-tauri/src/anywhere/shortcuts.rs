//! The user's shortcuts for dictation into any app, grabbed from the OS (X11, Windows, macOS):
//! hold-to-talk, toggle, paste the last dictation again, and Escape while dictating to cancel. A
//! shortcut that cannot work (another program holds it; a Wayland session, where apps cannot
//! grab keys) is reported in Settings with the way that always works: `sotto-app --toggle` bound
//! in the desktop's own keyboard settings.

use std::str::FromStr;

use serde::Serialize;
use sotto::store::Settings;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_global_shortcut::{Code, GlobalShortcutExt, Shortcut, ShortcutEvent, ShortcutState};

use super::insert::{self, Desktop, Method};
use super::{Control, control, hold};
use crate::state::AppState;

/// The command that works on every desktop, for its keyboard settings.
const COMMAND: &str = "sotto-app --toggle";

/// How the shortcuts fared, for Settings.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShortcutStatus {
    /// Hold-to-talk.
    pub hold: Binding,
    /// Toggle.
    pub toggle: Binding,
    /// Paste the last dictation again.
    pub paste_last: Binding,
    /// How dictated text goes in on this desktop, as chosen now.
    pub insertion: Method,
    /// The command to bind in the desktop's keyboard settings where a shortcut cannot work.
    pub command: String,
}

/// One shortcut.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Binding {
    /// Its keys (empty: none chosen).
    pub keys: String,
    /// Why it does nothing, where it does nothing.
    pub error: Option<String>,
}

/// The shortcuts grabbed now.
#[derive(Default)]
pub struct Registered {
    hold: Option<Shortcut>,
    toggle: Option<Shortcut>,
    paste_last: Option<Shortcut>,
    status: Option<ShortcutStatus>,
}

/// The plugin, with the one handler of every shortcut.
pub fn plugin() -> TauriPlugin<Wry> {
    tauri_plugin_global_shortcut::Builder::new().with_handler(on_shortcut).build()
}

fn on_shortcut(app: &AppHandle, shortcut: &Shortcut, event: ShortcutEvent) {
    let down = event.state == ShortcutState::Pressed;
    let (is_hold, is_toggle, is_paste_last) = {
        let state = app.state::<AppState>();
        let registered = state.anywhere.shortcuts.lock().unwrap_or_else(|e| e.into_inner());
        let is = |s: &Option<Shortcut>| s.as_ref() == Some(shortcut);
        (is(&registered.hold), is(&registered.toggle), is(&registered.paste_last))
    };
    if is_hold {
        hold(app, down);
    } else if is_toggle && down {
        control(app, Control::Toggle);
    } else if is_paste_last && down {
        control(app, Control::PasteLast);
    } else if shortcut.key == Code::Escape && down {
        control(app, Control::Cancel);
    }
}

/// Grab the user's shortcuts (at unlock, and when they change): `$SOTTO_SHORTCUT` over the
/// hold-to-talk setting; the others where they differ from the ones before them.
pub fn apply(app: &AppHandle, settings: &Settings) {
    let hold_keys = std::env::var("SOTTO_SHORTCUT").ok().filter(|k| !k.trim().is_empty());
    let hold_keys = hold_keys.unwrap_or_else(|| settings.shortcut.clone());
    let grabs = app.global_shortcut();
    if let Err(e) = grabs.unregister_all() {
        tracing::warn!("shortcuts: {e}");
    }
    let (hold, hold_binding) = grab(app, &hold_keys);
    let taken = |keys: &str, by: &[(&str, &str)]| {
        let (_, what) = by.iter().find(|(other, _)| same_keys(keys, other))?;
        Some((None, Binding { keys: keys.to_string(), error: Some(format!("the same keys as {what}")) }))
    };
    let (toggle, toggle_binding) = taken(&settings.toggle_shortcut, &[(&hold_keys, "hold-to-talk: they hold")])
        .unwrap_or_else(|| grab(app, &settings.toggle_shortcut));
    let before = [(hold_keys.as_str(), "hold-to-talk"), (settings.toggle_shortcut.as_str(), "start / stop")];
    let (paste_last, paste_last_binding) =
        taken(&settings.paste_last_shortcut, &before).unwrap_or_else(|| grab(app, &settings.paste_last_shortcut));
    let status = ShortcutStatus {
        hold: hold_binding,
        toggle: toggle_binding,
        paste_last: paste_last_binding,
        insertion: insert::choose(settings.insertion),
        command: COMMAND.into(),
    };
    tracing::info!("shortcuts: hold {:?}, toggle {:?}, paste last {:?}", status.hold, status.toggle, status.paste_last);
    let state = app.state::<AppState>();
    *state.anywhere.shortcuts.lock().unwrap_or_else(|e| e.into_inner()) =
        Registered { hold, toggle, paste_last, status: Some(status) };
}

/// How the shortcuts fared (`None` before the unlock).
pub fn status(app: &AppHandle) -> Option<ShortcutStatus> {
    let state = app.state::<AppState>();
    let registered = state.anywhere.shortcuts.lock().unwrap_or_else(|e| e.into_inner());
    registered.status.clone()
}

/// Escape cancels while a dictation runs, and is left to the other apps otherwise. With the
/// hold-to-talk keys' modifiers too: Escape pressed while still holding them.
pub fn while_dictating(app: &AppHandle, dictating: bool) {
    let grabs = app.global_shortcut();
    for key in escapes(app) {
        let done = if dictating { grabs.register(key) } else { grabs.unregister(key) };
        if let Err(e) = done {
            tracing::debug!("Escape: {e}");
        }
    }
}

fn escapes(app: &AppHandle) -> Vec<Shortcut> {
    let state = app.state::<AppState>();
    let registered = state.anywhere.shortcuts.lock().unwrap_or_else(|e| e.into_inner());
    let mut keys = vec![Shortcut::new(None, Code::Escape)];
    if let Some(hold) = registered.hold.filter(|h| !h.mods.is_empty()) {
        keys.push(Shortcut::new(Some(hold.mods), Code::Escape));
    }
    keys
}

fn same_keys(a: &str, b: &str) -> bool {
    if a.trim().is_empty() || b.trim().is_empty() {
        return false;
    }
    match (Shortcut::from_str(a), Shortcut::from_str(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.trim().eq_ignore_ascii_case(b.trim()),
    }
}

fn grab(app: &AppHandle, keys: &str) -> (Option<Shortcut>, Binding) {
    let binding = |error: Option<String>| Binding { keys: keys.to_string(), error };
    if keys.trim().is_empty() {
        return (None, binding(None));
    }
    if Desktop::current() == Desktop::Wayland {
        let why = format!("apps cannot grab keys on Wayland: bind \"{COMMAND}\" in the desktop's keyboard settings");
        return (None, binding(Some(why)));
    }
    let shortcut = match Shortcut::from_str(keys) {
        Ok(s) => s,
        Err(e) => return (None, binding(Some(format!("not a shortcut: {e}")))),
    };
    match app.global_shortcut().register(shortcut) {
        Ok(()) => (Some(shortcut), binding(None)),
        Err(e) => {
            let why = format!("{e} (another program may hold these keys): choose others, or bind \"{COMMAND}\"");
            (None, binding(Some(why)))
        }
    }
}
