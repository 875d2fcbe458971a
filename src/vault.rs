//! The database key. The database is encrypted with a random 256-bit data key; `vault.json`
//! (beside the database, not secret) keeps that key wrapped (ChaCha20-Poly1305) twice: under a
//! key stretched from the passphrase with Argon2id, and under a key derived from the recovery
//! key, a random key shown once when the vault is made (for a forgotten passphrase). The
//! recovery key itself is kept sealed under the data key, so an unlocked vault can show it again.
//! Optionally the OS keyring also holds the data key, for unlocking without typing; the
//! passphrase always works, so losing the keyring entry never loses notes.
//!
//! Every change of `vault.json` (creation, new passphrase, recovery, keyring flag) is made under
//! an exclusive lock on `vault.lock` and lands by atomic rename of a fully written and synced
//! temporary file, so concurrent first runs make one vault and a crash leaves the old file or the
//! new one, never a torn one. A vault is never made where a database already is (that database's
//! key would be lost for good): a missing or damaged `vault.json` is an error that writes nothing.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::store::DB_FILE;

/// File beside the database holding the KDF parameters and the wrapped data key.
pub const VAULT_FILE: &str = "vault.json";
/// File whose exclusive lock serialises every change of `vault.json` (it stays, empty).
pub const LOCK_FILE: &str = "vault.lock";
/// The newest `vault.json` format: 2 adds the recovery key (1 has none; both are read).
pub const VERSION: u32 = 2;
const KEYRING_SERVICE: &str = "sotto";
/// Bytes of a recovery key: 160 random bits, 32 base32 characters.
const RECOVERY_BYTES: usize = 20;
/// Crockford's base32: no I, L, O or U, so nothing reads as another character.
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Domain separation of the key derived from a recovery key.
const RECOVERY_KDF_LABEL: &[u8] = b"sotto vault recovery key v1";

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The passphrase is empty.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// The passphrase does not unwrap the key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The recovery key is well formed but does not unwrap the key.
    #[error("wrong recovery key (it is not this vault's)")]
    WrongRecoveryKey,
    /// The text is not a recovery key at all.
    #[error("not a recovery key: {0} (expected 32 letters and digits, as in XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX)")]
    BadRecoveryKey(String),
    /// A vault made before recovery keys (version 1) has none yet.
    #[error(
        "{path} has no recovery key (it was made before Sotto had them); unlock with the passphrase and run `sotto vault recovery-key` to make one"
    )]
    NoRecoveryKey {
        /// The vault file.
        path: PathBuf,
    },
    /// No vault and no notes yet: only a passphrase can start one.
    #[error("{dir} has no notes yet; the first use with a passphrase creates them")]
    NoVault {
        /// The data dir.
        dir: PathBuf,
    },
    /// The database is there but `vault.json`, which holds its key, is not.
    #[error(
        "{dir}: vault.json is missing but the notes database ({DB_FILE}) is there, and its key is in vault.json; nothing was changed. Put vault.json back from a backup of this folder (neither the passphrase nor the recovery key opens the notes without it)"
    )]
    Missing {
        /// The data dir.
        dir: PathBuf,
    },
    /// Keyring unlock is not enabled, or the keyring lost the entry.
    #[error("no key in the OS keyring for this data dir ({0}); unlock with the passphrase")]
    NotInKeyring(String),
    /// The OS keyring refused.
    #[error("OS keyring: {0}")]
    Keyring(String),
    /// `vault.json` is unreadable or damaged.
    #[error(
        "{path} is damaged ({detail}); nothing was changed. Put vault.json back from a backup of this folder: the notes' key is in it"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// `vault.json` was written by a newer Sotto.
    #[error("{path} is version {version}, newer than this Sotto reads ({VERSION}); update Sotto")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u32,
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
    /// Format version: 2 with a recovery key, 1 without.
    pub version: u32,
    /// Argon2id salt, hex.
    pub salt: String,
    /// Argon2id memory (KiB).
    pub m_kib: u32,
    /// Argon2id passes.
    pub t: u32,
    /// Argon2id lanes.
    pub p: u32,
    /// Nonce and ChaCha20-Poly1305 ciphertext of the data key under the passphrase key, hex.
    pub wrapped_key: String,
    /// Whether the data key is also in the OS keyring.
    #[serde(default)]
    pub keyring: bool,
    /// The data key under the recovery key (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryWrap>,
}

