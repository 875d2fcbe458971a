//! Text into the focused window of another app: typed (XTest on X11, `wtype` on wlroots
//! Wayland), pasted (the clipboard saved, set, confirmed, pasted with the user's keys, then
//! restored) or, where nothing can reach the window, copied for the user to paste.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use sotto::store::Insertion;

/// How long the target app has to fetch the pasted text before the old clipboard comes back.
/// Apps ask for the clipboard's content when they handle the paste keys, usually within a few
/// milliseconds; a busy app can take longer, and restoring early would paste the old text.
const PASTE_SETTLE: Duration = Duration::from_millis(300);
/// How long the clipboard may take to hold what was just set before the paste is given up.
const CLIPBOARD_CONFIRM: Duration = Duration::from_millis(500);

/// How a text got in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Method {
    /// Typed as keys.
    Type,
    /// Pasted through the clipboard, which was restored afterwards.
    Paste,
    /// Only copied: the user pastes it.
    Copy,
}

/// Why a text could not go in the chosen way.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// No X11 or Wayland display.
    #[error("no display to type into (neither X11 nor Wayland)")]
    NoDisplay,
    /// The X server cannot take synthetic keys.
    #[error("the X server has no XTest extension: keys cannot be sent")]
    NoXTest,
    /// Sending keys failed.
    #[error("sending keys failed: {0}")]
    Keys(String),
    /// The clipboard could not be read or set.
    #[error("the clipboard: {0}")]
    Clipboard(String),
    /// The pasted text never showed in the clipboard: pasting would have pasted something else.
    #[error("the clipboard did not take the text: nothing was pasted")]
    NotConfirmed,
    /// The paste keys setting is not keys.
    #[error("paste keys {0:?}: modifiers and one key, such as \"ctrl+v\"")]
    PasteKeys(String),
}

/// What happened to one text.
#[derive(Debug, Clone)]
pub struct Inserted {
    /// How it got in.
    pub method: Method,
    /// Why it was only copied, when another way was chosen and failed.
    pub fallback: Option<String>,
}

/// The desktop session the app runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desktop {
    /// An X11 session.
    X11,
    /// A Wayland session (X11 apps may run beside, through XWayland).
    Wayland,
    /// Windows, macOS.
    Other,
}

impl Desktop {
    /// This session's, from its environment.
    pub fn current() -> Desktop {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if !cfg!(target_os = "linux") {
            Desktop::Other
        } else if set("WAYLAND_DISPLAY") {
            Desktop::Wayland
        } else if set("DISPLAY") {
            Desktop::X11
        } else {
            Desktop::Other
        }
    }
}

/// The way to insert: `$SOTTO_INSERT` (`type`, `paste`, `copy`) over the user's setting, and for
/// `auto` typing where this desktop takes synthetic keys, else copying.
pub fn choose(setting: Insertion) -> Method {
    let forced = std::env::var("SOTTO_INSERT").ok().and_then(|v| match v.trim() {
        "type" => Some(Insertion::Type),
        "paste" => Some(Insertion::Paste),
        "copy" => Some(Insertion::Copy),
        "auto" | "" => None,
        other => {
            tracing::warn!("SOTTO_INSERT={other:?} is not type, paste, copy or auto: ignored");
            None
        }
    });
    match forced.unwrap_or(setting) {
        Insertion::Type => Method::Type,
        Insertion::Paste => Method::Paste,
        Insertion::Copy => Method::Copy,
        Insertion::Auto => match keys_reach_windows() {
            Ok(()) => Method::Type,
            Err(e) => {
                tracing::info!("text will be copied, not typed: {e}");
                Method::Copy
            }
        },
    }
}

/// Whether synthetic keys reach other apps' windows here.
fn keys_reach_windows() -> Result<(), InsertError> {
    match Desktop::current() {
        Desktop::X11 => x11::has_xtest(),
        Desktop::Wayland => wayland::has_wtype(),
        Desktop::Other => Ok(()),
    }
}

/// Puts texts into the focused window, one after another, the chosen way.
pub struct Inserter {
    method: Method,
    paste_keys: String,
}

impl Inserter {
    /// Insert by `method`, pasting with `paste_keys` (e.g. `ctrl+v`).
    pub fn new(method: Method, paste_keys: &str) -> Self {
        Self { method, paste_keys: paste_keys.to_string() }
    }

