//! Sotto's `vault` plugin: the notes' 32-byte database key, released to the app's Rust side
//! only (never to the page).
//!
//! - iOS: a random key in the Keychain with access control `biometryCurrentSet` (Face ID /
//!   Touch ID; enrolling another face or finger invalidates it), this device only.
//! - Android: a random key sealed by a Keystore AES key that requires user authentication
//!   (StrongBox where the phone has one) and is invalidated by new enrolments; released after
//!   a BiometricPrompt.
//! - Desktops: the core's vault (`sotto::vault`): the passphrase, or the OS keyring.

use std::path::PathBuf;

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Manager, Runtime};

mod commands;
#[cfg(desktop)]
pub mod desktop;
mod error;
#[cfg(mobile)]
mod mobile;
mod models;

pub use error::{Error, Result};
pub use models::{Method, Status, Unlock, Unlocked};

#[cfg(desktop)]
use desktop::Vault;
#[cfg(mobile)]
use mobile::Vault;

/// Access to the vault from an app, window or handle.
pub trait VaultExt<R: Runtime> {
    /// The plugin's state.
    fn vault(&self) -> &Vault<R>;
}

impl<R: Runtime, T: Manager<R>> VaultExt<R> for T {
    fn vault(&self) -> &Vault<R> {
        self.state::<Vault<R>>().inner()
    }
}

/// The plugin for the notes in `data_dir`.
pub fn init<R: Runtime>(data_dir: PathBuf) -> TauriPlugin<R> {
    Builder::new("sotto-vault")
        .invoke_handler(tauri::generate_handler![commands::status])
        .setup(move |app, api| {
            #[cfg(mobile)]
            let vault = mobile::init(app, api, data_dir.clone())?;
            #[cfg(desktop)]
            let vault = desktop::init(app, api, data_dir.clone())?;
            app.manage(vault);
            Ok(())
        })
        .build()
}
