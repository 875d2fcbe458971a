//! What the page may do is written down in `capabilities/*.json` and the CSP of
//! `tauri.conf.json`. This test fails on anything outside an explicit allow-list, so a new
//! plugin permission, a remote origin or `unsafe-eval` cannot slip in unnoticed.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// Plugin and core permissions the page needs: the system's open dialog, and the events that
/// carry drops on the window. Not `dialog:allow-save`: exports go through a dialog the app opens,
/// so the page never names a file to write. `notification:allow-is-permission-granted`: the
/// notification plugin's script asks it as every page loads (refused, the refusal surfaced as
/// an error on screen); it only reads whether notifications may be shown, and the page sends none.
const PLUGIN_PERMISSIONS: &[&str] = &[
    "core:event:allow-listen",
    "core:event:allow-unlisten",
    "dialog:allow-open",
    "notification:allow-is-permission-granted",
];

/// The overlay window (`overlay.rs`) only listens to the dictation's events.
const OVERLAY_PERMISSIONS: &[&str] = &["core:event:allow-listen", "core:event:allow-unlisten"];

/// Phones only (`capabilities/mobile.json`, platforms android and iOS): the lock view's biometric
/// prompt and the vault's status (never its key), the device report for the model settings,
/// and asking for the notification permission that reminders need.
const MOBILE_PERMISSIONS: &[&str] = &[
    "biometric:allow-authenticate",
    "biometric:allow-status",
    "notification:allow-request-permission",
    "sotto-vault:default",
    "sotto-device:default",
];