/// The recovery key's part of `vault.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryWrap {
    /// Salt of the key derived from the recovery key, hex.
    pub salt: String,
    /// Nonce and ciphertext of the data key under the recovery key, hex.
    pub wrapped_key: String,
    /// Nonce and ciphertext of the recovery key under the data key, hex (to show it again).
    pub sealed: String,
}

/// A 256-bit key, wiped from memory when dropped.
pub type Key = Zeroizing<[u8; 32]>;

/// The recovery key: 160 random bits written as eight groups of four base32 characters.
/// Parsing ignores case, spaces and dashes, and reads O as 0 and I or L as 1.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryKey(Zeroizing<[u8; RECOVERY_BYTES]>);

impl RecoveryKey {
    fn random(path: &Path) -> Result<Self, VaultError> {
        Ok(RecoveryKey(Zeroizing::new(random(path)?)))
    }

    /// The key as typed: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(39));
        let (mut acc, mut bits, mut n) = (0u32, 0u32, 0);
        for &b in self.0.iter() {
            acc = (acc << 8) | b as u32;
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                if n > 0 && n % 4 == 0 {
                    out.push('-');
                }
                out.push(BASE32[((acc >> bits) & 31) as usize] as char);
                n += 1;
            }
        }
        out
    }
}

impl FromStr for RecoveryKey {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; RECOVERY_BYTES]);
        let (mut acc, mut bits, mut n, mut i) = (0u32, 0u32, 0usize, 0usize);
        for c in s.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            let Some(v) = BASE32.iter().position(|&b| b as char == c) else {
                return Err(VaultError::BadRecoveryKey(format!("{c:?} is not one of its characters")));
            };
            n += 1;
            if n > 32 {
                return Err(VaultError::BadRecoveryKey("too long".into()));
            }
            acc = (acc << 5) | v as u32;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes[i] = (acc >> bits) as u8;
                i += 1;
            }
        }
        if n != 32 {
            return Err(VaultError::BadRecoveryKey(format!("{n} characters")));
        }
        Ok(RecoveryKey(bytes))
    }
}

impl fmt::Display for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryKey(…)")
    }
}

/// What unlocks a data dir.
#[derive(Clone)]
pub enum Credential {
    /// The passphrase; on a data dir without a vault, it creates one with this passphrase.
    Passphrase(String),
    /// The data key kept in the OS keyring (`enable_keyring`).
    Keyring,
    /// The recovery key shown when the vault was made.
    RecoveryKey(RecoveryKey),
}

/// A passphrase does not outlive its credential in memory.
impl Drop for Credential {
    fn drop(&mut self) {
        if let Credential::Passphrase(passphrase) = self {
            zeroize::Zeroize::zeroize(passphrase);
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::Passphrase(_) => "Passphrase(…)",
            Credential::Keyring => "Keyring",
            Credential::RecoveryKey(_) => "RecoveryKey(…)",
        })
    }
}

/// An unlocked vault.
pub struct Unlocked {
    /// The data key.
    pub key: Key,
    /// The recovery key of a vault this call created: show it once, it is not returned again
    /// (`recovery_key` shows it after an unlock).
    pub recovery_key: Option<RecoveryKey>,
}

/// Where the OS keyring put the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringStore {
    /// The desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC): kept across reboots.
    SecretService,
    /// Linux's kernel keyring: no Secret Service was reachable; cleared at reboot (and after a
    /// few days unused).
    Kernel,
    /// macOS Keychain or Windows Credential Manager.
    Platform,
}

impl fmt::Display for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyringStore::SecretService => "the Secret Service (the desktop keyring, kept across reboots)",
            KeyringStore::Kernel => {
                "the kernel keyring (no Secret Service is running; cleared at reboot, then unlock with the passphrase and run `sotto vault keyring-on` again)"
            }
            KeyringStore::Platform => "the OS keyring",
        })
    }
}

fn random<const N: usize>(path: &Path) -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| VaultError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    Ok(b)
}

fn vault_path(dir: &Path) -> PathBuf {
    dir.join(VAULT_FILE)
}

fn corrupt(path: &Path, detail: impl Into<String>) -> VaultError {
    VaultError::Corrupt { path: path.to_path_buf(), detail: detail.into() }
}

