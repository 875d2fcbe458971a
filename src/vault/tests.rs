use super::*;

fn pass(p: &str) -> Credential {
    Credential::Passphrase(p.to_string())
}

/// Every file in `dir` with its bytes, to show that nothing was written.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> =
        std::fs::read_dir(dir).unwrap().flatten().map(|e| (e.path(), std::fs::read(e.path()).unwrap())).collect();
    files.sort();
    files
}

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
    assert!(matches!(change_passphrase(dir.path(), "battery staple", ""), Err(VaultError::EmptyPassphrase)));
    let text = std::fs::read_to_string(dir.path().join(VAULT_FILE)).unwrap();
    assert!(!text.contains(&hex::encode(key.as_ref())), "the key is never stored in the clear");
    let names: Vec<_> = snapshot(dir.path()).into_iter().map(|(p, _)| p.file_name().unwrap().to_owned()).collect();
    assert_eq!(names, [VAULT_FILE, LOCK_FILE], "no temporary file is left behind");
}

#[test]
fn an_empty_passphrase_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(open(dir.path(), &pass("")), Err(VaultError::EmptyPassphrase)));
    assert!(snapshot(dir.path()).is_empty());
}

#[test]
fn recovery_key_text_round_trips_and_forgives_typing() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..50 {
        let rk = RecoveryKey::random(dir.path()).unwrap();
        let text = rk.to_text();
        assert_eq!(text.len(), 39, "{}", *text);
        assert_eq!(text.split('-').count(), 8);
        assert!(text.split('-').all(|g| g.len() == 4));
        assert_eq!(text.parse::<RecoveryKey>().unwrap(), rk);
        // Lower case, spaces instead of dashes, O for 0 and l for 1 are read the same.
        let typed: String = text
            .to_lowercase()
            .replace('-', " ")
            .chars()
            .map(|c| {
                if c == '0' {
                    'o'
                } else if c == '1' {
                    'l'
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(typed.parse::<RecoveryKey>().unwrap(), rk, "{typed}");
    }
    let zero = RecoveryKey(Zeroizing::new([0; RECOVERY_BYTES]));
    assert_eq!(*zero.to_text(), "0000-0000-0000-0000-0000-0000-0000-0000");
    let ones = RecoveryKey(Zeroizing::new([0xff; RECOVERY_BYTES]));
    assert_eq!(*ones.to_text(), "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ");
    assert_eq!(format!("{ones:?}"), "RecoveryKey(…)", "Debug never shows it");
    for bad in ["", "ABCD-EFGH", "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-Z", "UUUU-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"]
    {
        assert!(matches!(bad.parse::<RecoveryKey>(), Err(VaultError::BadRecoveryKey(_))), "{bad:?}");
    }
}

#[test]
fn the_recovery_key_wraps_the_data_key_and_sets_a_new_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let made = open(dir.path(), &pass("forgotten")).unwrap();
    let rk = made.recovery_key.expect("a new vault comes with its recovery key");
    // Only the call that made the vault returns it.
    assert!(open(dir.path(), &pass("forgotten")).unwrap().recovery_key.is_none());
    let by_rk = open(dir.path(), &Credential::RecoveryKey(rk.clone())).unwrap();
    assert_eq!(*by_rk.key, *made.key, "the recovery key unwraps the same data key");
    let text = std::fs::read_to_string(dir.path().join(VAULT_FILE)).unwrap();
    assert!(!text.contains(&*rk.to_text()) && !text.contains(&hex::encode(rk.0.as_ref())), "kept sealed only");
    let v = read(dir.path()).unwrap().unwrap();
    assert_eq!(v.version, 2);

    // Another vault's recovery key is refused as such, not as damage.
    let other = open(tempfile::tempdir().unwrap().path(), &pass("x")).unwrap().recovery_key.unwrap();
    assert!(matches!(open(dir.path(), &Credential::RecoveryKey(other.clone())), Err(VaultError::WrongRecoveryKey)));
    assert!(matches!(recover(dir.path(), &other, "new"), Err(VaultError::WrongRecoveryKey)));

    // Shown again after an unlock, by any credential.
    assert_eq!(recovery_key(dir.path(), &pass("forgotten")).unwrap(), rk);
    assert_eq!(recovery_key(dir.path(), &Credential::RecoveryKey(rk.clone())).unwrap(), rk);

    // Recovery: a new passphrase, the old one retired, the recovery key still good.
    assert_eq!(*recover(dir.path(), &rk, "remembered").unwrap(), *made.key);
    assert_eq!(*unlock(dir.path(), "remembered").unwrap(), *made.key);
    assert!(matches!(unlock(dir.path(), "forgotten"), Err(VaultError::WrongPassphrase)));
    assert_eq!(*open(dir.path(), &Credential::RecoveryKey(rk.clone())).unwrap().key, *made.key);
    assert_eq!(recovery_key(dir.path(), &pass("remembered")).unwrap(), rk);
}

#[test]
fn a_version_1_vault_opens_and_gets_a_recovery_key_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let key = unlock(dir.path(), "old").unwrap();
    // What Sotto wrote before recovery keys.
    let mut v = read(dir.path()).unwrap().unwrap();
    v.version = 1;
    v.recovery = None;
    std::fs::write(dir.path().join(VAULT_FILE), serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join(VAULT_FILE)).unwrap()).unwrap();
    assert!(json.get("recovery").is_none());

    assert_eq!(*unlock(dir.path(), "old").unwrap(), *key);
    let any = RecoveryKey::random(dir.path()).unwrap();
    assert!(matches!(open(dir.path(), &Credential::RecoveryKey(any.clone())), Err(VaultError::NoRecoveryKey { .. })));
    assert!(matches!(recover(dir.path(), &any, "new"), Err(VaultError::NoRecoveryKey { .. })));
    // A passphrase change keeps it version 1.
    change_passphrase(dir.path(), "old", "older").unwrap();
    assert_eq!(read(dir.path()).unwrap().unwrap().version, 1);

    assert!(matches!(recovery_key(dir.path(), &pass("wrong")), Err(VaultError::WrongPassphrase)));
    assert!(read(dir.path()).unwrap().unwrap().recovery.is_none(), "nothing made without the passphrase");
    let rk = recovery_key(dir.path(), &pass("older")).unwrap();
    assert_eq!(recovery_key(dir.path(), &pass("older")).unwrap(), rk, "made once, then shown");
    assert_eq!(read(dir.path()).unwrap().unwrap().version, 2);
    assert_eq!(*open(dir.path(), &Credential::RecoveryKey(rk)).unwrap().key, *key);
    assert_eq!(*unlock(dir.path(), "older").unwrap(), *key);
}

