//! Sotto's app: a thin Tauri 2 shell over the `sotto` core. Wiring only: the state, the
//! plugins, the page's commands (`commands/`), and files handed to the app on its command line.

pub mod anywhere;
pub mod commands;
mod dictation;
pub mod error;
mod imports;
pub mod jobs;
mod microphone;
mod overlay;
mod reminders;
mod speech;
pub mod state;
mod tray;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tauri::Manager;

use crate::state::{AppState, Config};

/// Audio files among command-line arguments (`sotto-app FILE…`, "Open with"), made absolute
/// against the directory the command ran in.
pub fn files_in_args(args: &[String], cwd: &Path) -> Vec<PathBuf> {
    args.iter().filter(|a| !a.starts_with('-')).map(|a| cwd.join(a)).collect()
}

/// Start the app.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let config = Config::from_env();
    let builder = tauri::Builder::default()
        // First: a second `sotto-app FILE…` hands its files to this instance and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, cwd| {
            let args = argv.get(1..).unwrap_or_default();
            // `sotto-app --toggle` (a key bound in the desktop's settings): dictation, not the window.
            if let Some(control) = anywhere::Control::from_args(args) {
                anywhere::control(app, control);
                return;
            }
            let files = files_in_args(args, Path::new(&cwd));
            if !files.is_empty() {
                imports::queue(app, files);
            }
            tray::show_window(app);
        }))
        .plugin(anywhere::shortcuts::plugin())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        // What the device offers the models (battery and heat included), and the notes' key
        // (behind biometrics on phones): mobile-plugins/.
        .plugin(tauri_plugin_sotto_device::init())
        .plugin(tauri_plugin_sotto_vault::init(config.data_dir.clone()))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![tray::MINIMIZED]),
        ))
        .on_window_event(tray::on_window_event)
        .manage(AppState::new(config))
        .setup(|app| {
            let args: Vec<String> = std::env::args().skip(1).collect();
            let cwd = std::env::current_dir().unwrap_or_default();
            let files = files_in_args(&args, &cwd);
            if !files.is_empty() {
                imports::queue(app.handle(), files);
            }
            let in_tray = tray::install(app.handle());
            app.state::<AppState>().set_tray(in_tray);
            if in_tray
                && args.iter().any(|a| a == tray::MINIMIZED)
                && let Some(window) = app.get_webview_window("main")
            {
                tray::start_minimized(&window);
            }
            if let Some(control) = anywhere::Control::from_args(&args) {
                control_once_unlocked(app.handle().clone(), control);
            }
            release_idle_models(app.handle().clone());
            reminders::watch(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::vault::vault_status,
            commands::vault::unlock,
            commands::vault::unlock_with_keyring,
            commands::vault::lock,
            commands::vault::change_passphrase,
            commands::notes::list_notes,
            commands::notes::get_note,
            commands::notes::edit_note,
            commands::notes::tag_note,
            commands::notes::list_tags,
            commands::notes::delete_note,
            commands::notes::add_text_note,
            commands::notes::export_note,
            commands::notes::note_audio,
            commands::notes::search_notes,
            commands::jobs::watch_jobs,
            commands::jobs::import_files,
            commands::jobs::cancel_job,
            commands::dictate::start_dictation,
            commands::dictate::stop_dictation,
            commands::dictate::cancel_dictation,
            commands::models::list_models,
            commands::models::download_model,
            commands::models::remove_model,
            commands::models::verify_model,
            commands::settings::get_settings,
            commands::settings::set_setting,
            commands::settings::app_info,
            commands::settings::list_microphones,
            commands::settings::set_replacements,
            commands::settings::clear_dictation_history,
            commands::settings::shortcut_status,
            commands::assistant::run_command,
            commands::assistant::undo_command,
            commands::reminders::list_reminders,
            commands::reminders::due_reminders,
            commands::reminders::complete_reminder,
            commands::reminders::snooze_reminder,
            commands::reminders::cancel_reminder,
        ]);
    if let Err(e) = builder.run(tauri::generate_context!()) {
        eprintln!("sotto-app: {e}");
        std::process::exit(1);
    }
}

/// `sotto-app --start` (or `--toggle`) with no Sotto running: it starts, and dictation starts
/// once the notes are unlocked (at once with the keyring or `$SOTTO_PASSPHRASE`; within a minute
/// by hand, or not at all).
fn control_once_unlocked(app: tauri::AppHandle, control: anywhere::Control) {
    if !matches!(control, anywhere::Control::Start | anywhere::Control::Toggle) {
        return;
    }
    let _ = std::thread::Builder::new().name("sotto-control".into()).spawn(move || {
        for _ in 0..600 {
            if app.state::<AppState>().is_unlocked() {
                anywhere::control(&app, control);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        tracing::info!("{control:?} from the command line: the notes stayed locked");
    });
}

/// Release the speech model and the embedder once each has been idle for the chosen time.
fn release_idle_models(app: tauri::AppHandle) {
    let _ = std::thread::Builder::new().name("sotto-idle".into()).spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let state = app.state::<AppState>();
            let Some(idle) = state.idle_release() else { continue };
            state.speech.release_if_idle(idle);
            if state.release_idle_assistant(idle) {
                tracing::info!("assistant released after {idle:?} unused");
            }
            if let Ok(library) = state.library()
                && library.release_idle_embedder(idle)
            {
                tracing::info!("embedder released after {idle:?} unused");
            }
        }
    });
}
