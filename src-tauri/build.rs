//! Tauri's build step and where the app finds whisper.cpp's shared libraries.
//!
//! - The app's commands are listed here, so each needs a permission (`allow-<command>`) that a
//!   capability in `capabilities/` grants: a command no capability names cannot be called.
//! - Like the core's own binaries, the app finds whisper.cpp's shared libraries beside itself
//!   (or in `../lib/sotto` of an installed package); the core's build.rs says why.

/// Every `#[tauri::command]` of `src/commands/`.
const COMMANDS: &[&str] = &[
    "vault_status",
    "unlock",
    "unlock_with_keyring",
    "lock",
    "change_passphrase",
    "list_notes",
    "get_note",
    "edit_note",
    "tag_note",
    "list_tags",
    "delete_note",
    "add_text_note",
    "export_note",
    "note_audio",
    "search_notes",
    "watch_jobs",
    "import_files",
    "cancel_job",
    "start_dictation",
    "stop_dictation",
    "cancel_dictation",
    "list_models",
    "download_model",
    "remove_model",
    "verify_model",
    "get_settings",
    "set_setting",
    "app_info",
    "list_microphones",
    "set_replacements",
    "clear_dictation_history",
    "shortcut_status",
    "run_command",
    "undo_command",
    "list_reminders",
    "due_reminders",
    "complete_reminder",
    "snooze_reminder",
    "cancel_reminder",
];

fn main() {
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux" | "android" | "freebsd") => {
            println!("cargo::rustc-link-arg=-Wl,-rpath,$ORIGIN:$ORIGIN/../lib/sotto")
        }
        Ok("macos" | "ios") => println!("cargo::rustc-link-arg=-Wl,-rpath,@executable_path"),
        _ => {}
    }
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build");
}