/// Plugins that would hand the page the machine: never.
const FORBIDDEN_CRATES: &[&str] =
    &["tauri-plugin-shell", "tauri-plugin-fs", "tauri-plugin-http", "tauri-plugin-process", "tauri-plugin-updater"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(manifest_dir().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The quoted names in `"…",` lines between `start` and the next `end`.
fn quoted_list(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("{start:?} not found"));
    let body = &text[from..from + text[from..].find(end).unwrap()];
    body.lines().filter_map(|l| l.trim().strip_prefix('"')?.split('"').next().map(str::to_string)).collect()
}

/// Commands the app registers (`generate_handler!` in lib.rs).
fn handled_commands() -> BTreeSet<String> {
    let lib = read("src/lib.rs");
    let from = lib.find("generate_handler![").unwrap();
    let body = &lib[from..from + lib[from..].find("])").unwrap()];
    body.lines().filter_map(|l| l.trim().strip_suffix(',')?.rsplit("::").next().map(str::to_string)).collect()
}

#[test]
fn every_command_is_declared_and_granted_and_nothing_else_is() {
    let declared = quoted_list(&read("build.rs"), "const COMMANDS", "];");
    let handled = handled_commands();
    assert_eq!(declared, handled, "build.rs COMMANDS and lib.rs generate_handler! must list the same commands");
    let mut granted = BTreeSet::new();
    for entry in std::fs::read_dir(manifest_dir().join("capabilities")).unwrap().flatten() {
        let cap: Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        assert!(cap.get("remote").is_none(), "{:?}: no remote URL may call commands", entry.path());
        let overlay = cap["windows"] == serde_json::json!(["overlay"]);
        let mobile = cap.get("platforms").is_some();
        if mobile {
            assert_eq!(cap["platforms"], serde_json::json!(["android", "iOS"]), "{:?}: phones only", entry.path());
        }
        assert!(overlay || cap["windows"] == serde_json::json!(["main"]), "{:?}: main or overlay", entry.path());
        for p in cap["permissions"].as_array().expect("a permissions list") {
            let p = p.as_str().expect("permissions are plain identifiers, without scopes");
            let ok = if overlay {
                OVERLAY_PERMISSIONS.contains(&p)
            } else if mobile {
                MOBILE_PERMISSIONS.contains(&p)
            } else {
                PLUGIN_PERMISSIONS.contains(&p)
                    || p.strip_prefix("allow-").is_some_and(|c| declared.contains(&c.replace('-', "_")))
            };
            assert!(ok, "{:?} grants {p:?}, which is not on the allow-list", entry.path());
            granted.insert(p.to_string());
        }
    }
    for c in &declared {
        assert!(granted.contains(&format!("allow-{}", c.replace('_', "-"))), "command {c} is never granted");
    }
}

#[test]
fn the_csp_allows_only_the_app_itself() {
    let conf: Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
    let security = &conf["app"]["security"];
    let csp = security["csp"].as_object().expect("a CSP is set (as an object of directives)");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    for (directive, value) in csp {
        let value = value.as_str().unwrap();
        for source in value.split_whitespace() {
            let allowed = matches!(source, "'self'" | "'none'" | "data:" | "blob:" | "ipc:" | "http://ipc.localhost")
                && !(source == "data:" && directive != "img-src")
                && !(source == "blob:" && directive != "media-src");
            assert!(allowed, "CSP {directive} allows {source:?}");
        }
    }
    assert!(security.get("dangerousDisableAssetCspModification").is_none());
    assert_eq!(security["assetProtocol"]["enable"], false, "the asset protocol stays off");
    assert_eq!(conf["app"]["withGlobalTauri"], false, "no window.__TAURI__ for injected scripts");
    assert!(security.get("devCsp").is_none(), "one CSP, the shipped one");
}

#[test]
fn no_plugin_that_opens_the_machine_to_the_page() {
    let cargo = read("Cargo.toml");
    for name in FORBIDDEN_CRATES {
        assert!(!cargo.contains(name), "Cargo.toml depends on {name}");
    }
    let package: Value = serde_json::from_str(&read("../web/package.json")).unwrap();
    for section in ["dependencies", "devDependencies"] {
        for name in package[section].as_object().into_iter().flat_map(|m| m.keys()) {
            assert!(
                !["@tauri-apps/plugin-shell", "@tauri-apps/plugin-fs", "@tauri-apps/plugin-http"]
                    .contains(&name.as_str()),
                "web/package.json uses {name}"
            );
        }
    }
}

/// The phone builds' configuration (not buildable here: no iOS or Android SDK): the identifier,
/// the permission strings the stores reject an app without, and the Android permissions the
/// plugins' manifests merge in (exact alarms: reminders on the minute).
#[test]
fn the_phone_builds_ask_for_what_they_use() {
    for platform in ["ios", "android"] {
        let conf: Value = serde_json::from_str(&read(&format!("tauri.{platform}.conf.json"))).unwrap();
        assert_eq!(conf["identifier"], "app.sotto", "{platform}");
        assert_eq!(conf["app"]["windows"][0]["label"], "main", "{platform}: the window the capabilities name");
    }
    let plist = read("Info.ios.plist");
    for key in ["NSMicrophoneUsageDescription", "NSFaceIDUsageDescription"] {
        let at = plist.find(&format!("<key>{key}</key>")).unwrap_or_else(|| panic!("Info.ios.plist lacks {key}"));
        let text = plist[at..].split("<string>").nth(1).unwrap().split("</string>").next().unwrap();
        assert!(text.len() > 20, "{key}: a sentence the user reads, not {text:?}");
    }
    let manifest = read("../mobile-plugins/device/android/src/main/AndroidManifest.xml");
    for permission in ["RECORD_AUDIO", "POST_NOTIFICATIONS", "SCHEDULE_EXACT_ALARM", "USE_BIOMETRIC"] {
        assert!(manifest.contains(&format!("android.permission.{permission}")), "Android: {permission}");
    }
    let cargo = read("Cargo.toml");
    let mobile = cargo.split("[target.'cfg(any(target_os = \"android\", target_os = \"ios\"))'.dependencies]").nth(1);
    assert!(mobile.is_some_and(|m| m.contains("tauri-plugin-biometric")), "the biometric plugin on phones");
}