#[test]
fn a_database_without_its_vault_is_missing_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DB_FILE), b"encrypted pages").unwrap();
    let before = snapshot(dir.path());
    for credential in
        [pass("anything"), Credential::Keyring, Credential::RecoveryKey(RecoveryKey::random(dir.path()).unwrap())]
    {
        match open(dir.path(), &credential) {
            Err(e @ VaultError::Missing { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("vault.json is missing") && msg.contains("backup"), "{msg}");
            }
            Err(e) => panic!("{credential:?}: {e}"),
            Ok(_) => panic!("{credential:?}: opened"),
        }
    }
    assert!(matches!(change_passphrase(dir.path(), "a", "b"), Err(VaultError::Missing { .. })));
    assert!(matches!(recovery_key(dir.path(), &pass("a")), Err(VaultError::Missing { .. })));
    assert_eq!(snapshot(dir.path()), before, "no vault, no lock file, nothing");
    // Without a database it is simply new.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(open(empty.path(), &Credential::Keyring), Err(VaultError::NoVault { .. })));
    assert!(matches!(enable_keyring(empty.path(), &pass("a")), Err(VaultError::NoVault { .. })));
    assert!(matches!(change_passphrase(empty.path(), "a", "b"), Err(VaultError::NoVault { .. })));
    assert!(matches!(check(empty.path(), &pass("a")), Err(VaultError::NoVault { .. })));
    assert!(snapshot(empty.path()).is_empty());
}

