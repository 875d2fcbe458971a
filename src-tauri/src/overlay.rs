//! The overlay: a small window at the bottom of the screen that shows, while dictating into
//! another app, that Sotto listens, the input level and the live text (the page's `Overlay`,
//! fed by the `anywhere` events). It never takes the focus: the words go into the app that has
//! it. Only where the window system lets an app place such a window: on X11, Windows and macOS,
//! not on Wayland, where an app can neither place a window nor keep it from the focus without
//! the layer-shell protocol.

use tauri::{AppHandle, Manager, PhysicalPosition, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use crate::anywhere::insert::Desktop;

/// The overlay window's label (its capability names it).
pub const LABEL: &str = "overlay";
/// Its size in logical pixels.
const SIZE: (f64, f64) = (440.0, 72.0);
/// Its gap to the bottom of the screen, logical pixels (above most panels and docks).
const BOTTOM: f64 = 96.0;

/// Show the overlay (made on first use, kept hidden between dictations).
pub fn show(app: &AppHandle) {
    if Desktop::current() == Desktop::Wayland {
        tracing::debug!("no overlay on Wayland");
        return;
    }
    let window = match app.get_webview_window(LABEL) {
        Some(window) => window,
        None => match build(app) {
            Ok(window) => window,
            Err(e) => return tracing::warn!("the overlay cannot be made: {e}"),
        },
    };
    place(&window);
    if let Err(e) = window.show() {
        tracing::warn!("the overlay cannot be shown: {e}");
    }
}

/// Hide the overlay, if it is there.
pub fn hide(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LABEL)
        && let Err(e) = window.hide()
    {
        tracing::warn!("the overlay cannot be hidden: {e}");
    }
}

fn build(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html#overlay".into()))
        .title("Sotto is listening")
        .inner_size(SIZE.0, SIZE.1)
        .decorations(false)
        .resizable(false)
        .always_on_top(true)
        .visible_on_all_workspaces(true)
        .skip_taskbar(true)
        .shadow(false)
        // Never the focus: the text goes into the app the user was in.
        .focused(false)
        .focusable(false)
        .visible(false)
        .build()
}

/// Bottom centre of the screen the overlay is on (the primary one at first).
fn place(window: &WebviewWindow) {
    let monitor = window.current_monitor().ok().flatten().or_else(|| window.primary_monitor().ok().flatten());
    let Some(monitor) = monitor else { return };
    let (scale, size, origin) = (monitor.scale_factor(), monitor.size(), monitor.position());
    let (w, h) = ((SIZE.0 * scale) as i32, (SIZE.1 * scale) as i32);
    let x = origin.x + (size.width as i32 - w) / 2;
    let y = origin.y + size.height as i32 - h - (BOTTOM * scale) as i32;
    if let Err(e) = window.set_position(PhysicalPosition::new(x, y)) {
        tracing::debug!("the overlay cannot be placed: {e}");
    }
}
