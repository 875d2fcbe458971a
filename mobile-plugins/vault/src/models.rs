//! What the vault reports and takes.

use serde::{Deserialize, Serialize};
use sotto::vault::{Key, RecoveryKey};

/// How this device unlocks the notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A passphrase (desktops; the first one creates the vault).
    Passphrase,
    /// The OS keyring, without typing (desktops, opted in).
    Keyring,
    /// Face ID, Touch ID or a fingerprint (phones).
    Biometric,
}

/// The vault's state, for the lock view (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Whether a key exists yet (false: the first unlock creates it).
    pub exists: bool,
    /// The ways this device can unlock, best first.
    pub methods: Vec<Method>,
}

/// How to unlock.
#[derive(Debug)]
pub enum Unlock {
    /// With the passphrase (desktops).
    Passphrase(String),
    /// With the OS keyring (desktops).
    Keyring,
    /// After a biometric prompt saying `reason` (phones).
    Biometric {
        /// Shown in the prompt: "Unlock your notes".
        reason: String,
    },
}

/// The key, for `Notes::open_with_key` / `Library::open_with_key`; zeroed when dropped.
pub struct Unlocked {
    /// The database key.
    pub key: Key,
    /// Set only when this unlock created the vault: shown once to the user.
    pub recovery_key: Option<RecoveryKey>,
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unlocked(…)")
    }
}
