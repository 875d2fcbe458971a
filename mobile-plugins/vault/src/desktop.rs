//! Desktops: the core's vault file beside the notes, opened with the passphrase or the keyring.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use sotto::vault::{self, Credential};
use tauri::plugin::PluginApi;
use tauri::{AppHandle, Runtime};

use crate::models::{Method, Status, Unlock, Unlocked};
use crate::{Error, Result};

pub(crate) fn init<R: Runtime, C: DeserializeOwned>(
    _app: &AppHandle<R>,
    _api: PluginApi<R, C>,
    data_dir: PathBuf,
) -> Result<Vault<R>> {
    Ok(Vault { store: KeyStore::new(data_dir), _runtime: PhantomData })
}

/// The desktop implementation, in app state.
pub struct Vault<R: Runtime> {
    store: KeyStore,
    _runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> Vault<R> {
    /// What the lock view offers.
    pub fn status(&self) -> Result<Status> {
        self.store.status()
    }

    /// The database key, or why not.
    pub fn unlock(&self, how: Unlock) -> Result<Unlocked> {
        self.store.unlock(how)
    }
}

/// The data dir's vault, without an app (what the plugin's tests and the CLI-like tools use).
pub struct KeyStore {
    data_dir: PathBuf,
}

impl KeyStore {
    /// The vault of `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        KeyStore { data_dir }
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Whether a vault exists, and which ways open it: the passphrase always, the keyring when
    /// the user turned it on.
    pub fn status(&self) -> Result<Status> {
        let exists = vault::read(&self.data_dir)?.is_some();
        let mut methods = Vec::new();
        if exists && vault::keyring_enabled(&self.data_dir) {
            methods.push(Method::Keyring);
        }
        methods.push(Method::Passphrase);
        Ok(Status { exists, methods })
    }

    /// Unlock with the passphrase (the first creates the vault, with its recovery key) or the
    /// keyring; biometrics are for phones.
    pub fn unlock(&self, how: Unlock) -> Result<Unlocked> {
        let credential = match how {
            Unlock::Passphrase(p) => Credential::Passphrase(p),
            Unlock::Keyring => Credential::Keyring,
            Unlock::Biometric { .. } => return Err(Error::Unsupported("biometrics")),
        };
        let unlocked = vault::open(&self.data_dir, &credential)?;
        Ok(Unlocked { key: unlocked.key, recovery_key: unlocked.recovery_key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotto::vault::VaultError;

    #[test]
    fn the_first_passphrase_creates_the_vault_and_later_ones_open_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path().to_path_buf());
        assert_eq!(store.status().unwrap(), Status { exists: false, methods: vec![Method::Passphrase] });
        let first = store.unlock(Unlock::Passphrase("correct horse battery".into())).unwrap();
        assert!(first.recovery_key.is_some(), "shown once, at creation");
        assert!(store.status().unwrap().exists);
        let again = store.unlock(Unlock::Passphrase("correct horse battery".into())).unwrap();
        assert_eq!(*again.key, *first.key, "the same database key");
        assert!(again.recovery_key.is_none());
        // The key opens the notes (what the app does with it).
        let notes = sotto::notes::Library::open_with_key(dir.path(), &again.key, None).unwrap();
        notes.add(&sotto::store::NewNote { body: "kept".into(), ..Default::default() }).unwrap();
    }

    #[test]
    fn a_wrong_passphrase_and_biometrics_on_a_desktop_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path().to_path_buf());
        store.unlock(Unlock::Passphrase("correct horse battery".into())).unwrap();
        let wrong = store.unlock(Unlock::Passphrase("wrong horse".into())).unwrap_err();
        assert!(matches!(wrong, Error::Vault(VaultError::WrongPassphrase)), "{wrong:?}");
        let bio = store.unlock(Unlock::Biometric { reason: "Unlock your notes".into() }).unwrap_err();
        assert!(matches!(bio, Error::Unsupported(_)), "{bio:?}");
        // The page gets the message, never a key.
        let json = serde_json::to_string(&wrong).unwrap();
        assert!(json.contains("passphrase"), "{json}");
    }

    #[test]
    fn the_keyring_is_refused_until_the_user_turns_it_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path().to_path_buf());
        store.unlock(Unlock::Passphrase("correct horse battery".into())).unwrap();
        assert_eq!(store.status().unwrap().methods, vec![Method::Passphrase]);
        let err = store.unlock(Unlock::Keyring).unwrap_err();
        assert!(matches!(err, Error::Vault(_)), "{err:?}");
    }

    #[test]
    fn a_damaged_vault_file_is_an_error_not_a_new_vault() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path().to_path_buf());
        store.unlock(Unlock::Passphrase("correct horse battery".into())).unwrap();
        std::fs::write(dir.path().join(vault::VAULT_FILE), b"\x00garbage").unwrap();
        assert!(matches!(store.status(), Err(Error::Vault(VaultError::Corrupt { .. }))));
        let err = store.unlock(Unlock::Passphrase("correct horse battery".into())).unwrap_err();
        assert!(matches!(err, Error::Vault(VaultError::Corrupt { .. })), "{err:?}");
        assert_eq!(std::fs::read(dir.path().join(vault::VAULT_FILE)).unwrap(), b"\x00garbage", "nothing rewritten");
    }
}
