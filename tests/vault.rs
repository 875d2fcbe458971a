//! The vault with real processes and real files: concurrent first runs, kill -9 during a
//! passphrase change, a missing or damaged vault.json, the recovery key, and the OS keyring
//! (the kernel keyring fallback, and a real Secret Service: gnome-keyring on a private D-Bus).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sotto::notes::{Library, NotesError};
use sotto::vault::{self, LOCK_FILE, VAULT_FILE, VaultError};

const PASS: &str = "correct horse battery staple";
/// A D-Bus address nothing listens on: the Secret Service is unreachable, as on a server.
const NO_BUS: &str = "unix:path=/nonexistent/sotto-test-no-bus";

/// `sotto` on `data` with `env` set (a `None` value removes the variable).
fn cmd(args: &[&str], data: &Path, env: &[(&str, Option<&str>)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sotto"));
    c.args(args)
        .env("SOTTO_DATA_DIR", data)
        .env("SOTTO_MODELS_DIR", cache().join("models"))
        .env_remove("SOTTO_MODEL")
        .env_remove("SOTTO_PASSPHRASE")
        .env_remove("SOTTO_NEW_PASSPHRASE")
        .env_remove("SOTTO_RECOVERY_KEY")
        .stdin(Stdio::null());
    for (k, v) in env {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

fn run(args: &[&str], data: &Path, env: &[(&str, Option<&str>)]) -> Output {
    cmd(args, data, env).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A failure with a one-line message containing `expect`.
fn fails(o: &Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expect), "expected {expect:?}: {stderr}");
}

/// A failure whose last line contains `expect` (a warning may come first).
fn fails_after_warnings(o: &Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.trim_end().lines().last().unwrap_or("").contains(expect), "expected {expect:?}: {stderr}");
}

/// The recovery key in a command's stderr, if it printed one.
fn recovery_key_in(o: &Output) -> Option<String> {
    String::from_utf8_lossy(&o.stderr)
        .split_whitespace()
        .find(|w| w.parse::<vault::RecoveryKey>().is_ok())
        .map(String::from)
}

/// Every file directly in `dir`, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// Deterministic delays for the kill test.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

#[test]
fn eight_first_runs_at_once_make_one_vault_and_keep_every_note() {
    let data = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..8)
        .map(|i| {
            cmd(
                &["note", "add", "--text", &format!("note number {i} of the first runs")],
                data.path(),
                &[("SOTTO_PASSPHRASE", Some(PASS))],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for o in &outputs {
        ok(o);
    }
    let keys: Vec<String> = outputs.iter().filter_map(recovery_key_in).collect();
    assert_eq!(keys.len(), 1, "one process made the vault and showed its recovery key");
    assert!(temp_files(data.path()).is_empty());

    let lib = Library::open(data.path(), PASS, None).unwrap();
    let notes = lib.list().unwrap();
    assert_eq!(notes.len(), 8);
    for i in 0..8 {
        let body = format!("note number {i} of the first runs");
        assert!(notes.iter().any(|n| lib.get(n.id).unwrap().body == body), "{body} is readable");
    }
    drop(lib);
    // The key shown is the vault's.
    let rk: vault::RecoveryKey = keys[0].parse().unwrap();
    assert_eq!(
        *vault::open(data.path(), &vault::Credential::RecoveryKey(rk)).unwrap().key,
        *vault::unlock(data.path(), PASS).unwrap()
    );
}

#[test]
fn kill_9_during_a_passphrase_change_leaves_the_old_or_the_new_passphrase_working() {
    let data = tempfile::tempdir().unwrap();
    let bodies = ["first note before the kills", "second note before the kills", "third note before the kills"];
    for body in bodies {
        ok(&run(&["note", "add", "--text", body], data.path(), &[("SOTTO_PASSPHRASE", Some(PASS))]));
    }
    // How long a whole change takes (process start, three Argon2 runs, the write; the median of
    // three): the kills land anywhere from before it starts to well after it has finished.
    let mut times = Vec::new();
    let mut current = PASS.to_string();
    for i in 0..3 {
        let next = format!("warm-up {i}");
        let started = Instant::now();
        ok(&run(
            &["vault", "passphrase"],
            data.path(),
            &[("SOTTO_PASSPHRASE", Some(&current)), ("SOTTO_NEW_PASSPHRASE", Some(&next))],
        ));
        times.push(started.elapsed());
        current = next;
    }
    times.sort();
    let whole = times[1];
    let mut rng = Lcg(14);
    let (mut kept, mut changed) = (0, 0);
    for trial in 1..=20 {
        let next = format!("p{trial}");
        let mut child = cmd(
            &["vault", "passphrase"],
            data.path(),
            &[("SOTTO_PASSPHRASE", Some(&current)), ("SOTTO_NEW_PASSPHRASE", Some(&next))],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(whole.as_micros() as u64 * 3 / 2)));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();

        let old_opens = vault::check(data.path(), &vault::Credential::Passphrase(current.clone())).is_ok();
        let new_opens = vault::check(data.path(), &vault::Credential::Passphrase(next.clone())).is_ok();
        assert!(old_opens ^ new_opens, "trial {trial}: exactly one of the two opens ({old_opens}, {new_opens})");
        if new_opens {
            changed += 1;
            current = next;
        } else {
            kept += 1;
        }
        let lib = Library::open(data.path(), &current, None).unwrap();
        let notes = lib.list().unwrap();
        assert_eq!(notes.len(), bodies.len(), "trial {trial}");
        for n in notes {
            assert!(bodies.contains(&lib.get(n.id).unwrap().body.as_str()));
        }
    }
    eprintln!("20 kills in {whole:?}-long changes: {kept} kept the old passphrase, {changed} had the new one");
    // The next change clears what killed writers left.
    ok(&run(
        &["vault", "passphrase"],
        data.path(),
        &[("SOTTO_PASSPHRASE", Some(&current)), ("SOTTO_NEW_PASSPHRASE", Some(PASS))],
    ));
    assert!(temp_files(data.path()).is_empty());
    assert_eq!(Library::open(data.path(), PASS, None).unwrap().list().unwrap().len(), bodies.len());
}

#[test]
fn a_missing_vault_beside_a_database_is_an_error_that_creates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let pass = [("SOTTO_PASSPHRASE", Some(PASS))];
    ok(&run(&["note", "add", "--text", "a note whose key must not be lost"], data.path(), &pass));
    std::fs::remove_file(data.path().join(VAULT_FILE)).unwrap();
    std::fs::remove_file(data.path().join(LOCK_FILE)).unwrap();
    let before = snapshot(data.path());
    for args in [
        &["note", "list"][..],
        &["note", "add", "--text", "another"],
        &["vault", "passphrase"],
        &["vault", "recovery-key"],
    ] {
        let o = run(args, data.path(), &[("SOTTO_PASSPHRASE", Some(PASS)), ("SOTTO_NEW_PASSPHRASE", Some("new"))]);
        fails(&o, "vault.json is missing");
        fails(&o, "backup");
        assert_eq!(snapshot(data.path()), before, "{args:?} wrote nothing");
    }
    let o = run(
        &["vault", "recover"],
        data.path(),
        &[
            ("SOTTO_RECOVERY_KEY", Some("0000-0000-0000-0000-0000-0000-0000-0000")),
            ("SOTTO_NEW_PASSPHRASE", Some("new")),
        ],
    );
    fails(&o, "vault.json is missing");
    assert_eq!(snapshot(data.path()), before);
    assert!(matches!(Library::open(data.path(), PASS, None), Err(NotesError::Vault(VaultError::Missing { .. }))));
    assert!(!data.path().join(VAULT_FILE).exists() && !data.path().join(LOCK_FILE).exists());
}

#[test]
fn a_damaged_vault_is_an_error_and_stays_as_it_was() {
    let data = tempfile::tempdir().unwrap();
    let pass = [("SOTTO_PASSPHRASE", Some(PASS)), ("SOTTO_NEW_PASSPHRASE", Some("new"))];
    ok(&run(&["note", "add", "--text", "a note"], data.path(), &pass));
    let good = std::fs::read_to_string(data.path().join(VAULT_FILE)).unwrap();
    for bad in [
        String::new(),
        good[..good.len() - 40].to_string(),
        good.replace("\"wrapped_key\": \"", "\"wrapped_key\": \"zz"),
    ] {
        std::fs::write(data.path().join(VAULT_FILE), &bad).unwrap();
        let before = snapshot(data.path());
        for args in
            [&["note", "list"][..], &["vault", "passphrase"], &["vault", "recovery-key"], &["vault", "keyring-on"]]
        {
            let o = run(args, data.path(), &pass);
            fails(&o, "is damaged");
            fails(&o, "backup");
            assert_eq!(snapshot(data.path()), before, "{args:?} changed nothing");
        }
    }
    std::fs::write(data.path().join(VAULT_FILE), &good).unwrap();
    assert!(
        ok(&run(&["note", "list"], data.path(), &pass)).contains("a note"),
        "restored from the backup, all is well"
    );
}

#[test]
fn the_recovery_key_sets_a_new_passphrase_and_retires_the_old_one() {
    let data = tempfile::tempdir().unwrap();
    let with = |p: &'static str| [("SOTTO_PASSPHRASE", Some(p))];
    let first = run(&["note", "add", "--text", "remember the recovery key"], data.path(), &with("forgotten"));
    ok(&first);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("write it down"), "{stderr}");
    let key = recovery_key_in(&first).expect("the first run shows the recovery key");
    // Only once.
    let second = run(&["note", "list"], data.path(), &with("forgotten"));
    assert!(ok(&second).contains("remember the recovery key"));
    assert!(recovery_key_in(&second).is_none() && second.stderr.is_empty());
    // Shown again on request, after an unlock.
    assert_eq!(ok(&run(&["vault", "recovery-key"], data.path(), &with("forgotten"))).trim(), key);
    fails(&run(&["vault", "recovery-key"], data.path(), &with("guess")), "wrong passphrase");

    let recover = |rk: &str, new: &str| {
        run(
            &["vault", "recover"],
            data.path(),
            &[("SOTTO_RECOVERY_KEY", Some(rk)), ("SOTTO_NEW_PASSPHRASE", Some(new))],
        )
    };
    let vault_before = std::fs::read(data.path().join(VAULT_FILE)).unwrap();
    fails(&recover("not-a-key", "x"), "not a recovery key");
    fails(&recover(&"Z".repeat(32), "x"), "wrong recovery key");
    fails(&recover(&key, ""), "the passphrase is empty");
    assert_eq!(std::fs::read(data.path().join(VAULT_FILE)).unwrap(), vault_before, "failed attempts change nothing");
    // Typed sloppily: lower case, spaces.
    ok(&recover(&key.to_lowercase().replace('-', " "), "remembered"));
    fails(&run(&["note", "list"], data.path(), &with("forgotten")), "wrong passphrase");
    assert!(ok(&run(&["note", "list"], data.path(), &with("remembered"))).contains("remember the recovery key"));
    assert_eq!(ok(&run(&["vault", "recovery-key"], data.path(), &with("remembered"))).trim(), key, "the same key");
    // Without a terminal or the variables, it says what to set.
    fails(&run(&["vault", "recover"], data.path(), &[]), "SOTTO_RECOVERY_KEY");
    fails(&run(&["vault", "recover"], data.path(), &[("SOTTO_RECOVERY_KEY", Some(&key))]), "SOTTO_NEW_PASSPHRASE");
}