fn params(v: &VaultFile, path: &Path) -> Result<Params, VaultError> {
    // argon2 accepts up to 4 TiB and 2^32 passes: a damaged digit must be "damaged", not an
    // allocation that kills the process or an unlock that never ends. Sotto writes 19 MiB, 2, 1.
    if v.m_kib > MAX_M_KIB || v.t > MAX_PASSES || v.p > MAX_LANES {
        return Err(corrupt(
            path,
            format!("Argon2 parameters out of range (m = {} KiB, t = {}, p = {})", v.m_kib, v.t, v.p),
        ));
    }
    Params::new(v.m_kib, v.t, v.p, Some(32)).map_err(|e| corrupt(path, format!("Argon2 parameters: {e}")))
}

/// Largest Argon2 memory (KiB), passes and lanes a vault may ask for (1 GiB, 16, 16).
const MAX_M_KIB: u32 = 1 << 20;
const MAX_PASSES: u32 = 16;
const MAX_LANES: u32 = 16;

fn stretch(passphrase: &str, v: &VaultFile, path: &Path) -> Result<Key, VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let salt = hex::decode(&v.salt).map_err(|e| corrupt(path, format!("salt: {e}")))?;
    let mut kek = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params(v, path)?)
        .hash_password_into(passphrase.as_bytes(), &salt, kek.as_mut())
        .map_err(|e| corrupt(path, format!("Argon2: {e}")))?;
    Ok(kek)
}

/// The key a recovery key wraps with. The recovery key is 160 random bits, so one salted hash is
/// enough (stretching guards guessable secrets, and it is not one).
fn recovery_kek(rk: &RecoveryKey, salt_hex: &str, path: &Path) -> Result<Key, VaultError> {
    let salt = hex::decode(salt_hex).map_err(|e| corrupt(path, format!("recovery salt: {e}")))?;
    let mut h = Sha256::new();
    h.update(RECOVERY_KDF_LABEL);
    h.update(&salt);
    h.update(rk.0.as_ref());
    let mut kek = Zeroizing::new([0u8; 32]);
    kek.copy_from_slice(&h.finalize());
    Ok(kek)
}

/// Check the shape of every field, so damage is reported as such and not as a wrong passphrase.
fn validate(v: &VaultFile, path: &Path) -> Result<(), VaultError> {
    if v.version > VERSION {
        return Err(VaultError::TooNew { path: path.to_path_buf(), version: v.version });
    }
    let hex_len = |name: &str, s: &str, len: usize| match hex::decode(s) {
        Ok(b) if b.len() == len => Ok(()),
        Ok(b) => Err(corrupt(path, format!("{name} is {} bytes, not {len}", b.len()))),
        Err(e) => Err(corrupt(path, format!("{name}: {e}"))),
    };
    hex_len("salt", &v.salt, 16)?;
    hex_len("wrapped_key", &v.wrapped_key, SEALED_KEY)?;
    params(v, path)?;
    if let Some(r) = &v.recovery {
        hex_len("recovery.salt", &r.salt, 16)?;
        hex_len("recovery.wrapped_key", &r.wrapped_key, SEALED_KEY)?;
        hex_len("recovery.sealed", &r.sealed, 12 + RECOVERY_BYTES + 16)?;
    } else if v.version >= 2 {
        return Err(corrupt(path, "the recovery key's part is missing"));
    }
    Ok(())
}

/// The vault of `dir`, if there is one (checked: damage is `Corrupt`).
pub fn read(dir: &Path) -> Result<Option<VaultFile>, VaultError> {
    let path = vault_path(dir);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let v: VaultFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, e.to_string()))?;
            validate(&v, &path)?;
            Ok(Some(v))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(VaultError::Io { path, source }),
    }
}

/// The vault of `dir`, which must exist: `Missing` beside a database, else `NoVault`.
fn read_existing(dir: &Path) -> Result<VaultFile, VaultError> {
    match read(dir)? {
        Some(v) => Ok(v),
        None => Err(absent(dir)),
    }
}

/// Why there is no vault: a database without its vault is `Missing`, an empty data dir `NoVault`.
fn absent(dir: &Path) -> VaultError {
    if has_database(dir) {
        VaultError::Missing { dir: dir.to_path_buf() }
    } else {
        VaultError::NoVault { dir: dir.to_path_buf() }
    }
}

