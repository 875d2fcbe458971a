//! The database key. The database is encrypted with a random 256-bit data key; `vault.json`
//! (beside the database, not secret) keeps that key wrapped (ChaCha20-Poly1305) under a key
//! stretched from the passphrase with Argon2id. Optionally the OS keyring also holds the data
//! key, for unlocking without typing; the passphrase always works, so losing the keyring entry
//! (a reboot clears Linux's session keyring) never loses notes.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// File beside the database holding the KDF parameters and the wrapped data key.
pub const VAULT_FILE: &str = "vault.json";
const KEYRING_SERVICE: &str = "sotto";

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase is empty.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// The passphrase does not unwrap the key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// Keyring unlock is not enabled, or the keyring lost the entry.
    #[error("no key in the OS keyring for this data dir ({0}); unlock with the passphrase")]
    NotInKeyring(String),
    /// The OS keyring refused.
    #[error("OS keyring: {0}")]
    Keyring(String),
    /// `vault.json` is unreadable or damaged.
    #[error("{path}: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// What `vault.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultFile {
    /// Format version (1).
    pub version: u32,
    /// Argon2id salt, hex.
    pub salt: String,
    /// Argon2id memory (KiB).
    pub m_kib: u32,
    /// Argon2id passes.
    pub t: u32,
    /// Argon2id lanes.
    pub p: u32,
    /// Nonce and ChaCha20-Poly1305 ciphertext of the data key, hex.
    pub wrapped_key: String,
    /// Whether the data key is also in the OS keyring.
    #[serde(default)]
    pub keyring: bool,
}

/// A 256-bit key, wiped from memory when dropped.
pub type Key = Zeroizing<[u8; 32]>;

fn random<const N: usize>(path: &Path) -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| VaultError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    Ok(b)
}

fn stretch(passphrase: &str, v: &VaultFile, path: &Path) -> Result<Key, VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let corrupt = |detail: String| VaultError::Corrupt { path: path.to_path_buf(), detail };
    let salt = hex::decode(&v.salt).map_err(|e| corrupt(e.to_string()))?;
    let params = Params::new(v.m_kib, v.t, v.p, Some(32)).map_err(|e| corrupt(e.to_string()))?;
    let mut kek = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, kek.as_mut())
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(kek)
}

