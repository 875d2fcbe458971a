//! The app's settings, kept in the encrypted database (a microphone's name or a shortcut says
//! something about the user too). One row per field, its value in JSON: a field added later reads
//! as its default, a renamed one is moved by a schema migration, and a row that no longer parses
//! falls back to the default instead of locking the user out of the rest.

use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Store, StoreError};
use crate::assistant::cleanup::CleanupRules;

/// Longest audio kept from before dictation starts.
const MAX_PRE_ROLL_MS: u32 = 10_000;
/// Longest time an unused model may stay loaded: a day.
const MAX_IDLE_RELEASE_SECS: u32 = 86_400;
/// Longest the dictation history may be kept: ten years.
const MAX_HISTORY_DAYS: u32 = 3_650;

/// Light or dark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Theme {
    /// Follow the operating system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// How dictated text gets into the focused app (dictation by shortcut).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Insertion {
    /// The best way this desktop offers.
    #[default]
    Auto,
    /// Typed as keys (XTest on X11, the virtual keyboard on wlroots Wayland).
    Type,
    /// Pasted: the clipboard is saved, set, pasted and restored.
    Paste,
    /// Only copied, with a notification to paste it.
    Copy,
}

/// What the user chose; every field has a default, so a fresh database reads as [`Settings::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    /// Speech model id from the manifest (e.g. `whisper-base.en`); `None`: the default model.
    pub model: Option<String>,
    /// Spoken language, an ISO 639-1 code such as `en`, or `auto`; `None`: the model's own.
    pub language: Option<String>,
    /// Hold-to-talk: dictation into the focused app while this shortcut is held (accelerator
    /// syntax, e.g. `Ctrl+Shift+Space`; empty: none).
    pub shortcut: String,
    /// Toggle: one press starts dictation into the focused app, the next stops it (empty: none).
    pub toggle_shortcut: String,
    /// Puts the last dictation into the focused app again (empty: none).
    pub paste_last_shortcut: String,
    /// How dictated text gets into the focused app.
    pub insertion: Insertion,
    /// The keys that paste, for [`Insertion::Paste`] (`ctrl+shift+v` for terminals).
    pub paste_keys: String,
    /// Colour theme.
    pub theme: Theme,
    /// Microphone by device name; `None`: the system default.
    pub microphone: Option<String>,
    /// Keep the microphone open between dictations, so the first word is never cut off (its
    /// indicator stays on while Sotto is unlocked).
    pub keep_microphone_open: bool,
    /// Audio kept from just before a dictation starts, in milliseconds (0 to 10000), where the
    /// microphone is kept open.
    pub pre_roll_ms: u32,
    /// Seconds a model (speech, embedder) stays loaded unused before its memory is given back
    /// (0 to 86400; 0 keeps it loaded).
    pub idle_release_secs: u32,
    /// Voice commands in the Dictate view: "remind me to call Ana at 5" makes a reminder.
    pub voice_commands: bool,
    /// Closing the window keeps Sotto running in the tray, so reminders still fire.
    pub keep_running: bool,
    /// Start Sotto (in the tray, without its window) when the user logs in.
    pub start_at_login: bool,
    /// While dictating into another app, a small window shows the level and the live text.
    pub overlay: bool,
    /// Short tones when dictation into another app starts and ends.
    pub sounds: bool,
    /// Days the texts dictated into other apps are kept (0 to 3650; 0 keeps none).
    pub history_days: u32,
    /// Clean-up of dictated text, the replacements and the vocabulary.
    pub cleanup: CleanupRules,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: None,
            language: None,
            shortcut: "CmdOrCtrl+Shift+Space".into(),
            toggle_shortcut: "CmdOrCtrl+Alt+Space".into(),
            paste_last_shortcut: "CmdOrCtrl+Alt+V".into(),
            insertion: Insertion::Auto,
            paste_keys: "ctrl+v".into(),
            theme: Theme::System,
            microphone: None,
            keep_microphone_open: false,
            pre_roll_ms: 300,
            idle_release_secs: 300,
            voice_commands: true,
            keep_running: true,
            start_at_login: false,
            overlay: true,
            sounds: true,
            history_days: 30,
            cleanup: CleanupRules::default(),
        }
    }
}