#[test]
fn keyring_falls_back_to_the_kernel_keyring_without_a_secret_service() {
    let data = tempfile::tempdir().unwrap();
    let no_bus = ("DBUS_SESSION_BUS_ADDRESS", Some(NO_BUS));
    ok(&run(
        &["note", "add", "--text", "kept behind the kernel keyring"],
        data.path(),
        &[("SOTTO_PASSPHRASE", Some(PASS))],
    ));
    let on = run(&["vault", "keyring-on"], data.path(), &[("SOTTO_PASSPHRASE", Some(PASS)), no_bus]);
    ok(&on);
    assert!(String::from_utf8_lossy(&on.stderr).contains("kernel keyring"), "{}", String::from_utf8_lossy(&on.stderr));
    assert!(ok(&run(&["note", "list"], data.path(), &[no_bus])).contains("kept behind the kernel keyring"));
    // The keyring also shows the recovery key.
    assert!(ok(&run(&["vault", "recovery-key"], data.path(), &[no_bus])).trim().parse::<vault::RecoveryKey>().is_ok());
    ok(&run(&["vault", "keyring-off"], data.path(), &[no_bus]));
    fails(&run(&["note", "list"], data.path(), &[no_bus]), "set SOTTO_PASSPHRASE");
}

#[test]
fn a_keyring_key_that_does_not_open_the_vault_is_said_so_and_the_passphrase_still_works() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let no_bus = ("DBUS_SESSION_BUS_ADDRESS", Some(NO_BUS));
    for (dir, text) in [(&a, "a note of A"), (&b, "a note of B")] {
        ok(&run(&["note", "add", "--text", text], dir.path(), &[("SOTTO_PASSPHRASE", Some(PASS))]));
        ok(&run(&["vault", "keyring-on"], dir.path(), &[("SOTTO_PASSPHRASE", Some(PASS)), no_bus]));
    }
    // A restored from B's backup: A's keyring entry still holds A's own, old key.
    for file in [VAULT_FILE, sotto::store::DB_FILE] {
        std::fs::copy(b.path().join(file), a.path().join(file)).unwrap();
    }
    let list = run(&["note", "list"], a.path(), &[no_bus]);
    fails_after_warnings(&list, "set SOTTO_PASSPHRASE");
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert!(stderr.contains("does not open this data dir's vault"), "{stderr}");
    let listed = ok(&run(&["note", "list"], a.path(), &[("SOTTO_PASSPHRASE", Some(PASS)), no_bus]));
    assert!(listed.contains("a note of B"), "{listed}");
    for dir in [&a, &b] {
        ok(&run(&["vault", "keyring-off"], dir.path(), &[no_bus]));
    }
}

