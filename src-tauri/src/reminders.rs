//! Reminders that fire on the desktop. tauri-plugin-notification shows a notification at once
//! and ignores a schedule there (scheduling exists on phones only), so the app keeps the clock
//! itself: while it runs and the notes are unlocked, each reminder that falls due gets one
//! notification; those that fell due while Sotto was closed fire at the next unlock, marked
//! late. The page lists due reminders with snooze and done until the user deals with them.
//!
//! On Linux the notification itself has Snooze and Done buttons (notify-rust, the plugin's own
//! backend, over the desktop's notification service); the plugin's desktop notifications have
//! no actions.

use std::collections::HashSet;
use std::time::Duration;

use sotto::store::Reminder;
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// How often the due list is read (one indexed query).
const TICK: Duration = Duration::from_secs(2);
/// A reminder this many seconds past its time when first seen is "late".
const LATE_SECS: i64 = 60;
/// How far the notification's Snooze moves a reminder (the page's Snooze too).
const SNOOZE_SECS: i64 = 10 * 60;

/// Start the reminder clock.
pub fn watch(app: AppHandle) {
    let _ = std::thread::Builder::new().name("sotto-reminders".into()).spawn(move || {
        // Each (reminder, due time) notified once: a snooze makes a new due time.
        let mut notified: HashSet<(i64, i64)> = HashSet::new();
        loop {
            std::thread::sleep(TICK);
            let Ok(library) = app.state::<AppState>().library() else { continue };
            let now = jiff::Timestamp::now().as_second();
            let due = match library.due_reminders(now) {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!("reminders: {e}");
                    continue;
                }
            };
            for r in due {
                if notified.insert((r.id, r.due_at)) {
                    notify(&app, &r, now - r.due_at > LATE_SECS);
                }
            }
        }
    });
}

fn notify(app: &AppHandle, r: &Reminder, late: bool) {
    let title = if late { "Reminder (late)" } else { "Reminder" };
    tracing::info!("reminder {} due{}", r.id, if late { ", late" } else { "" });
    if let Err(e) = show(app, r, title) {
        // No notification service (a bare session): the page's due list still shows it.
        tracing::warn!("reminder {}: no desktop notification: {e}", r.id);
    }
}

/// A notification with Snooze and Done; the chosen action is applied to the reminder.
#[cfg(target_os = "linux")]
fn show(app: &AppHandle, r: &Reminder, title: &str) -> Result<(), String> {
    let handle = notify_rust::Notification::new()
        .appname("Sotto")
        .summary(title)
        .body(&r.text)
        .action("default", "Open Sotto")
        .action("snooze", "Snooze 10 min")
        .action("done", "Done")
        .show()
        .map_err(|e| e.to_string())?;
    let (app, id) = (app.clone(), r.id);
    // Waits for the user (or the notification's closing) on its own thread.
    let _ = std::thread::Builder::new().name("sotto-reminder-action".into()).spawn(move || {
        handle.wait_for_action(|action| act(&app, id, action));
    });
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn show(app: &AppHandle, r: &Reminder, title: &str) -> Result<(), String> {
    use tauri_plugin_notification::NotificationExt;
    app.notification().builder().title(title).body(&r.text).show().map_err(|e| e.to_string())
}

/// What a click on the notification does.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn act(app: &AppHandle, id: i64, action: &str) {
    let Ok(library) = app.state::<AppState>().library() else { return };
    let done = match action {
        "snooze" => library.snooze_reminder(id, jiff::Timestamp::now().as_second() + SNOOZE_SECS).map(drop),
        "done" => library.complete_reminder(id).map(drop),
        "default" => {
            crate::tray::show_window(app);
            Ok(())
        }
        _ => Ok(()),
    };
    match done {
        Ok(()) => tracing::info!("reminder {id}: {action} from the notification"),
        Err(e) => tracing::warn!("reminder {id}: {action} from the notification failed: {e}"),
    }
}