impl Settings {
    /// The names of the settings, sorted.
    pub fn keys() -> Vec<String> {
        Self::default().to_map().into_iter().map(|(k, _)| k).collect()
    }

    /// One setting's value as JSON; [`StoreError::UnknownSetting`] for a name there is not.
    pub fn get(&self, key: &str) -> Result<Value, StoreError> {
        self.to_map().remove(key).ok_or_else(|| unknown(key))
    }

    /// These settings with `key` set to `value` (JSON), checked.
    pub fn with(&self, key: &str, value: Value) -> Result<Settings, StoreError> {
        let mut map = self.to_map();
        if !map.contains_key(key) {
            return Err(unknown(key));
        }
        map.insert(key.to_string(), value);
        let settings: Settings = serde_json::from_value(Value::Object(map))
            .map_err(|e| StoreError::BadSetting { key: key.to_string(), detail: e.to_string() })?;
        settings.check()?;
        Ok(settings)
    }

    /// Values a field's type allows but the app cannot use.
    fn check(&self) -> Result<(), StoreError> {
        let bad = |key: &str, detail: String| Err(StoreError::BadSetting { key: key.into(), detail });
        if let Some(lang) = &self.language
            && lang != "auto"
            && !(lang.len() == 2 && lang.chars().all(|c| c.is_ascii_lowercase()))
        {
            return bad("language", format!("{lang:?} is neither a two-letter code such as \"en\" nor \"auto\""));
        }
        if self.shortcut.trim().is_empty() && self.toggle_shortcut.trim().is_empty() {
            return bad("shortcut", "with neither shortcut, dictation into other apps has no key".into());
        }
        if split_keys(&self.paste_keys).is_none() {
            let detail = format!("{:?} is not modifiers and one key, such as \"ctrl+v\"", self.paste_keys);
            return bad("paste_keys", detail);
        }
        if self.pre_roll_ms > MAX_PRE_ROLL_MS {
            return bad("pre_roll_ms", format!("{} is more than {MAX_PRE_ROLL_MS}", self.pre_roll_ms));
        }
        if self.idle_release_secs > MAX_IDLE_RELEASE_SECS {
            let detail = format!("{} is more than {MAX_IDLE_RELEASE_SECS} (a day)", self.idle_release_secs);
            return bad("idle_release_secs", detail);
        }
        if self.history_days > MAX_HISTORY_DAYS {
            return bad("history_days", format!("{} is more than {MAX_HISTORY_DAYS} (ten years)", self.history_days));
        }
        if let Some(r) = self.cleanup.replacements.iter().find(|r| r.from.trim().is_empty()) {
            return bad("cleanup", format!("a replacement by {:?} replaces nothing", r.to));
        }
        Ok(())
    }

    fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // A struct of plain fields always serialises to an object.
            _ => Map::new(),
        }
    }
}

/// Keys such as `ctrl+shift+v` as their modifiers (`ctrl`, `shift`, `alt`, `super`) and one key;
/// `None` where they are not that.
pub fn split_keys(keys: &str) -> Option<(Vec<String>, char)> {
    let lower = keys.to_ascii_lowercase();
    let mut parts: Vec<String> = lower.split('+').map(|p| p.trim().to_string()).collect();
    let last = parts.pop()?;
    let mut chars = last.chars();
    let (Some(key), None) = (chars.next(), chars.next()) else { return None };
    let known = parts.iter().all(|m| ["ctrl", "shift", "alt", "super"].contains(&m.as_str()));
    known.then_some((parts, key))
}

fn unknown(key: &str) -> StoreError {
    StoreError::UnknownSetting { key: key.to_string(), known: Settings::keys().join(", ") }
}