/// Whether `dir` holds a database (its key would be lost if a new vault were made).
fn has_database(dir: &Path) -> bool {
    dir.join(DB_FILE).exists()
}

/// The exclusive lock on `vault.lock`: every writer of `vault.json` holds it (readers need not:
/// the file only ever changes by atomic rename). Released when dropped.
struct Lock {
    _file: File,
}

fn lock(dir: &Path) -> Result<Lock, VaultError> {
    let path = dir.join(LOCK_FILE);
    let io = |source| VaultError::Io { path: path.clone(), source };
    // The data dir holds the notes: private to its user (mode 0700 where it is made here).
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)?;
    let file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).map_err(io)?;
    file.lock().map_err(io)?;
    // A writer killed mid-write left its temporary file; nobody else writes while we hold the lock.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_str().is_some_and(is_temp_name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(Lock { _file: file })
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with(&format!(".{VAULT_FILE}.")) && name.ends_with(".tmp")
}

/// Replace `vault.json` atomically: a new temporary file (random name), synced, renamed over
/// it, and the directory synced so the rename itself survives a power cut.
fn write(dir: &Path, v: &VaultFile, _lock: &Lock) -> Result<(), VaultError> {
    let path = vault_path(dir);
    let mut v = v.clone();
    v.version = if v.recovery.is_some() { 2 } else { 1 };
    let bytes = serde_json::to_vec_pretty(&v).expect("serialisable");
    let tmp = dir.join(format!(".{VAULT_FILE}.{}.tmp", hex::encode(random::<8>(&path)?)));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        // The wrapped keys are no one else's business: other users cannot try passphrases offline.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        VaultError::Io { path: path.clone(), source }
    })?;
    // The new file is in place: an error now would hide a recovery key that was written.
    if let Err(e) = sync_dir(dir) {
        tracing::warn!("{}: syncing the folder after writing the vault: {e}", dir.display());
    }
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file; its renames are journaled by NTFS.
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Unlock `dir` with `credential`. With a passphrase, a data dir without a vault gets a new one
/// (random data key and recovery key; the recovery key is returned, once); never beside an
/// existing database (`Missing`).
pub fn open(dir: &Path, credential: &Credential) -> Result<Unlocked, VaultError> {
    match credential {
        Credential::Passphrase(passphrase) => match read(dir)? {
            Some(v) => Ok(Unlocked { key: unwrap_with_passphrase(&v, passphrase, dir)?, recovery_key: None }),
            None => create(dir, passphrase),
        },
        Credential::Keyring | Credential::RecoveryKey(_) => {
            Ok(Unlocked { key: unlock_existing(dir, credential)?, recovery_key: None })
        }
    }
}

/// Whether `credential` unlocks `dir`, which must have a vault (this never creates one).
pub fn check(dir: &Path, credential: &Credential) -> Result<(), VaultError> {
    unlock_existing(dir, credential).map(drop)
}

/// The data key of `dir`, which must have a vault.
fn unlock_existing(dir: &Path, credential: &Credential) -> Result<Key, VaultError> {
    let v = read_existing(dir)?;
    match credential {
        Credential::Passphrase(passphrase) => unwrap_with_passphrase(&v, passphrase, dir),
        Credential::Keyring => {
            let key = unlock_with_keyring(dir)?;
            // The keyring may hold the key of a vault since replaced (restored from a backup,
            // made again): say so here, not as a "wrong passphrase" from the database later.
            // The sealed recovery key opens only under the right data key (version-1 vaults
            // have none to check against).
            if let Some(r) = &v.recovery
                && let Err(Unsealed::Failed) = unwrap_bytes::<RECOVERY_BYTES>(&key, &r.sealed, &vault_path(dir))
            {
                return Err(VaultError::Keyring(
                    "the keyring holds a key that does not open this data dir's vault (was it restored or \
                     made again?); unlock with the passphrase, then turn keyring unlock on again"
                        .into(),
                ));
            }
            Ok(key)
        }
        Credential::RecoveryKey(rk) => unwrap_with_recovery_key(&v, rk, dir),
    }
}

fn unwrap_with_passphrase(v: &VaultFile, passphrase: &str, dir: &Path) -> Result<Key, VaultError> {
    let path = vault_path(dir);
    unwrap(&stretch(passphrase, v, &path)?, &v.wrapped_key, &path).map_err(|e| match e {
        Unsealed::Failed => VaultError::WrongPassphrase,
        Unsealed::Err(e) => e,
    })
}

