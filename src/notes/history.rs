//! The history of dictation into other apps, through the library: kept for the days the settings
//! say (`history_days`; 0 keeps nothing), older texts forgotten as new ones come.

use super::{Library, NotesError};
use crate::store::{Dictation, now};

/// Seconds in a day.
const DAY: i64 = 86_400;

impl Library {
    /// Keep `text` in the history if the settings keep any, and forget what they no longer keep.
    pub fn remember_dictation(&self, text: &str) -> Result<(), NotesError> {
        let days = self.settings()?.history_days;
        let mut store = self.store();
        if days > 0 {
            store.add_dictation(text)?;
        }
        store.forget_dictations(cutoff(days))?;
        Ok(())
    }

    /// The last `limit` dictations kept, newest first.
    pub fn dictations(&self, limit: usize) -> Result<Vec<Dictation>, NotesError> {
        Ok(self.store().dictations(limit)?)
    }

    /// Forget what the settings no longer keep (everything when they keep no history); returns
    /// how many went.
    pub fn prune_dictations(&self) -> Result<usize, NotesError> {
        let days = self.settings()?.history_days;
        Ok(self.store().forget_dictations(cutoff(days))?)
    }

    /// Forget every dictation; returns how many went.
    pub fn clear_dictations(&self) -> Result<usize, NotesError> {
        Ok(self.store().forget_dictations(i64::MAX)?)
    }
}

/// Dictations made before this are no longer kept.
fn cutoff(days: u32) -> i64 {
    if days == 0 { i64::MAX } else { now() - i64::from(days) * DAY }
}
