//! An empty Tauri 2 app: one window, a page with a line of text, and one command that answers
//! at once (the IPC round trip's floor). `bench/app` measures Sotto's app beside it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// Answers at once.
#[tauri::command]
fn ping() -> &'static str {
    "pong"
}

fn main() {
    let app = tauri::Builder::default().invoke_handler(tauri::generate_handler![ping]);
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("empty-tauri-app: {e}");
        std::process::exit(1);
    }
}
