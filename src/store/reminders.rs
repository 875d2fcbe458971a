//! Reminders: "remind me at 5 to call Ana". A reminder is pending until it is done or cancelled;
//! snoozing moves its due time. Times are seconds since the Unix epoch, as for notes.

use std::fmt;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, now};

/// Where a reminder is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ReminderState {
    /// Waiting for its time (or due and not yet dealt with).
    Pending,
    /// Done.
    Done,
    /// Cancelled.
    Cancelled,
}

impl ReminderState {
    fn as_str(self) -> &'static str {
        match self {
            ReminderState::Pending => "pending",
            ReminderState::Done => "done",
            ReminderState::Cancelled => "cancelled",
        }
    }
    fn parse(s: &str) -> ReminderState {
        match s {
            "done" => ReminderState::Done,
            "cancelled" => ReminderState::Cancelled,
            _ => ReminderState::Pending,
        }
    }
}

impl fmt::Display for ReminderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reminder to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    /// When it is due, seconds since the Unix epoch.
    pub due_at: i64,
    /// What to be reminded of.
    pub text: String,
    /// The note it belongs to, if any.
    pub note_id: Option<i64>,
}

/// A saved reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reminder {
    /// Id.
    pub id: i64,
    /// When it is due (after a snooze, the new time), seconds since the Unix epoch.
    pub due_at: i64,
    /// What to be reminded of.
    pub text: String,
    /// Pending, done or cancelled.
    pub state: ReminderState,
    /// The note it belongs to (`None` also once that note is deleted).
    pub note_id: Option<i64>,
    /// When it was made, seconds since the Unix epoch (0 for reminders older than the column).
    pub created_at: i64,
}

const COLUMNS: &str = "id, due_at, text, state, note_id, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Reminder> {
    Ok(Reminder {
        id: r.get(0)?,
        due_at: r.get(1)?,
        text: r.get(2)?,
        state: ReminderState::parse(&r.get::<_, String>(3)?),
        note_id: r.get(4)?,
        created_at: r.get(5)?,
    })
}