/// A private session bus with gnome-keyring's Secret Service on it, its keyring files in a temp
/// dir; the processes end with it.
struct SecretService {
    dir: tempfile::TempDir,
    bus: Child,
    keyring: Option<Child>,
    address: String,
}

impl SecretService {
    fn start() -> Self {
        for tool in ["dbus-daemon", "dbus-send", "gnome-keyring-daemon"] {
            assert!(
                Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap().status.success(),
                "{tool} is missing: run `make fixtures` (it installs the apt packages)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let run_dir = dir.path().join("run");
        std::fs::create_dir(&run_dir).unwrap();
        std::fs::set_permissions(&run_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--address=unix:path={}", run_dir.join("bus").display()))
            .stdout(Stdio::piped())
            // It only warns that it cannot raise its file limit.
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let mut ss = SecretService { dir, bus, keyring: None, address: address.trim().to_string() };
        assert!(ss.address.starts_with("unix:"), "{:?}", ss.address);
        ss.start_keyring();
        ss
    }

    /// gnome-keyring's secrets component, its login keyring unlocked (made on the first start).
    fn start_keyring(&mut self) {
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        keyring.stdin.take().unwrap().write_all(b"login password").unwrap();
        self.keyring = Some(keyring);
        let started = Instant::now();
        loop {
            let owned = Command::new("dbus-send")
                .envs(self.env())
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/",
                    "org.freedesktop.DBus.NameHasOwner",
                ])
                .arg("string:org.freedesktop.secrets")
                .output()
                .unwrap();
            if String::from_utf8_lossy(&owned.stdout).contains("boolean true") {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "gnome-keyring never took the bus name");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop_keyring(&mut self) {
        if let Some(mut k) = self.keyring.take() {
            let _ = k.kill();
            let _ = k.wait();
        }
        // Gone from the bus before the next start.
        std::thread::sleep(Duration::from_millis(200));
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let d = self.dir.path();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone()),
            ("XDG_RUNTIME_DIR", d.join("run").display().to_string()),
            ("XDG_DATA_HOME", d.join("data").display().to_string()),
            ("XDG_CONFIG_HOME", d.join("config").display().to_string()),
            ("HOME", d.display().to_string()),
        ]
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        self.stop_keyring();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

#[test]
fn keyring_uses_a_running_secret_service_which_keeps_the_key_across_restarts() {
    let mut ss = SecretService::start();
    let data = tempfile::tempdir().unwrap();
    let bus = ss.address.clone();
    let on_bus = ("DBUS_SESSION_BUS_ADDRESS", Some(bus.as_str()));
    let no_bus = ("DBUS_SESSION_BUS_ADDRESS", Some(NO_BUS));
    ok(&run(
        &["note", "add", "--text", "kept in the secret service"],
        data.path(),
        &[("SOTTO_PASSPHRASE", Some(PASS))],
    ));
    let on = run(&["vault", "keyring-on"], data.path(), &[("SOTTO_PASSPHRASE", Some(PASS)), on_bus]);
    ok(&on);
    assert!(String::from_utf8_lossy(&on.stderr).contains("Secret Service"), "{}", String::from_utf8_lossy(&on.stderr));
    assert!(ok(&run(&["note", "list"], data.path(), &[on_bus])).contains("kept in the secret service"));
    // Only there: unreachable, there is no key (nothing went to the kernel keyring).
    fails_after_warnings(&run(&["note", "list"], data.path(), &[no_bus]), "set SOTTO_PASSPHRASE");
    // On disk in the keyring daemon's files: a restart (as a reboot) keeps it.
    ss.stop_keyring();
    ss.start_keyring();
    assert!(ok(&run(&["note", "list"], data.path(), &[on_bus])).contains("kept in the secret service"));
    ok(&run(&["vault", "keyring-off"], data.path(), &[on_bus]));
    fails(&run(&["note", "list"], data.path(), &[on_bus]), "set SOTTO_PASSPHRASE");
    fails(&run(&["note", "list"], data.path(), &[no_bus]), "set SOTTO_PASSPHRASE");
    assert!(
        ok(&run(&["note", "list"], data.path(), &[("SOTTO_PASSPHRASE", Some(PASS))]))
            .contains("kept in the secret service")
    );
}