impl Store {
    /// The saved settings; fields never saved, or saved by a version whose value no longer
    /// parses, read as their defaults.
    pub fn settings(&self) -> Result<Settings, StoreError> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM settings ORDER BY key").map_err(|e| self.err(e))?;
        let rows: Vec<(String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).and_then(Iterator::collect).map_err(|e| self.err(e))?;
        let mut settings = Settings::default();
        for (key, value) in rows {
            let parsed = serde_json::from_str(&value).map_err(|e| e.to_string());
            match parsed.and_then(|v| settings.with(&key, v).map_err(|e| e.to_string())) {
                Ok(s) => settings = s,
                // Keys of other versions are kept in the table: a newer Sotto may still read them.
                Err(e) => tracing::warn!("setting {key:?} ignored: {e}"),
            }
        }
        Ok(settings)
    }

    /// Set one setting from JSON (checked against its type and range); returns all settings now.
    pub fn set_setting(&mut self, key: &str, value: Value) -> Result<Settings, StoreError> {
        let settings = self.settings()?.with(key, value)?;
        let json = settings.get(key)?.to_string();
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, json],
            )
            .map_err(|e| self.err(e))?;
        Ok(settings)
    }

    /// Save all settings at once (checked first: a bad field saves nothing).
    pub fn save_settings(&mut self, settings: &Settings) -> Result<(), StoreError> {
        settings.check()?;
        let path = self.path.clone();
        let err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        for (key, value) in settings.to_map() {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value.to_string()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::open_temp;
    use serde_json::json;

    #[test]
    fn paste_keys_are_modifiers_and_one_key() {
        assert_eq!(split_keys("Ctrl+Shift+V"), Some((vec!["ctrl".to_string(), "shift".to_string()], 'v')));
        assert_eq!(split_keys("ctrl + v"), Some((vec!["ctrl".to_string()], 'v')));
        for bad in ["", "ctrl+", "hyper+v", "ctrl+vv"] {
            assert_eq!(split_keys(bad), None, "{bad}");
        }
    }

    #[test]
    fn settings_are_typed_checked_and_saved() {
        let (_dir, mut store) = open_temp();
        assert_eq!(store.settings().unwrap(), Settings::default());
        let s = store.set_setting("theme", json!("dark")).unwrap();
        assert_eq!(s.theme, Theme::Dark);
        store.set_setting("microphone", json!("USB Audio Device")).unwrap();
        store.set_setting("pre_roll_ms", json!(500)).unwrap();
        let s = store.settings().unwrap();
        assert_eq!((s.theme, s.microphone.as_deref(), s.pre_roll_ms), (Theme::Dark, Some("USB Audio Device"), 500));
        assert_eq!(s.get("theme").unwrap(), json!("dark"));

        for (key, value) in [
            ("theme", json!("purple")),
            ("pre_roll_ms", json!(-1)),
            ("pre_roll_ms", json!(60_000)),
            ("idle_release_secs", json!(100_000)),
            ("idle_release_secs", json!(-5)),
            ("language", json!("English")),
            ("paste_keys", json!("ctrl+")),
            ("paste_keys", json!("hyper+v")),
            ("insertion", json!("telepathy")),
        ] {
            let r = store.set_setting(key, value.clone());
            assert!(matches!(&r, Err(StoreError::BadSetting { key: k, .. }) if k == key), "{key}={value}: {r:?}");
        }
        assert!(matches!(store.set_setting("colour", json!("red")), Err(StoreError::UnknownSetting { .. })));
        assert_eq!(store.settings().unwrap(), s, "refused values change nothing");
        // One shortcut may go, not both: dictation into other apps would have no key.
        let s = store.set_setting("toggle_shortcut", json!("")).unwrap();
        let r = store.set_setting("shortcut", json!(" "));
        assert!(matches!(&r, Err(StoreError::BadSetting { key, .. }) if key == "shortcut"), "{r:?}");
        let pasted = store.set_setting("insertion", json!("paste")).unwrap();
        assert_eq!(pasted, Settings { insertion: Insertion::Paste, ..s }, "only the one setting changed");

        // A row another version wrote that no longer parses reads as the default; the rest stay.
        store.connection().execute("UPDATE settings SET value = '\"sepia\"' WHERE key = 'theme'", []).unwrap();
        store.connection().execute("INSERT INTO settings (key, value) VALUES ('future', '1')", []).unwrap();
        let s = store.settings().unwrap();
        assert_eq!((s.theme, s.pre_roll_ms), (Theme::System, 500));

        let mut all = s.clone();
        all.language = Some("de".into());
        all.model = Some("whisper-base".into());
        store.save_settings(&all).unwrap();
        assert_eq!(store.settings().unwrap(), all);
        all.pre_roll_ms = 99_999;
        assert!(store.save_settings(&all).is_err());
        assert_eq!(store.settings().unwrap().pre_roll_ms, 500);
    }
}