fn read(dir: &Path) -> Result<Option<VaultFile>, VaultError> {
    let path = dir.join(VAULT_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| VaultError::Corrupt { path, detail: e.to_string() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(VaultError::Io { path, source }),
    }
}

fn write(dir: &Path, v: &VaultFile) -> Result<(), VaultError> {
    let path = dir.join(VAULT_FILE);
    let io = |source| VaultError::Io { path: path.clone(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!("{VAULT_FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(v).expect("serialisable")).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

/// The data key of `dir`, unlocked with `passphrase`; a new vault (random key) if none exists.
pub fn unlock(dir: &Path, passphrase: &str) -> Result<Key, VaultError> {
    let path = dir.join(VAULT_FILE);
    let Some(v) = read(dir)? else {
        if passphrase.is_empty() {
            return Err(VaultError::EmptyPassphrase);
        }
        let salt: [u8; 16] = random(&path)?;
        // OWASP's Argon2id baseline (19 MiB, 2 passes): a few tens of ms here, fine on phones.
        let mut v = VaultFile {
            version: 1,
            salt: hex::encode(salt),
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
            wrapped_key: String::new(),
            keyring: false,
        };
        let key = Zeroizing::new(random::<32>(&path)?);
        v.wrapped_key = wrap(&stretch(passphrase, &v, &path)?, &key, &path)?;
        write(dir, &v)?;
        return Ok(key);
    };
    let kek = stretch(passphrase, &v, &path)?;
    unwrap(&kek, &v.wrapped_key, &path)
}

/// Change the passphrase: re-wrap the same data key (the database is not re-encrypted).
pub fn change_passphrase(dir: &Path, old: &str, new: &str) -> Result<(), VaultError> {
    let path = dir.join(VAULT_FILE);
    let key = unlock(dir, old)?;
    let mut v = read(dir)?.expect("unlock created or read it");
    v.salt = hex::encode(random::<16>(&path)?);
    v.wrapped_key = wrap(&stretch(new, &v, &path)?, &key, &path)?;
    write(dir, &v)
}

/// Whether keyring unlock is enabled for `dir`.
pub fn keyring_enabled(dir: &Path) -> bool {
    read(dir).ok().flatten().is_some_and(|v| v.keyring)
}

/// Put the data key in the OS keyring (after proving the passphrase).
pub fn enable_keyring(dir: &Path, passphrase: &str) -> Result<(), VaultError> {
    let key = unlock(dir, passphrase)?;
    os_keyring::store(&account(dir), key.as_ref())?;
    let mut v = read(dir)?.expect("unlocked");
    v.keyring = true;
    write(dir, &v)
}

/// Remove the data key from the OS keyring.
pub fn disable_keyring(dir: &Path) -> Result<(), VaultError> {
    os_keyring::remove(&account(dir))?;
    if let Some(mut v) = read(dir)? {
        v.keyring = false;
        write(dir, &v)?;
    }
    Ok(())
}

/// The data key from the OS keyring.
pub fn unlock_with_keyring(dir: &Path) -> Result<Key, VaultError> {
    let label = dir.display().to_string();
    if !keyring_enabled(dir) {
        return Err(VaultError::NotInKeyring(label));
    }
    let secret = Zeroizing::new(os_keyring::load(&account(dir))?.ok_or(VaultError::NotInKeyring(label))?);
    if secret.len() != 32 {
        return Err(VaultError::Keyring("the keyring entry is not a Sotto key".into()));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&secret);
    Ok(key)
}

/// One keyring entry per data dir, so two profiles never share a key.
fn account(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    format!("{KEYRING_SERVICE}:{}", dir.display())
}

/// Linux: the kernel's per-user keyring (keyutils), readable by the user's processes only and
/// cleared at reboot; no desktop secret service is needed, so it works headless and in tests.
#[cfg(target_os = "linux")]
mod os_keyring {
    use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

    use super::VaultError;

    fn ring() -> Result<KeyRing, VaultError> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(|e| VaultError::Keyring(e.to_string()))
    }

    pub fn store(account: &str, secret: &[u8]) -> Result<(), VaultError> {
        ring()?.add_key(account, secret).map(|_| ()).map_err(|e| VaultError::Keyring(e.to_string()))
    }

    pub fn load(account: &str) -> Result<Option<Vec<u8>>, VaultError> {
        match ring()?.search(account) {
            Ok(key) => key.read_to_vec().map(Some).map_err(|e| VaultError::Keyring(e.to_string())),
            Err(KeyError::KeyDoesNotExist) => Ok(None),
            Err(e) => Err(VaultError::Keyring(e.to_string())),
        }
    }

    pub fn remove(account: &str) -> Result<(), VaultError> {
        match ring()?.search(account) {
            Ok(key) => key.invalidate().map_err(|e| VaultError::Keyring(e.to_string())),
            Err(KeyError::KeyDoesNotExist) => Ok(()),
            Err(e) => Err(VaultError::Keyring(e.to_string())),
        }
    }
}

/// macOS Keychain / Windows Credential Manager through the `keyring` crate.
#[cfg(any(target_os = "macos", target_os = "windows"))]
mod os_keyring {
    use super::{KEYRING_SERVICE, VaultError};

    fn entry(account: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| VaultError::Keyring(e.to_string()))
    }

    pub fn store(account: &str, secret: &[u8]) -> Result<(), VaultError> {
        entry(account)?.set_secret(secret).map_err(|e| VaultError::Keyring(e.to_string()))
    }

    pub fn load(account: &str) -> Result<Option<Vec<u8>>, VaultError> {
        match entry(account)?.get_secret() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(VaultError::Keyring(e.to_string())),
        }
    }

    pub fn remove(account: &str) -> Result<(), VaultError> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(VaultError::Keyring(e.to_string())),
        }
    }
}