fn unwrap_with_recovery_key(v: &VaultFile, rk: &RecoveryKey, dir: &Path) -> Result<Key, VaultError> {
    let path = vault_path(dir);
    let r = v.recovery.as_ref().ok_or_else(|| VaultError::NoRecoveryKey { path: path.clone() })?;
    unwrap(&recovery_kek(rk, &r.salt, &path)?, &r.wrapped_key, &path).map_err(|e| match e {
        Unsealed::Failed => VaultError::WrongRecoveryKey,
        Unsealed::Err(e) => e,
    })
}

/// A recovery key for `key`, with its part of `vault.json`.
fn new_recovery(key: &Key, path: &Path) -> Result<(RecoveryKey, RecoveryWrap), VaultError> {
    let rk = RecoveryKey::random(path)?;
    let salt = hex::encode(random::<16>(path)?);
    let wrapped_key = seal(&recovery_kek(&rk, &salt, path)?, key.as_ref(), path)?;
    let sealed = seal(key, rk.0.as_ref(), path)?;
    Ok((rk, RecoveryWrap { salt, wrapped_key, sealed }))
}

fn create(dir: &Path, passphrase: &str) -> Result<Unlocked, VaultError> {
    if passphrase.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    // Checked before the lock too, so a data dir that lost its vault gets no new file at all;
    // the vault is read again after the database check, since another first run may have made
    // both since this one looked (the vault is always written before the database).
    if has_database(dir) {
        return match read(dir)? {
            Some(v) => Ok(Unlocked { key: unwrap_with_passphrase(&v, passphrase, dir)?, recovery_key: None }),
            None => Err(VaultError::Missing { dir: dir.to_path_buf() }),
        };
    }
    let lock = lock(dir)?;
    // Another process may have made it while this one waited for the lock.
    if let Some(v) = read(dir)? {
        return Ok(Unlocked { key: unwrap_with_passphrase(&v, passphrase, dir)?, recovery_key: None });
    }
    if has_database(dir) {
        return Err(VaultError::Missing { dir: dir.to_path_buf() });
    }
    let path = vault_path(dir);
    // OWASP's Argon2id baseline (19 MiB, 2 passes): a few tens of ms here, fine on phones.
    let mut v = VaultFile {
        version: VERSION,
        salt: hex::encode(random::<16>(&path)?),
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
        wrapped_key: String::new(),
        keyring: false,
        recovery: None,
    };
    let key: Key = Zeroizing::new(random::<32>(&path)?);
    v.wrapped_key = seal(&stretch(passphrase, &v, &path)?, key.as_ref(), &path)?;
    let (rk, recovery) = new_recovery(&key, &path)?;
    v.recovery = Some(recovery);
    write(dir, &v, &lock)?;
    Ok(Unlocked { key, recovery_key: Some(rk) })
}

/// The data key of `dir`, unlocked with `passphrase`; a new vault if none exists (its recovery
/// key is then dropped unseen: apps use `open`, which returns it).
pub fn unlock(dir: &Path, passphrase: &str) -> Result<Key, VaultError> {
    Ok(open(dir, &Credential::Passphrase(passphrase.to_string()))?.key)
}

/// Change the passphrase: re-wrap the same data key (the database is not re-encrypted).
pub fn change_passphrase(dir: &Path, old: &str, new: &str) -> Result<(), VaultError> {
    set_passphrase(dir, &Credential::Passphrase(old.to_string()), new).map(drop)
}

/// Set a new passphrase with the recovery key (a forgotten passphrase); the old passphrase stops
/// working, the recovery key keeps working. Returns the data key.
pub fn recover(dir: &Path, recovery_key: &RecoveryKey, new: &str) -> Result<Key, VaultError> {
    set_passphrase(dir, &Credential::RecoveryKey(recovery_key.clone()), new)
}

fn set_passphrase(dir: &Path, credential: &Credential, new: &str) -> Result<Key, VaultError> {
    if new.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    read_existing(dir)?;
    let lock = lock(dir)?;
    let key = unlock_existing(dir, credential)?;
    let mut v = read_existing(dir)?;
    let path = vault_path(dir);
    v.salt = hex::encode(random::<16>(&path)?);
    v.wrapped_key = seal(&stretch(new, &v, &path)?, key.as_ref(), &path)?;
    write(dir, &v, &lock)?;
    Ok(key)
}

