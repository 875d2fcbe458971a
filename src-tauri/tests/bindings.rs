//! The page's TypeScript declarations (`web/src/lib/bindings/`) are written from the Rust types
//! by ts-rs. This test writes them afresh and fails when the committed ones differ, so the page
//! and the commands cannot drift apart; `SOTTO_UPDATE_BINDINGS=1` rewrites them instead.
//! Run with `--features ts` (`make test` does).
#![cfg(feature = "ts")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

/// Every type the page receives or sends, with what they contain.
fn export_all(dir: &Path) {
    use sotto_app::commands::{assistant, models, notes, settings, vault};
    // 64-bit integers (ids, times in ms) arrive as JSON numbers, which JavaScript reads as `number`.
    let cfg = &Config::new().with_large_int("number").with_out_dir(dir);
    let results = [
        vault::VaultStatus::export_all(cfg),
        vault::Unlocked::export_all(cfg),
        notes::NoteDetail::export_all(cfg),
        notes::TagCount::export_all(cfg),
        sotto::store::NoteSummary::export_all(cfg),
        sotto::store::ListOptions::export_all(cfg),
        sotto::notes::Hit::export_all(cfg),
        sotto::export::NoteFormat::export_all(cfg),
        sotto::dictation::SessionEvent::export_all(cfg),
        sotto::store::Settings::export_all(cfg),
        sotto_app::jobs::JobEvent::export_all(cfg),
        models::ModelRow::export_all(cfg),
        settings::AppInfo::export_all(cfg),
        settings::Microphone::export_all(cfg),
        sotto_app::error::ErrorPayload::export_all(cfg),
        assistant::Understood::export_all(cfg),
        assistant::Undo::export_all(cfg),
        sotto::store::Reminder::export_all(cfg),
        sotto_app::anywhere::shortcuts::ShortcutStatus::export_all(cfg),
        sotto_app::anywhere::AnywhereEvent::export_all(cfg),
    ];
    for r in results {
        r.expect("ts-rs writes the declaration");
    }
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_pages_type_declarations_are_those_of_the_rust_types() {
    let committed_dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src/lib/bindings");
    let fresh_dir = tempfile::tempdir().unwrap();
    export_all(fresh_dir.path());
    let fresh = files(fresh_dir.path());
    assert!(fresh.contains_key("SessionEvent.ts") && fresh.contains_key("JobEvent.ts"), "{:?}", fresh.keys());
    for text in fresh.values() {
        assert!(!text.contains("bigint"), "64-bit integers must be numbers:\n{text}");
    }
    if std::env::var_os("SOTTO_UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &fresh {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
        return;
    }
    let committed = files(&committed_dir);
    let stale: Vec<&String> =
        fresh.keys().chain(committed.keys()).filter(|n| fresh.get(*n) != committed.get(*n)).collect();
    assert!(
        stale.is_empty(),
        "web/src/lib/bindings is stale ({stale:?}): run `SOTTO_UPDATE_BINDINGS=1 cargo test -p sotto-app --features ts --test bindings`"
    );
}