    /// The chosen way.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Put `text` in; where the chosen way fails it is copied instead, so it is never lost.
    pub fn insert(&mut self, text: &str) -> Result<Inserted, InsertError> {
        if matches!(self.method, Method::Type | Method::Paste) {
            wait_for_keys_up();
        }
        let done = match self.method {
            Method::Type => type_text(text),
            Method::Paste => paste(text, &self.paste_keys),
            Method::Copy => copy(text),
        };
        match done {
            Ok(()) => Ok(Inserted { method: self.method, fallback: None }),
            Err(e) if self.method != Method::Copy => {
                tracing::warn!("{:?} failed, the text is copied instead: {e}", self.method);
                copy(text)?;
                Ok(Inserted { method: Method::Copy, fallback: Some(e.to_string()) })
            }
            Err(e) => Err(e),
        }
    }
}

/// The user may still hold the shortcut's keys: typed under its modifiers, letters would be
/// shortcuts (Ctrl+Shift+h…), and while its last key is down the X server sends every key to
/// the app that grabbed the shortcut (Sotto), not to the focused one: "And so my fellow…" went in
/// as "so my fellow…" when the modifiers came up before the V of Ctrl+Alt+V. Wait (a while at
/// most) until no key is down.
fn wait_for_keys_up() {
    if Desktop::current() == Desktop::X11 {
        x11::wait_for_keys_up(Duration::from_millis(1500));
    }
}

fn type_text(text: &str) -> Result<(), InsertError> {
    match Desktop::current() {
        Desktop::Wayland => wayland::wtype(&["--", text]),
        _ => {
            use enigo::Keyboard;
            let mut keys = enigo()?;
            keys.text(text).map_err(|e| InsertError::Keys(e.to_string()))
        }
    }
}