#[test]
fn a_damaged_vault_is_corrupt_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    unlock(dir.path(), "pass").unwrap();
    let good = std::fs::read_to_string(dir.path().join(VAULT_FILE)).unwrap();
    let v: VaultFile = serde_json::from_str(&good).unwrap();
    let with = |f: &dyn Fn(&mut VaultFile)| {
        let mut v = v.clone();
        f(&mut v);
        serde_json::to_string(&v).unwrap()
    };
    let damaged = [
        String::new(),
        good[..good.len() / 2].to_string(),
        "not json".into(),
        "{}".into(),
        good.replace("\"salt\"", "\"pepper\""),
        with(&|v| v.salt = "zz".repeat(16)),
        with(&|v| v.wrapped_key.truncate(40)),
        with(&|v| v.m_kib = 0),
        // One damaged digit must not ask Argon2 for terabytes or for billions of passes.
        with(&|v| v.m_kib = 4_000_000_000),
        with(&|v| v.t = 2_000_000_000),
        with(&|v| v.recovery = None),
        with(&|v| v.recovery.as_mut().unwrap().sealed.push_str("00")),
    ];
    for bad in damaged {
        std::fs::write(dir.path().join(VAULT_FILE), &bad).unwrap();
        let before = snapshot(dir.path());
        for result in [
            open(dir.path(), &pass("pass")).map(drop),
            change_passphrase(dir.path(), "pass", "new"),
            recovery_key(dir.path(), &pass("pass")).map(drop),
            enable_keyring(dir.path(), &pass("pass")).map(drop),
        ] {
            match result {
                Err(e @ VaultError::Corrupt { .. }) => {
                    assert!(e.to_string().contains("backup"), "{e}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert_eq!(snapshot(dir.path()), before, "{bad:?}: the file is unchanged");
    }
    std::fs::write(dir.path().join(VAULT_FILE), with(&|v| v.version = 3)).unwrap();
    assert!(matches!(unlock(dir.path(), "pass"), Err(VaultError::TooNew { version: 3, .. })));
}

#[test]
fn a_writer_killed_mid_write_leaves_only_a_temporary_file_which_the_next_one_removes() {
    let dir = tempfile::tempdir().unwrap();
    let key = unlock(dir.path(), "pass").unwrap();
    let stale = dir.path().join(format!(".{VAULT_FILE}.0011223344556677.tmp"));
    std::fs::write(&stale, b"{\"version\": 2, \"sa").unwrap();
    assert_eq!(*unlock(dir.path(), "pass").unwrap(), *key, "readers never look at it");
    change_passphrase(dir.path(), "pass", "next").unwrap();
    assert!(!stale.exists());
}

#[test]
fn keyring_unlock_is_opt_in_and_reversible() {
    let dir = tempfile::tempdir().unwrap();
    let key = unlock(dir.path(), "pass").unwrap();
    assert!(matches!(unlock_with_keyring(dir.path()), Err(VaultError::NotInKeyring(_))));
    assert!(matches!(open(dir.path(), &Credential::Keyring), Err(VaultError::NotInKeyring(_))));
    assert!(matches!(enable_keyring(dir.path(), &pass("wrong")), Err(VaultError::WrongPassphrase)));
    enable_keyring(dir.path(), &pass("pass")).unwrap();
    assert_eq!(*unlock_with_keyring(dir.path()).unwrap(), *key);
    assert_eq!(*open(dir.path(), &Credential::Keyring).unwrap().key, *key);
    // The keyring can show the recovery key and set a new passphrase, too.
    assert_eq!(
        recovery_key(dir.path(), &Credential::Keyring).unwrap(),
        recovery_key(dir.path(), &pass("pass")).unwrap()
    );
    disable_keyring(dir.path()).unwrap();
    assert!(matches!(unlock_with_keyring(dir.path()), Err(VaultError::NotInKeyring(_))));
    assert_eq!(*unlock(dir.path(), "pass").unwrap(), *key, "the passphrase still works");
}
