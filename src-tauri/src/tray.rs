//! Sotto in the tray: closing the window hides it (Settings: keep running), so reminders still
//! fire; the tray's menu shows the window again or quits. Started at login (`--minimized`),
//! the app starts there without its window.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, WebviewWindow, WindowEvent};

use crate::state::AppState;

/// The argument the login entry starts the app with.
pub const MINIMIZED: &str = "--minimized";

/// Put Sotto in the tray; whether it is there. Without the tray's library
/// (libayatana-appindicator3) the binding panics as it loads it: Sotto then runs without a tray
/// (and closing the window quits) instead of not starting.
pub fn install(app: &AppHandle) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(app))) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!("no tray icon: {e}");
            false
        }
        Err(_) => {
            tracing::warn!("no tray icon: the tray's library (libayatana-appindicator3) is missing");
            false
        }
    }
}

fn build(app: &AppHandle) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Sotto", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Sotto", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &quit])?;
    let mut tray =
        TrayIconBuilder::with_id("sotto").tooltip("Sotto").menu(&menu).on_menu_event(|app, event| {
            match event.id.as_ref() {
                "show" => show_window(app),
                "quit" => app.exit(0),
                _ => {}
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Show, unminimise and focus the main window.
pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Closing the main window hides it while the user wants Sotto kept running (and a tray icon
/// can bring it back).
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event
        && window.label() == "main"
        && window.app_handle().state::<AppState>().keep_running()
    {
        api.prevent_close();
        let _ = window.hide();
        tracing::info!("window hidden: Sotto keeps running in the tray");
    }
}

/// Started at login: no window until the user asks for it.
pub fn start_minimized(window: &WebviewWindow) {
    let _ = window.hide();
    tracing::info!("started minimized: Sotto runs in the tray");
}
