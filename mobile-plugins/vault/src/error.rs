//! The vault plugin's errors; the page sees their message.

use serde::{Serialize, Serializer};

/// Why the vault did not give the key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The core's vault (desktop): wrong passphrase, no keyring entry, a damaged vault file…
    #[error(transparent)]
    Vault(#[from] sotto::vault::VaultError),
    /// This platform cannot unlock that way (a passphrase on a phone, biometrics on a desktop).
    #[error("{0} is not a way to unlock on this device")]
    Unsupported(&'static str),
    /// The user cancelled the biometric prompt, or it failed too often.
    #[error("not unlocked: {0}")]
    Denied(String),
    /// The platform answered with something that is not a 32-byte key.
    #[error("the platform's key is unusable: {0}")]
    BadKey(String),
    /// The platform side (Kotlin/Swift) failed.
    #[cfg(mobile)]
    #[error(transparent)]
    PluginInvoke(#[from] tauri::plugin::mobile::PluginInvokeError),
}

/// The plugin's result.
pub type Result<T> = std::result::Result<T, Error>;

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}
