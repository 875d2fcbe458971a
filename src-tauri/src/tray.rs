//! Sotto in the tray: closing the window hides it (Settings: keep running), so reminders still
//! fire; the tray's menu shows the window again, starts or stops dictating into the focused
//! app, copies one of the last dictations again, or quits. Started at login (`--minimized`), the
//! app starts there without its window.

use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, WebviewWindow, WindowEvent, Wry};

use crate::anywhere::{self, Control};
use crate::state::AppState;

/// The tray icon's id.
const TRAY: &str = "sotto";
/// Characters of a recent dictation shown in the menu.
const LABEL_CHARS: usize = 48;

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
    let mut tray = TrayIconBuilder::with_id(TRAY).tooltip("Sotto").menu(&menu(app)?).on_menu_event(|app, event| {
        match event.id.as_ref() {
            "show" => show_window(app),
            "dictate" => anywhere::control(app, Control::Toggle),
            "quit" => app.exit(0),
            id => {
                if let Some(text) = recent_choice(id).and_then(|i| anywhere::recent(app).get(i).cloned())
                    && let Err(e) = anywhere::insert::copy(&text)
                {
                    tracing::warn!("a recent dictation could not be copied: {e}");
                }
            }
        }
    });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// The tray's menu as things stand: whether a dictation runs, the last dictations.
fn menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let state = app.state::<AppState>();
    let show = MenuItem::with_id(app, "show", "Show Sotto", true, None::<&str>)?;
    let dictate = MenuItem::with_id(app, "dictate", dictate_label(state.dictating()), true, None::<&str>)?;
    let recent: Vec<MenuItem<Wry>> = anywhere::recent(app)
        .iter()
        .enumerate()
        .map(|(i, text)| MenuItem::with_id(app, format!("recent:{i}"), recent_label(text), true, None::<&str>))
        .collect::<tauri::Result<_>>()?;
    let items: Vec<&dyn IsMenuItem<Wry>> = recent.iter().map(|i| i as &dyn IsMenuItem<Wry>).collect();
    let again = Submenu::with_items(app, "Copy a recent dictation", !items.is_empty(), &items)?;
    let line = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Sotto", true, None::<&str>)?;
    Menu::with_items(app, &[&show, &dictate, &again, &line, &quit])
}

/// Rebuild the tray's menu: a dictation started or ended, or a new one went in. Posted to the
/// main thread, never waited for: callers include single-instance's D-Bus handler, whose
/// `sotto-app --toggle` waits for it (building a menu elsewhere waits for the main thread, and
/// the second toggle of a test once hung there).
pub fn refresh(app: &AppHandle) {
    let handle = app.clone();
    let posted = app.run_on_main_thread(move || {
        let Some(tray) = handle.tray_by_id(TRAY) else { return };
        if let Err(e) = menu(&handle).and_then(|m| tray.set_menu(Some(m))) {
            tracing::warn!("the tray's menu could not be updated: {e}");
        }
    });
    if let Err(e) = posted {
        tracing::warn!("the tray's menu could not be updated: {e}");
    }
}

/// The dictation item's words.
fn dictate_label(dictating: bool) -> &'static str {
    if dictating { "Stop dictating" } else { "Start dictating into the focused app" }
}

/// A recent dictation as a menu item shows it: its start, on one line.
fn recent_label(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(LABEL_CHARS) {
        Some((at, _)) => format!("{}…", line[..at].trim_end()),
        None => line,
    }
}

/// Which recent dictation (0: the newest) a menu item id names.
fn recent_choice(id: &str) -> Option<usize> {
    id.strip_prefix("recent:")?.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recent_dictation_shows_its_start_on_one_line() {
        assert_eq!(recent_label("Buy  some\nmilk."), "Buy some milk.");
        let long = "And so my fellow Americans ask not what your country can do for you";
        let label = recent_label(long);
        assert_eq!(label, "And so my fellow Americans ask not what your cou…");
        assert_eq!(label.chars().count(), LABEL_CHARS + 1);
        assert_eq!(
            recent_label("Ça coûte très cher à Zürich, écrivait-elle à sa sœur ce matin-là"),
            "Ça coûte très cher à Zürich, écrivait-elle à sa…"
        );
    }

    #[test]
    fn menu_ids_name_the_recent_dictation() {
        assert_eq!(recent_choice("recent:0"), Some(0));
        assert_eq!(recent_choice("recent:4"), Some(4));
        assert_eq!(recent_choice("recent:x"), None);
        assert_eq!(recent_choice("quit"), None);
        assert_ne!(dictate_label(true), dictate_label(false));
    }
}
