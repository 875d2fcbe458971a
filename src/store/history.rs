//! The history of dictation into other apps: each text that went in, kept (encrypted, like
//! everything in the store) for as many days as the user chose, so "paste the last dictation" and
//! the tray's recent texts outlive a restart.

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError, now};

/// A dictation that went into an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dictation {
    /// Id.
    pub id: i64,
    /// The text as it went in.
    pub text: String,
    /// When, seconds since the Unix epoch.
    pub created_at: i64,
}

impl Store {
    /// Keep `text` in the history; returns its id (nothing is kept for blank text).
    pub fn add_dictation(&mut self, text: &str) -> Result<Option<i64>, StoreError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        self.conn
            .execute("INSERT INTO dictations (text, created_at) VALUES (?1, ?2)", params![text, now()])
            .map_err(|e| self.err(e))?;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    /// The last `limit` dictations, newest first.
    pub fn dictations(&self, limit: usize) -> Result<Vec<Dictation>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, text, created_at FROM dictations ORDER BY created_at DESC, id DESC LIMIT ?1")
            .map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        stmt.query_map([limit], |r| Ok(Dictation { id: r.get(0)?, text: r.get(1)?, created_at: r.get(2)? }))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))
    }

    /// Forget dictations made before `before` (seconds since the Unix epoch; `i64::MAX`: all);
    /// returns how many went.
    pub fn forget_dictations(&mut self, before: i64) -> Result<usize, StoreError> {
        self.conn.execute("DELETE FROM dictations WHERE created_at < ?1", [before]).map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::open_temp;

    #[test]
    fn dictations_come_back_newest_first_and_go_by_age() {
        let (_dir, mut store) = open_temp();
        assert_eq!(store.add_dictation("  \n").unwrap(), None);
        let first = store.add_dictation("first words").unwrap().unwrap();
        let second = store.add_dictation("second words").unwrap().unwrap();
        let texts: Vec<String> = store.dictations(10).unwrap().into_iter().map(|d| d.text).collect();
        assert_eq!(texts, ["second words", "first words"]);
        assert_eq!(store.dictations(1).unwrap()[0].id, second);
        // Backdate the first by two days: forgetting what is older than a day takes it alone.
        store.conn.execute("UPDATE dictations SET created_at = created_at - 172800 WHERE id = ?1", [first]).unwrap();
        assert_eq!(store.forget_dictations(crate::store::now() - 86_400).unwrap(), 1);
        assert_eq!(store.dictations(10).unwrap().iter().map(|d| d.id).collect::<Vec<_>>(), [second]);
        assert_eq!(store.forget_dictations(i64::MAX).unwrap(), 1);
        assert!(store.dictations(10).unwrap().is_empty());
    }
}
