//! The database key: a passphrase stretched with Argon2id (salt and cost kept beside the
//! database, in `vault.json`), handed to SQLCipher as a raw 256-bit key.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// File beside the database holding the KDF salt and cost (not secret).
pub const VAULT_FILE: &str = "vault.json";

/// Why the key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase is empty.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// The passphrase does not open the database.
    #[error("wrong passphrase")]
    WrongPassphrase,
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

/// KDF parameters; stored so they can be raised later without locking anyone out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Format version.
    pub version: u32,
    /// Random salt, hex.
    pub salt: String,
    /// Argon2id memory (KiB).
    pub m_kib: u32,
    /// Argon2id iterations.
    pub t: u32,
    /// Argon2id lanes.
    pub p: u32,
}

/// A 256-bit database key, wiped from memory when dropped.
pub type Key = Zeroizing<[u8; 32]>;

/// Read `vault.json` from `dir`, or create it with a fresh random salt.
pub fn params(dir: &Path) -> Result<KdfParams, VaultError> {
    let path = dir.join(VAULT_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| VaultError::Corrupt { path, detail: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt)
                .map_err(|e| VaultError::Io { path: path.clone(), source: std::io::Error::other(e) })?;
            // OWASP's Argon2id baseline (19 MiB, 2 passes): ~50 ms here, fine on phones.
            let params = KdfParams { version: 1, salt: hex::encode(salt), m_kib: 19 * 1024, t: 2, p: 1 };
            std::fs::create_dir_all(dir).map_err(|source| VaultError::Io { path: dir.to_path_buf(), source })?;
            let tmp = dir.join(format!("{VAULT_FILE}.tmp"));
            std::fs::write(&tmp, serde_json::to_vec_pretty(&params).expect("serialisable"))
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|source| VaultError::Io { path: path.clone(), source })?;
            Ok(params)
        }
        Err(source) => Err(VaultError::Io { path, source }),
    }
}

/// Stretch `passphrase` into the database key with the stored parameters.
pub fn derive_key(passphrase: &str, params: &KdfParams) -> Result<Key, VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let corrupt = |detail: String| VaultError::Corrupt { path: PathBuf::from(VAULT_FILE), detail };
    let salt = hex::decode(&params.salt).map_err(|e| corrupt(e.to_string()))?;
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(params.m_kib, params.t, params.p, Some(32)).map_err(|e| corrupt(e.to_string()))?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon.hash_password_into(passphrase.as_bytes(), &salt, key.as_mut()).map_err(|e| corrupt(e.to_string()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_passphrase_same_key_other_salt_other_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = params(dir.path()).unwrap();
        assert_eq!(params(dir.path()).unwrap(), p, "the salt is stored, not regenerated");
        let a = derive_key("correct horse", &p).unwrap();
        assert_eq!(*a, *derive_key("correct horse", &p).unwrap());
        assert_ne!(*a, *derive_key("correct horsf", &p).unwrap());
        let other = params(tempfile::tempdir().unwrap().path()).unwrap();
        assert_ne!(*a, *derive_key("correct horse", &other).unwrap());
        assert!(matches!(derive_key("", &p), Err(VaultError::EmptyPassphrase)));
    }
}