/// The recovery key of `dir`, after unlocking with `credential`. A version-1 vault (made before
/// recovery keys) gets one now, and keeps it: the next call shows the same key.
pub fn recovery_key(dir: &Path, credential: &Credential) -> Result<RecoveryKey, VaultError> {
    let unlocked = open(dir, credential)?;
    if let Some(rk) = unlocked.recovery_key {
        return Ok(rk);
    }
    let path = vault_path(dir);
    let show = |r: &RecoveryWrap| -> Result<RecoveryKey, VaultError> {
        let bytes = unwrap_bytes::<RECOVERY_BYTES>(&unlocked.key, &r.sealed, &path).map_err(|e| match e {
            Unsealed::Failed => corrupt(&path, "the recovery key does not open with this data key"),
            Unsealed::Err(e) => e,
        })?;
        Ok(RecoveryKey(bytes))
    };
    if let Some(r) = &read_existing(dir)?.recovery {
        return show(r);
    }
    let lock = lock(dir)?;
    let mut v = read_existing(dir)?;
    if let Some(r) = &v.recovery {
        return show(r);
    }
    let (rk, recovery) = new_recovery(&unlocked.key, &path)?;
    v.recovery = Some(recovery);
    write(dir, &v, &lock)?;
    Ok(rk)
}

/// Whether keyring unlock is enabled for `dir`.
pub fn keyring_enabled(dir: &Path) -> bool {
    read(dir).ok().flatten().is_some_and(|v| v.keyring)
}

/// Put the data key in the OS keyring (after unlocking with `credential`); says where it went.
pub fn enable_keyring(dir: &Path, credential: &Credential) -> Result<KeyringStore, VaultError> {
    let key = unlock_existing(dir, credential)?;
    let store = os_keyring::store(&account(dir), key.as_ref())?;
    let lock = lock(dir)?;
    let mut v = read_existing(dir)?;
    v.keyring = true;
    write(dir, &v, &lock)?;
    Ok(store)
}

