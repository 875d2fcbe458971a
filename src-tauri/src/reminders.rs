//! Reminders that fire on the desktop. tauri-plugin-notification shows a notification at once
//! and ignores a schedule there (scheduling exists on phones only), so the app keeps the clock
//! itself: while it runs and the notes are unlocked, each reminder that falls due gets one
//! notification; those that fell due while Sotto was closed fire at the next unlock, marked
//! late. The page lists due reminders with snooze and done until the user deals with them.

use std::collections::HashSet;
use std::time::Duration;

use sotto::store::Reminder;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::state::AppState;

/// How often the due list is read (one indexed query).
const TICK: Duration = Duration::from_secs(2);
/// A reminder this many seconds past its time when first seen is "late".
const LATE_SECS: i64 = 60;

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
    if let Err(e) = app.notification().builder().title(title).body(&r.text).show() {
        // No notification service (a bare session): the page's due list still shows it.
        tracing::warn!("reminder {}: no desktop notification: {e}", r.id);
    }
}