/// Phones keep the key behind biometrics in the platform keystore (the mobile plugin).
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod os_keyring {
    use super::VaultError;

    pub fn store(_: &str, _: &[u8]) -> Result<(), VaultError> {
        Err(VaultError::Keyring("use the platform keystore plugin on this OS".into()))
    }
    pub fn load(_: &str) -> Result<Option<Vec<u8>>, VaultError> {
        Ok(None)
    }
    pub fn remove(_: &str) -> Result<(), VaultError> {
        Ok(())
    }
}

fn wrap(kek: &Key, key: &Key, path: &Path) -> Result<String, VaultError> {
    let nonce: [u8; 12] = random(path)?;
    let cipher = ChaCha20Poly1305::new(kek.as_ref().into());
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), &key[..]).expect("sealing 32 bytes cannot fail");
    Ok(hex::encode([nonce.as_slice(), &sealed].concat()))
}

fn unwrap(kek: &Key, wrapped: &str, path: &Path) -> Result<Key, VaultError> {
    let bytes =
        hex::decode(wrapped).map_err(|e| VaultError::Corrupt { path: path.to_path_buf(), detail: e.to_string() })?;
    if bytes.len() != 12 + 32 + 16 {
        return Err(VaultError::Corrupt {
            path: path.to_path_buf(),
            detail: "wrapped key has the wrong length".into(),
        });
    }
    let cipher = ChaCha20Poly1305::new(kek.as_ref().into());
    // Authentication failure is exactly "wrong passphrase": the tag is checked before anything else.
    let plain = Zeroizing::new(
        cipher.decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..]).map_err(|_| VaultError::WrongPassphrase)?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&plain);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_unwraps_the_same_random_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = unlock(dir.path(), "correct horse").unwrap();
        assert_eq!(*key, *unlock(dir.path(), "correct horse").unwrap());
        assert!(matches!(unlock(dir.path(), "correct horsf"), Err(VaultError::WrongPassphrase)));
        assert!(matches!(unlock(dir.path(), ""), Err(VaultError::EmptyPassphrase)));
        // Another vault has another key for the same passphrase.
        assert_ne!(*key, *unlock(tempfile::tempdir().unwrap().path(), "correct horse").unwrap());
        // A new passphrase keeps the key (no re-encryption) and retires the old one.
        change_passphrase(dir.path(), "correct horse", "battery staple").unwrap();
        assert_eq!(*key, *unlock(dir.path(), "battery staple").unwrap());
        assert!(matches!(unlock(dir.path(), "correct horse"), Err(VaultError::WrongPassphrase)));
        let text = std::fs::read_to_string(dir.path().join(VAULT_FILE)).unwrap();
        assert!(!text.contains(&hex::encode(key.as_ref())), "the key is never stored in the clear");
    }

    #[test]
    fn keyring_unlock_is_opt_in_and_reversible() {
        let dir = tempfile::tempdir().unwrap();
        let key = unlock(dir.path(), "pass").unwrap();
        assert!(matches!(unlock_with_keyring(dir.path()), Err(VaultError::NotInKeyring(_))));
        assert!(matches!(enable_keyring(dir.path(), "wrong"), Err(VaultError::WrongPassphrase)));
        enable_keyring(dir.path(), "pass").unwrap();
        assert_eq!(*unlock_with_keyring(dir.path()).unwrap(), *key);
        disable_keyring(dir.path()).unwrap();
        assert!(matches!(unlock_with_keyring(dir.path()), Err(VaultError::NotInKeyring(_))));
        assert_eq!(*unlock(dir.path(), "pass").unwrap(), *key, "the passphrase still works");
    }
}