/// Remove the data key from the OS keyring.
pub fn disable_keyring(dir: &Path) -> Result<(), VaultError> {
    os_keyring::remove(&account(dir))?;
    if read(dir)?.is_some_and(|v| v.keyring) {
        let lock = lock(dir)?;
        if let Some(mut v) = read(dir)? {
            v.keyring = false;
            write(dir, &v, &lock)?;
        }
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

/// Linux: the desktop's Secret Service first (GNOME Keyring, KWallet, KeePassXC over D-Bus:
/// kept across reboots, what desktop users expect); where none answers (no D-Bus session, no
/// keyring daemon: servers, containers, CI), the kernel keyring (keyutils: the user's persistent
/// keyring, linked into the session keyring; readable by the user's processes only, cleared at
/// reboot and after a few days unused).
#[cfg(target_os = "linux")]
mod os_keyring {
    use keyring::keyutils::KeyutilsCredential;
    use keyring::secret_service::SsCredential;
    use keyring::{Entry, Error};

    use super::{KEYRING_SERVICE, KeyringStore, VaultError};

    fn secret_service(account: &str) -> Result<Entry, Error> {
        let mut credential = SsCredential::new_with_target(None, KEYRING_SERVICE, account)?;
        // What keyring managers (Seahorse) list it as.
        credential.label = format!("Sotto notes key ({})", account.trim_start_matches("sotto:"));
        Ok(Entry::new_with_credential(Box::new(credential)))
    }

    fn kernel(account: &str) -> Result<Entry, Error> {
        // In a process without a session keyring (started outside a login session: a service,
        // CI), the first credential takes the user-session keyring as its session keyring, and
        // then, fetching the persistent keyring, joins a new session keyring: its key cannot be
        // linked (keyring-rs issue 266). The second credential sees the keyrings as they are now.
        let _ = KeyutilsCredential::new_with_target(None, KEYRING_SERVICE, account);
        Ok(Entry::new_with_credential(Box::new(KeyutilsCredential::new_with_target(None, KEYRING_SERVICE, account)?)))
    }

    fn refused(e: Error) -> VaultError {
        VaultError::Keyring(e.to_string())
    }

    pub fn store(account: &str, secret: &[u8]) -> Result<KeyringStore, VaultError> {
        match secret_service(account).and_then(|e| e.set_secret(secret)) {
            Ok(()) => {
                // A copy from a headless time must not outlive a later `keyring-off`.
                let _ = kernel(account).and_then(|e| e.delete_credential());
                Ok(KeyringStore::SecretService)
            }
            Err(ss) => {
                tracing::info!("no Secret Service ({ss}); keeping the key in the kernel keyring");
                kernel(account).and_then(|e| e.set_secret(secret)).map_err(|e| {
                    VaultError::Keyring(format!("no Secret Service ({ss}), and the kernel keyring refused: {e}"))
                })?;
                Ok(KeyringStore::Kernel)
            }
        }
    }

    pub fn load(account: &str) -> Result<Option<Vec<u8>>, VaultError> {
        match secret_service(account).and_then(|e| e.get_secret()) {
            Ok(secret) => return Ok(Some(secret)),
            Err(Error::NoEntry) => {}
            Err(e) => tracing::debug!("Secret Service: {e}"),
        }
        match kernel(account).and_then(|e| e.get_secret()) {
            Ok(secret) => Ok(Some(secret)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(refused(e)),
        }
    }

    pub fn remove(account: &str) -> Result<(), VaultError> {
        match secret_service(account).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(Error::NoEntry) => {}
            // No Secret Service: nothing of ours can be in it.
            Err(e) => tracing::debug!("Secret Service: {e}"),
        }
        match kernel(account).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(e) => Err(refused(e)),
        }
    }
}

/// macOS Keychain / Windows Credential Manager through the `keyring` crate.
#[cfg(any(target_os = "macos", target_os = "windows"))]
mod os_keyring {
    use super::{KEYRING_SERVICE, KeyringStore, VaultError};

    fn entry(account: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| VaultError::Keyring(e.to_string()))
    }

    pub fn store(account: &str, secret: &[u8]) -> Result<KeyringStore, VaultError> {
        entry(account)?.set_secret(secret).map_err(|e| VaultError::Keyring(e.to_string()))?;
        Ok(KeyringStore::Platform)
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
    use super::{KeyringStore, VaultError};

    pub fn store(_: &str, _: &[u8]) -> Result<KeyringStore, VaultError> {
        Err(VaultError::Keyring("use the platform keystore plugin on this OS".into()))
    }
    pub fn load(_: &str) -> Result<Option<Vec<u8>>, VaultError> {
        Ok(None)
    }
    pub fn remove(_: &str) -> Result<(), VaultError> {
        Ok(())
    }
}

/// Length of a sealed 32-byte key: nonce, ciphertext, tag.
const SEALED_KEY: usize = 12 + 32 + 16;

/// `secret` sealed under `kek` with a random nonce, hex.
fn seal(kek: &Key, secret: &[u8], path: &Path) -> Result<String, VaultError> {
    let nonce: [u8; 12] = random(path)?;
    let cipher = ChaCha20Poly1305::new(kek.as_ref().into());
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), secret).expect("sealing a few bytes cannot fail");
    Ok(hex::encode([nonce.as_slice(), &sealed].concat()))
}

enum Unsealed {
    /// The tag did not match: the wrong key (or a byte flipped in the ciphertext).
    Failed,
    Err(VaultError),
}

fn unwrap(kek: &Key, wrapped: &str, path: &Path) -> Result<Key, Unsealed> {
    unwrap_bytes::<32>(kek, wrapped, path)
}

fn unwrap_bytes<const N: usize>(kek: &Key, wrapped: &str, path: &Path) -> Result<Zeroizing<[u8; N]>, Unsealed> {
    let bytes = hex::decode(wrapped).map_err(|e| Unsealed::Err(corrupt(path, e.to_string())))?;
    if bytes.len() != 12 + N + 16 {
        return Err(Unsealed::Err(corrupt(path, "a wrapped key has the wrong length")));
    }
    let cipher = ChaCha20Poly1305::new(kek.as_ref().into());
    // Authentication failure is exactly "wrong key": the tag is checked before anything else.
    let plain =
        Zeroizing::new(cipher.decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..]).map_err(|_| Unsealed::Failed)?);
    let mut out = Zeroizing::new([0u8; N]);
    out.copy_from_slice(&plain);
    Ok(out)
}

#[cfg(test)]
mod tests;