impl Store {
    /// Save a reminder; returns its id. [`StoreError::NoSuchNote`] if `note_id` names none.
    pub fn add_reminder(&mut self, reminder: &NewReminder) -> Result<i64, StoreError> {
        let text = reminder.text.trim();
        if text.is_empty() {
            return Err(StoreError::EmptyReminder);
        }
        if let Some(note) = reminder.note_id {
            // Checked here for a typed error; the foreign key would only say "constraint failed".
            let exists: bool = self
                .conn
                .query_row("SELECT EXISTS (SELECT 1 FROM notes WHERE id = ?1)", [note], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            if !exists {
                return Err(StoreError::NoSuchNote(note));
            }
        }
        self.conn
            .execute(
                "INSERT INTO reminders (due_at, text, state, note_id, created_at) VALUES (?1, ?2, 'pending', ?3, ?4)",
                params![reminder.due_at, text, reminder.note_id, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// One reminder.
    pub fn reminder(&self, id: i64) -> Result<Reminder, StoreError> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM reminders WHERE id = ?1"), [id], row)
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or(StoreError::NoSuchReminder(id))
    }

    /// Reminders in `state` (all when `None`), soonest first.
    pub fn reminders(&self, state: Option<ReminderState>) -> Result<Vec<Reminder>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM reminders WHERE ?1 IS NULL OR state = ?1 ORDER BY due_at, id"))
            .map_err(|e| self.err(e))?;
        stmt.query_map([state.map(ReminderState::as_str)], row).and_then(Iterator::collect).map_err(|e| self.err(e))
    }

    /// Pending reminders due at or before `now`, most overdue first.
    pub fn due_reminders(&self, now: i64) -> Result<Vec<Reminder>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM reminders WHERE state = 'pending' AND due_at <= ?1 ORDER BY due_at, id"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_map([now], row).and_then(Iterator::collect).map_err(|e| self.err(e))
    }

    /// Mark a pending reminder done.
    pub fn complete_reminder(&mut self, id: i64) -> Result<Reminder, StoreError> {
        self.settle_reminder(id, "state = 'done'", params![id])
    }

    /// Cancel a pending reminder.
    pub fn cancel_reminder(&mut self, id: i64) -> Result<Reminder, StoreError> {
        self.settle_reminder(id, "state = 'cancelled'", params![id])
    }

    /// Move a pending reminder's due time to `until`.
    pub fn snooze_reminder(&mut self, id: i64, until: i64) -> Result<Reminder, StoreError> {
        self.settle_reminder(id, "due_at = ?2", params![id, until])
    }

    /// Make a cancelled reminder pending again (undoing a cancel).
    pub fn reopen_reminder(&mut self, id: i64) -> Result<Reminder, StoreError> {
        let n = self
            .conn
            .execute("UPDATE reminders SET state = 'pending' WHERE id = ?1 AND state = 'cancelled'", params![id])
            .map_err(|e| self.err(e))?;
        let reminder = self.reminder(id)?;
        if n == 0 {
            return Err(StoreError::ReminderNotPending { id, state: reminder.state });
        }
        Ok(reminder)
    }

    /// Apply `set` to reminder `id` if it is pending; a typed error says why not otherwise.
    fn settle_reminder(&mut self, id: i64, set: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Reminder, StoreError> {
        // One statement checks and changes: two processes cannot both settle the same reminder.
        let n = self
            .conn
            .execute(&format!("UPDATE reminders SET {set} WHERE id = ?1 AND state = 'pending'"), params)
            .map_err(|e| self.err(e))?;
        let reminder = self.reminder(id)?;
        if n == 0 {
            return Err(StoreError::ReminderNotPending { id, state: reminder.state });
        }
        Ok(reminder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewNote;
    use crate::store::tests::open_temp;

    fn new(due_at: i64, text: &str) -> NewReminder {
        NewReminder { due_at, text: text.into(), note_id: None }
    }

    #[test]
    fn reminders_fall_due_snooze_and_settle() {
        let (_dir, mut store) = open_temp();
        let call = store.add_reminder(&new(1_000, " call Ana ")).unwrap();
        let bins = store.add_reminder(&new(2_000, "take the bins out")).unwrap();
        let later = store.add_reminder(&new(9_000, "water the plants")).unwrap();
        assert_eq!(store.reminder(call).unwrap().text, "call Ana");
        assert!(store.reminder(call).unwrap().created_at > 1_600_000_000);

        let due = |store: &Store, at| store.due_reminders(at).unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert!(due(&store, 999).is_empty());
        assert_eq!(due(&store, 1_000), [call], "due at the second itself");
        assert_eq!(due(&store, 5_000), [call, bins]);

        let cancelled = store.cancel_reminder(later).unwrap();
        assert_eq!(store.reopen_reminder(later).unwrap().state, ReminderState::Pending);
        assert!(store.reopen_reminder(later).is_err(), "only a cancelled one reopens: {cancelled:?}");
        let snoozed = store.snooze_reminder(call, 3_000).unwrap();
        assert_eq!((snoozed.due_at, snoozed.state), (3_000, ReminderState::Pending));
        assert_eq!(due(&store, 2_500), [bins]);
        assert_eq!(store.complete_reminder(bins).unwrap().state, ReminderState::Done);
        assert_eq!(store.cancel_reminder(later).unwrap().state, ReminderState::Cancelled);
        assert_eq!(due(&store, 10_000), [call], "done and cancelled ones are never due");

        // Settled reminders stay settled; unknown ids are typed errors.
        for r in [store.complete_reminder(bins), store.snooze_reminder(later, 1), store.cancel_reminder(bins)] {
            assert!(matches!(r, Err(StoreError::ReminderNotPending { .. })), "{r:?}");
        }
        assert_eq!(store.reminder(later).unwrap().due_at, 9_000);
        assert!(matches!(store.complete_reminder(77), Err(StoreError::NoSuchReminder(77))));
        assert!(matches!(store.snooze_reminder(77, 5), Err(StoreError::NoSuchReminder(77))));
        assert!(matches!(store.add_reminder(&new(1, "  ")), Err(StoreError::EmptyReminder)));

        let states = |s| store.reminders(Some(s)).unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(states(ReminderState::Pending), [call]);
        assert_eq!(states(ReminderState::Done), [bins]);
        assert_eq!(store.reminders(None).unwrap().len(), 3);

        // A reminder outlives its note, unlinked.
        let note = store.add_note(&NewNote { body: "call Ana about the flat".into(), ..NewNote::default() }).unwrap();
        let linked = store.add_reminder(&NewReminder { note_id: Some(note), ..new(4_000, "call Ana") }).unwrap();
        assert_eq!(store.reminder(linked).unwrap().note_id, Some(note));
        store.delete(note).unwrap();
        assert_eq!(store.reminder(linked).unwrap().note_id, None);
        let r = store.add_reminder(&NewReminder { note_id: Some(note), ..new(4_000, "x") });
        assert!(matches!(r, Err(StoreError::NoSuchNote(_))), "{r:?}");
    }
}
