//! The lock view: is there a vault, unlock (creating the vault on first run), lock, passphrase.

use std::sync::Arc;

use serde::Serialize;
use sotto::notes::Library;
use sotto::store::DB_FILE;
use sotto::vault::{self, Credential};
use tauri::{AppHandle, Manager, State};
use zeroize::Zeroizing;

use super::blocking;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Where the notes stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum VaultState {
    /// No notes yet: the first passphrase creates them.
    New,
    /// Notes exist and are locked.
    Locked,
    /// Unlocked.
    Unlocked,
}

/// What the lock view needs to know.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VaultStatus {
    /// Where the notes stand.
    pub state: VaultState,
    /// Whether the OS keyring can unlock them.
    pub keyring_enabled: bool,
    /// The data dir, shown to the user.
    pub data_dir: String,
}

/// An unlock's result.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Unlocked {
    /// Set when this unlock created the vault: show it once, the user writes it down.
    pub recovery_key: Option<String>,
}

/// Where the notes stand; with `$SOTTO_PASSPHRASE` set, unlocks first.
#[tauri::command]
pub async fn vault_status(app: AppHandle, state: State<'_, AppState>) -> AppResult<VaultStatus> {
    if !state.is_unlocked()
        && let Some(passphrase) = state.config.passphrase.clone()
    {
        open(app.clone(), Credential::Passphrase(passphrase.to_string())).await?;
    }
    let dir = state.config.data_dir.clone();
    let unlocked = state.is_unlocked();
    blocking(move || {
        let state = if unlocked {
            VaultState::Unlocked
        } else if matches!(vault::read(&dir), Ok(None)) && !dir.join(DB_FILE).exists() {
            VaultState::New
        } else {
            VaultState::Locked
        };
        Ok(VaultStatus { state, keyring_enabled: vault::keyring_enabled(&dir), data_dir: dir.display().to_string() })
    })
    .await
}

/// Unlock with the passphrase; on a data dir without notes this creates the vault.
#[tauri::command]
pub async fn unlock(app: AppHandle, passphrase: String) -> AppResult<Unlocked> {
    let passphrase = Zeroizing::new(passphrase);
    if passphrase.is_empty() {
        return Err(AppError::Invalid("type your passphrase".into()));
    }
    open(app, Credential::Passphrase(passphrase.to_string())).await
}

/// Unlock with the key kept in the OS keyring.
#[tauri::command]
pub async fn unlock_with_keyring(app: AppHandle) -> AppResult<Unlocked> {
    open(app, Credential::Keyring).await
}

/// Lock: forget the library (a running dictation is cancelled).
#[tauri::command]
pub fn lock(state: State<'_, AppState>) {
    state.set_library(None);
    // The open microphone belongs to the unlocked app (its setting is in the locked database).
    state.microphone.apply(None);
}

/// Change the passphrase (the old one is checked).
#[tauri::command]
pub async fn change_passphrase(state: State<'_, AppState>, old: String, new: String) -> AppResult<()> {
    let (old, new) = (Zeroizing::new(old), Zeroizing::new(new));
    if new.is_empty() {
        return Err(AppError::Invalid("the new passphrase is empty".into()));
    }
    let dir = state.config.data_dir.clone();
    blocking(move || Ok(vault::change_passphrase(&dir, &old, &new)?)).await
}

async fn open(app: AppHandle, credential: Credential) -> AppResult<Unlocked> {
    blocking(move || {
        let state = app.state::<AppState>();
        if state.is_unlocked() {
            return Ok(Unlocked { recovery_key: None });
        }
        let embedder = state.config.dirs.embedder_files();
        let opened = Library::unlock(&state.config.data_dir, &credential, embedder.as_ref())?;
        match opened.library.settings() {
            Ok(settings) => {
                state.apply_settings(&settings);
                crate::anywhere::shortcuts::apply(&app, &settings);
                state.microphone.apply(Some(&settings));
            }
            Err(e) => tracing::warn!("settings unreadable, defaults apply: {e}"),
        }
        state.set_library(Some(Arc::new(opened.library)));
        crate::imports::after_unlock(&app);
        Ok(Unlocked { recovery_key: opened.recovery_key.map(|k| k.to_string()) })
    })
    .await
}
