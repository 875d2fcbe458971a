//! The settings view: the user's settings (in the encrypted database), microphones, facts.

use serde::Serialize;
use sotto::store::Settings;
use tauri::{AppHandle, Manager, State};

use super::blocking;
use crate::anywhere::shortcuts::ShortcutStatus;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Facts about this install, shown in Settings.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// Where the notes are.
    pub data_dir: String,
    /// Where downloaded models go.
    pub models_dir: String,
}

/// A microphone.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Microphone {
    /// Its name (what the `microphone` setting holds).
    pub name: String,
    /// Whether it is the system's default.
    pub is_default: bool,
}

/// The settings.
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> AppResult<Settings> {
    let library = state.library()?;
    blocking(move || Ok(library.settings()?)).await
}

/// Set one setting (its value as JSON, checked by the core); returns all of them. Starting at
/// login is the OS's to keep: its login entry is written or removed first.
#[tauri::command]
pub async fn set_setting(
    app: AppHandle,
    state: State<'_, AppState>,
    key: String,
    value: serde_json::Value,
) -> AppResult<Settings> {
    if key == "start_at_login" {
        use tauri_plugin_autostart::ManagerExt;
        let launcher = app.autolaunch();
        let done = if value == serde_json::Value::Bool(true) { launcher.enable() } else { launcher.disable() };
        done.map_err(|e| AppError::Io {
            path: "the login entry".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    let library = state.library()?;
    let keys = ["shortcut", "toggle_shortcut", "paste_last_shortcut", "insertion"].contains(&key.as_str());
    let mic = app.clone();
    let settings = blocking(move || {
        let settings = library.set_setting(&key, value)?;
        if ["keep_microphone_open", "pre_roll_ms", "microphone"].contains(&key.as_str()) {
            mic.state::<AppState>().microphone.apply(Some(&settings));
        }
        // Fewer days kept (or none): what is no longer kept goes now, not at the next dictation.
        if key == "history_days" {
            library.prune_dictations()?;
        }
        Ok(settings)
    })
    .await?;
    state.apply_settings(&settings);
    if keys {
        crate::anywhere::shortcuts::apply(&app, &settings);
    }
    Ok(settings)
}

/// Forget every dictation kept in the history; returns how many went.
#[tauri::command]
pub async fn clear_dictation_history(app: AppHandle, state: State<'_, AppState>) -> AppResult<usize> {
    let library = state.library()?;
    let gone = blocking(move || Ok(library.clear_dictations()?)).await?;
    crate::tray::refresh(&app);
    Ok(gone)
}

/// How the shortcuts of dictation into other apps fared, and how text goes in here (`null`
/// while locked).
#[tauri::command]
pub fn shortcut_status(app: AppHandle) -> Option<ShortcutStatus> {
    crate::anywhere::shortcuts::status(&app)
}

/// Replace the clean-up replacements with those of `text` (CSV or TSV lines `from,to`); returns
/// all the settings.
#[tauri::command]
pub async fn set_replacements(state: State<'_, AppState>, text: String) -> AppResult<Settings> {
    let replacements =
        sotto::assistant::cleanup::parse_replacements(&text).map_err(|e| AppError::Invalid(e.to_string()))?;
    let library = state.library()?;
    blocking(move || {
        let mut cleanup = library.settings()?.cleanup;
        cleanup.replacements = replacements;
        let value = serde_json::to_value(cleanup).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(library.set_setting("cleanup", value)?)
    })
    .await
}

/// Version and locations.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: state.config.data_dir.display().to_string(),
        models_dir: state.config.dirs.install_dir().display().to_string(),
    }
}

/// The audio inputs.
#[tauri::command]
pub async fn list_microphones() -> AppResult<Vec<Microphone>> {
    blocking(|| {
        let devices = sotto::audio::capture::input_devices().map_err(|e| AppError::Session(e.into()))?;
        Ok(devices.into_iter().map(|d| Microphone { name: d.name, is_default: d.is_default }).collect())
    })
    .await
}
