//! Phones: VaultPlugin.kt (Android Keystore + BiometricPrompt) and VaultPlugin.swift (Keychain
//! with `biometryCurrentSet`) keep the key; `release` prompts and answers it in hex.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tauri::plugin::{PluginApi, PluginHandle};
use tauri::{AppHandle, Runtime};
use zeroize::Zeroizing;

use crate::models::{Method, Status, Unlock, Unlocked};
use crate::{Error, Result};

#[cfg(target_os = "ios")]
tauri::ios_plugin_binding!(init_plugin_sotto_vault);

pub(crate) fn init<R: Runtime, C: DeserializeOwned>(
    _app: &AppHandle<R>,
    api: PluginApi<R, C>,
    _data_dir: PathBuf,
) -> Result<Vault<R>> {
    #[cfg(target_os = "android")]
    let handle = api.register_android_plugin("app.sotto.vault", "VaultPlugin")?;
    #[cfg(target_os = "ios")]
    let handle = api.register_ios_plugin(init_plugin_sotto_vault)?;
    Ok(Vault(handle))
}

/// The mobile implementation.
pub struct Vault<R: Runtime>(PluginHandle<R>);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlatformStatus {
    exists: bool,
    biometry: bool,
}

#[derive(Serialize)]
struct Release<'a> {
    reason: &'a str,
}

#[derive(Deserialize)]
struct Released {
    /// 64 hex digits; zeroed as soon as it is decoded.
    key: String,
    created: bool,
}

impl<R: Runtime> Vault<R> {
    /// Whether a key exists and whether biometrics are enrolled.
    pub fn status(&self) -> Result<Status> {
        let s: PlatformStatus = self.0.run_mobile_plugin("platformStatus", ())?;
        Ok(Status { exists: s.exists, methods: if s.biometry { vec![Method::Biometric] } else { vec![] } })
    }

    /// The key after the biometric prompt (made on first use).
    pub fn unlock(&self, how: Unlock) -> Result<Unlocked> {
        let Unlock::Biometric { reason } = how else { return Err(Error::Unsupported("a passphrase or keyring")) };
        let released: Released = self
            .0
            .run_mobile_plugin("release", Release { reason: &reason })
            .map_err(|e| Error::Denied(e.to_string()))?;
        let hex = Zeroizing::new(released.key);
        let mut key = sotto::vault::Key::default();
        hex::decode_to_slice(hex.as_bytes(), &mut key[..]).map_err(|e| Error::BadKey(e.to_string()))?;
        let _ = released.created;
        Ok(Unlocked { key, recovery_key: None })
    }
}
