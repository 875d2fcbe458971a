use std::path::{Path, PathBuf};

use super::ReminderState;

/// Why the note store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key (passphrase) does not decrypt the database.
    #[error("wrong passphrase (the database does not decrypt)")]
    WrongKey,
    /// The disk is full; nothing of the failed write was saved, earlier notes are intact.
    #[error("{path}: the disk is full; the note was not saved (earlier notes are intact)")]
    DiskFull {
        /// The database.
        path: PathBuf,
    },
    /// Another process held the database longer than the busy timeout.
    #[error("{path}: the database is busy in another process; try again")]
    Busy {
        /// The database.
        path: PathBuf,
    },
    /// No note with this id.
    #[error("no note {0}")]
    NoSuchNote(i64),
    /// The search query has no words.
    #[error("the search query is empty")]
    EmptyQuery,
    /// A note's text would be empty.
    #[error("the note is empty (no text)")]
    EmptyNote,
    /// A tag that is empty, too long or holds control characters.
    #[error("bad tag {0:?}: tags are 1 to 64 characters, without control characters")]
    BadTag(String),
    /// No reminder with this id.
    #[error("no reminder {0}")]
    NoSuchReminder(i64),
    /// The reminder was already done or cancelled.
    #[error("reminder {id} is {state}, not pending")]
    ReminderNotPending {
        /// The reminder.
        id: i64,
        /// Its state.
        state: ReminderState,
    },
    /// A reminder's text would be empty.
    #[error("the reminder is empty (no text)")]
    EmptyReminder,
    /// No setting of this name.
    #[error("no setting {key:?} (known: {known})")]
    UnknownSetting {
        /// The name asked for.
        key: String,
        /// The names there are, comma-separated.
        known: String,
    },
    /// A value that does not fit the setting.
    #[error("setting {key}: {detail}")]
    BadSetting {
        /// The setting.
        key: String,
        /// Why the value does not fit.
        detail: String,
    },
    /// A schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Any other SQLite failure.
    #[error("{path}: {detail}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// SQLite's message.
        detail: String,
    },
}

impl StoreError {
    pub(crate) fn from_sqlite(path: &Path, e: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull { path },
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy { path },
            Some(rusqlite::ErrorCode::NotADatabase) => StoreError::WrongKey,
            _ => StoreError::Sqlite { path, detail: e.to_string() },
        }
    }
}