fn paste(text: &str, paste_keys: &str) -> Result<(), InsertError> {
    let (modifiers, key) = parse_keys(paste_keys)?;
    let mut guard = clipboard()?;
    let Some(board) = guard.as_mut() else { return Err(InsertError::Clipboard("unavailable".into())) };
    let saved = Saved::take(board);
    board.set_text(text).map_err(clip)?;
    // The top complaint about pasting dictation apps: the old clipboard pasted instead of the
    // new text. Paste only once the clipboard answers with it.
    let since = Instant::now();
    while board.get_text().ok().as_deref() != Some(text) {
        if since.elapsed() > CLIPBOARD_CONFIRM {
            saved.restore(board);
            return Err(InsertError::NotConfirmed);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = send_keys(&modifiers, key);
    std::thread::sleep(PASTE_SETTLE);
    saved.restore(board);
    sent
}

/// Put `text` on the clipboard.
pub fn copy(text: &str) -> Result<(), InsertError> {
    let mut guard = clipboard()?;
    let Some(board) = guard.as_mut() else { return Err(InsertError::Clipboard("unavailable".into())) };
    board.set_text(text).map_err(clip)
}

/// What the clipboard held before a paste.
enum Saved {
    Text(String),
    Image(arboard::ImageData<'static>),
    Nothing,
}

impl Saved {
    fn take(board: &mut arboard::Clipboard) -> Saved {
        if let Ok(text) = board.get_text() {
            Saved::Text(text)
        } else if let Ok(image) = board.get_image() {
            Saved::Image(image)
        } else {
            Saved::Nothing
        }
    }

    fn restore(self, board: &mut arboard::Clipboard) {
        let restored = match self {
            Saved::Text(text) => board.set_text(text),
            Saved::Image(image) => board.set_image(image),
            Saved::Nothing => board.clear(),
        };
        if let Err(e) = restored {
            tracing::warn!("the clipboard could not be restored: {e}");
        }
    }
}

/// The app's one clipboard handle. On X11 the clipboard's content lives in the process that
/// set it: the handle stays for the app's life, so copied text stays pasteable.
fn clipboard() -> Result<MutexGuard<'static, Option<arboard::Clipboard>>, InsertError> {
    static BOARD: Mutex<Option<arboard::Clipboard>> = Mutex::new(None);
    let mut guard = BOARD.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = Some(arboard::Clipboard::new().map_err(clip)?);
    }
    Ok(guard)
}

fn clip(e: arboard::Error) -> InsertError {
    InsertError::Clipboard(e.to_string())
}

/// `ctrl+shift+v` → the modifiers and the key.
fn parse_keys(keys: &str) -> Result<(Vec<String>, char), InsertError> {
    sotto::store::split_keys(keys).ok_or_else(|| InsertError::PasteKeys(keys.to_string()))
}

fn send_keys(modifiers: &[String], key: char) -> Result<(), InsertError> {
    if Desktop::current() == Desktop::Wayland {
        let mut args: Vec<Cow<str>> = Vec::new();
        for m in modifiers {
            args.extend([Cow::from("-M"), Cow::from(wayland_modifier(m))]);
        }
        args.extend([Cow::from("-k"), Cow::from(key.to_string())]);
        for m in modifiers.iter().rev() {
            args.extend([Cow::from("-m"), Cow::from(wayland_modifier(m))]);
        }
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        return wayland::wtype(&args);
    }
    use enigo::{Direction, Key, Keyboard};
    let mut keys = enigo()?;
    let modifier = |m: &str| match m {
        "ctrl" => Key::Control,
        "shift" => Key::Shift,
        "alt" => Key::Alt,
        _ => Key::Meta,
    };
    let err = |e: enigo::InputError| InsertError::Keys(e.to_string());
    for m in modifiers {
        keys.key(modifier(m), Direction::Press).map_err(err)?;
    }
    let clicked = keys.key(Key::Unicode(key), Direction::Click).map_err(err);
    for m in modifiers.iter().rev() {
        keys.key(modifier(m), Direction::Release).map_err(err)?;
    }
    clicked
}

fn wayland_modifier(m: &str) -> &str {
    match m {
        "super" => "logo",
        other => other,
    }
}

fn enigo() -> Result<enigo::Enigo, InsertError> {
    if Desktop::current() == Desktop::X11 {
        x11::has_xtest()?;
    }
    let settings = enigo::Settings { linux_delay: 0, release_keys_when_dropped: true, ..Default::default() };
    enigo::Enigo::new(&settings).map_err(|e| InsertError::Keys(e.to_string()))
}

#[cfg(target_os = "linux")]
mod x11 {
    use std::time::{Duration, Instant};

    use x11rb::protocol::xproto::ConnectionExt;

    use super::InsertError;

    /// Whether the X server takes synthetic keys (XTest).
    pub fn has_xtest() -> Result<(), InsertError> {
        let (conn, _) = x11rb::connect(None).map_err(|_| InsertError::NoDisplay)?;
        let reply = conn.query_extension(b"XTEST").map_err(|_| InsertError::NoXTest)?.reply();
        match reply {
            Ok(r) if r.present => Ok(()),
            _ => Err(InsertError::NoXTest),
        }
    }

    /// Return once no key is down (the X server's keymap, synthetic keys included), or after
    /// `most`.
    pub fn wait_for_keys_up(most: Duration) {
        let Ok((conn, _)) = x11rb::connect(None) else { return };
        let since = Instant::now();
        while since.elapsed() < most {
            let Ok(Ok(keymap)) = conn.query_keymap().map(|c| c.reply()) else { return };
            if keymap.keys.iter().all(|&bits| bits == 0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        tracing::warn!("keys still held after {most:?}: typing anyway");
    }
}

#[cfg(not(target_os = "linux"))]
mod x11 {
    use std::time::Duration;

    use super::InsertError;

    pub fn has_xtest() -> Result<(), InsertError> {
        Err(InsertError::NoXTest)
    }

    pub fn wait_for_keys_up(_most: Duration) {}
}

mod wayland {
    use std::process::Command;

    use super::InsertError;

    /// Whether `wtype` (the virtual-keyboard protocol of wlroots desktops) is installed.
    pub fn has_wtype() -> Result<(), InsertError> {
        match Command::new("wtype").arg("--help").output() {
            Ok(_) => Ok(()),
            Err(_) => Err(InsertError::Keys("wtype is not installed (typing on Wayland needs it)".into())),
        }
    }

    /// Run `wtype ARGS`, after a short wait: wtype gives the compositor its own keymap first, and
    /// a key sent at once reached the window before the keymap did (sway dropped the first
    /// character of every text: " xyz" came in as "xyz").
    pub fn wtype(args: &[&str]) -> Result<(), InsertError> {
        let out = Command::new("wtype")
            .args(["-s", "40"])
            .args(args)
            .output()
            .map_err(|e| InsertError::Keys(format!("wtype: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(InsertError::Keys(format!("wtype: {}", String::from_utf8_lossy(&out.stderr).trim())))
        }
    }
}
