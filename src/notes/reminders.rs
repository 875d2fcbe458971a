//! Reminders, through the library (voice commands make them: "remind me at five to call Ana").

use super::{Library, NotesError};
use crate::store::{NewReminder, Reminder, ReminderState};

impl Library {
    /// Save a reminder; returns its id.
    pub fn add_reminder(&self, reminder: &NewReminder) -> Result<i64, NotesError> {
        Ok(self.store().add_reminder(reminder)?)
    }

    /// One reminder.
    pub fn reminder(&self, id: i64) -> Result<Reminder, NotesError> {
        Ok(self.store().reminder(id)?)
    }

    /// Reminders in `state` (all when `None`), soonest first.
    pub fn reminders(&self, state: Option<ReminderState>) -> Result<Vec<Reminder>, NotesError> {
        Ok(self.store().reminders(state)?)
    }

    /// Pending reminders due at or before `now` (seconds since the Unix epoch), most overdue first.
    pub fn due_reminders(&self, now: i64) -> Result<Vec<Reminder>, NotesError> {
        Ok(self.store().due_reminders(now)?)
    }

    /// Mark a pending reminder done.
    pub fn complete_reminder(&self, id: i64) -> Result<Reminder, NotesError> {
        Ok(self.store().complete_reminder(id)?)
    }

    /// Move a pending reminder's due time to `until`.
    pub fn snooze_reminder(&self, id: i64, until: i64) -> Result<Reminder, NotesError> {
        Ok(self.store().snooze_reminder(id, until)?)
    }

    /// Cancel a pending reminder.
    pub fn cancel_reminder(&self, id: i64) -> Result<Reminder, NotesError> {
        Ok(self.store().cancel_reminder(id)?)
    }

    /// Make a cancelled reminder pending again.
    pub fn reopen_reminder(&self, id: i64) -> Result<Reminder, NotesError> {
        Ok(self.store().reopen_reminder(id)?)
    }
}
