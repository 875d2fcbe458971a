//! Notes on disk: an encrypted SQLite (SQLCipher) database with versioned migrations, FTS5
//! keyword search and stored embeddings for search by meaning.

mod error;
mod history;
mod listing;
mod query;
mod reminders;
mod schema;
mod settings;
mod tags;
pub mod vector;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use history::Dictation;
pub use listing::{ListOptions, SortBy};
pub use query::fts_query;
pub use reminders::{NewReminder, Reminder, ReminderState};
pub use schema::migrations;
pub use settings::{Insertion, Settings, Theme, split_keys};
pub use tags::normalize_tag;

use crate::asr::Segment;
use crate::vault::Key;

/// Database file name inside the data dir.
pub const DB_FILE: &str = "sotto.db";

/// Where a note came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Source {
    /// Typed or pasted text.
    Text,
    /// A transcribed audio file.
    Audio,
    /// Live dictation.
    Dictation,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Text => "text",
            Source::Audio => "audio",
            Source::Dictation => "dictation",
        }
    }
    fn parse(s: &str) -> Source {
        match s {
            "audio" => Source::Audio,
            "dictation" => Source::Dictation,
            _ => Source::Text,
        }
    }
}

/// A note to save.
#[derive(Debug, Clone, Default)]
pub struct NewNote {
    /// Title; the first line of the body when empty.
    pub title: String,
    /// Full text.
    pub body: String,
    /// Where it came from.
    pub source: Option<Source>,
    /// Timed segments, for transcribed audio.
    pub segments: Vec<Segment>,
    /// The audio it was transcribed from: (path, duration ms, sample rate); Sotto's own
    /// recordings are `recordings/<hex>.rec`, relative to the data dir.
    pub recording: Option<(PathBuf, u64, u32)>,
    /// Tags.
    pub tags: Vec<String>,
}

/// A saved note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Note {
    /// Id.
    pub id: i64,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Seconds since the Unix epoch.
    pub updated_at: i64,
    /// Title.
    pub title: String,
    /// Full text.
    pub body: String,
    /// Where it came from.
    pub source: Source,
    /// Timed segments (empty for typed notes).
    pub segments: Vec<Segment>,
    /// Tags.
    pub tags: Vec<String>,
}

/// One line of a note list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteSummary {
    /// Id.
    pub id: i64,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Seconds since the Unix epoch (the last edit; `created_at` if never edited).
    pub updated_at: i64,
    /// Title.
    pub title: String,
    /// Where it came from.
    pub source: Source,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Length of its audio in milliseconds; `None` for a note without audio.
    pub duration_ms: Option<u64>,
}

/// A change to a note's text; `None` leaves that part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoteEdit {
    /// New title; an empty one is derived from the body again.
    pub title: Option<String>,
    /// New body (timed segments of a transcribed note are kept as they were heard).
    pub body: Option<String>,
}

/// The audio saved with a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredRecording {
    /// For recordings Sotto keeps: `recordings/<hex>.rec`, relative to the data dir. Notes saved
    /// before Sotto kept audio hold the absolute path of the user's file instead.
    pub path: String,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Sample rate of the audio (recordings Sotto keeps: 16 kHz).
    pub sample_rate: u32,
}

/// A keyword hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeywordHit {
    /// Note id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// bm25 relevance (higher is better).
    pub score: f64,
    /// Matching excerpt, matches wrapped in `**`.
    pub snippet: String,
}

/// The open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (or create) the encrypted database at `path` with `key`, and migrate it.
    pub fn open(path: &Path, key: &Key) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(|e| StoreError::from_sqlite(path, e))?;
        // Before the first read: another process may be creating or migrating the database.
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| StoreError::from_sqlite(path, e))?;
        // A raw key skips SQLCipher's own PBKDF2: Argon2id already stretched the passphrase.
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key.as_ref())))
            .map_err(|e| StoreError::from_sqlite(path, e))?;
        // Keying activates SQLCipher's default logging to stderr; errors reach the user typed instead.
        conn.execute_batch("PRAGMA cipher_log_level = NONE;").map_err(|e| StoreError::from_sqlite(path, e))?;
        // The first read is where a wrong key shows: the pages do not decrypt.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            return Err(match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => StoreError::WrongKey,
                _ => StoreError::from_sqlite(path, e),
            });
        }
        // Switching to WAL needs an exclusive lock: only ask when it is not WAL already, so a
        // second process can open the database while the first is writing.
        let mode: String =
            conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(|e| StoreError::from_sqlite(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.execute_batch("PRAGMA journal_mode = WAL;").map_err(|e| StoreError::from_sqlite(path, e))?;
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")
            .map_err(|e| StoreError::from_sqlite(path, e))?;
        migrate(&mut conn)?;
        Ok(Self { conn, path: path.to_path_buf() })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, e)
    }

    /// Save a note with its segments, recording and tags in one transaction; returns its id.
    pub fn add_note(&mut self, note: &NewNote) -> Result<i64, StoreError> {
        let now = now();
        let title = if note.title.trim().is_empty() { derive_title(&note.body) } else { note.title.trim().to_string() };
        let path = self.path.clone();
        let err = |e| StoreError::from_sqlite(&path, e);
        // IMMEDIATE takes the write lock up front, so a busy database waits (busy_timeout)
        // instead of failing half-way.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        tx.execute(
            "INSERT INTO notes (created_at, updated_at, title, body, source) VALUES (?1, ?1, ?2, ?3, ?4)",
            params![now, title, note.body, note.source.unwrap_or(Source::Text).as_str()],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        {
            let mut seg = tx
                .prepare("INSERT INTO segments (note_id, start_ms, end_ms, text) VALUES (?1, ?2, ?3, ?4)")
                .map_err(err)?;
            for s in &note.segments {
                seg.execute(params![id, s.start_ms as i64, s.end_ms as i64, s.text]).map_err(err)?;
            }
            let mut tag = tx.prepare("INSERT OR IGNORE INTO tags (note_id, tag) VALUES (?1, ?2)").map_err(err)?;
            for t in &note.tags {
                tag.execute(params![id, normalize_tag(t)?]).map_err(err)?;
            }
        }
        if let Some((rec, duration_ms, rate)) = &note.recording {
            tx.execute(
                "INSERT INTO recordings (note_id, path, duration_ms, sample_rate) VALUES (?1, ?2, ?3, ?4)",
                params![id, rec.to_string_lossy(), *duration_ms as i64, rate],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// A note with its segments and tags.
    pub fn note(&self, id: i64) -> Result<Note, StoreError> {
        let row = self
            .conn
            .query_row("SELECT id, created_at, updated_at, title, body, source FROM notes WHERE id = ?1", [id], |r| {
                Ok(Note {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    updated_at: r.get(2)?,
                    title: r.get(3)?,
                    body: r.get(4)?,
                    source: Source::parse(&r.get::<_, String>(5)?),
                    segments: Vec::new(),
                    tags: Vec::new(),
                })
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let mut note = row.ok_or(StoreError::NoSuchNote(id))?;
        let mut seg = self
            .conn
            .prepare("SELECT start_ms, end_ms, text FROM segments WHERE note_id = ?1 ORDER BY start_ms, id")
            .map_err(|e| self.err(e))?;
        note.segments = seg
            .query_map([id], |r| {
                Ok(Segment {
                    start_ms: r.get::<_, i64>(0)? as u64,
                    end_ms: r.get::<_, i64>(1)? as u64,
                    text: r.get(2)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        let mut tags =
            self.conn.prepare("SELECT tag FROM tags WHERE note_id = ?1 ORDER BY tag").map_err(|e| self.err(e))?;
        note.tags = tags.query_map([id], |r| r.get(0)).and_then(Iterator::collect).map_err(|e| self.err(e))?;
        Ok(note)
    }

    /// All notes, newest first.
    pub fn list(&self) -> Result<Vec<NoteSummary>, StoreError> {
        self.list_notes(&ListOptions::default())
    }

    /// Change a note's title and/or body (the keyword index follows by trigger); its stored
    /// vectors are dropped in the same transaction, to be made again from the new text.
    pub fn edit_note(&mut self, id: i64, edit: &NoteEdit) -> Result<Note, StoreError> {
        let mut note = self.note(id)?;
        if let Some(body) = &edit.body {
            if body.trim().is_empty() {
                return Err(StoreError::EmptyNote);
            }
            note.body = body.clone();
        }
        match &edit.title {
            Some(t) if t.trim().is_empty() => note.title = derive_title(&note.body),
            Some(t) => note.title = t.trim().to_string(),
            None => {}
        }
        note.updated_at = now().max(note.updated_at);
        let path = self.path.clone();
        let err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let n = tx
            .execute(
                "UPDATE notes SET title = ?2, body = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, note.title, note.body, note.updated_at],
            )
            .map_err(err)?;
        if n == 0 {
            // Deleted by another process between the read and the write.
            return Err(StoreError::NoSuchNote(id));
        }
        tx.execute("DELETE FROM embeddings WHERE note_id = ?1", [id]).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(note)
    }

    /// Delete a note and everything hanging off it.
    pub fn delete(&mut self, id: i64) -> Result<(), StoreError> {
        let n = self.conn.execute("DELETE FROM notes WHERE id = ?1", [id]).map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StoreError::NoSuchNote(id));
        }
        Ok(())
    }

    /// The audio of note `id`: `None` for a note without audio, [`StoreError::NoSuchNote`] for no note.
    pub fn recording(&self, id: i64) -> Result<Option<StoredRecording>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT r.path, r.duration_ms, r.sample_rate FROM notes n LEFT JOIN recordings r ON r.note_id = n.id
                 WHERE n.id = ?1 ORDER BY r.id LIMIT 1",
                [id],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<i64>>(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match row {
            None => Err(StoreError::NoSuchNote(id)),
            Some((Some(path), Some(ms), Some(rate))) => Ok(Some(StoredRecording {
                path,
                duration_ms: ms.max(0) as u64,
                sample_rate: rate.clamp(0, u32::MAX as i64) as u32,
            })),
            Some(_) => Ok(None),
        }
    }

    /// Every recording path the notes reference.
    pub fn recording_paths(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT path FROM recordings").map_err(|e| self.err(e))?;
        stmt.query_map([], |r| r.get(0)).and_then(Iterator::collect).map_err(|e| self.err(e))
    }

    /// Whether any note references the recording at `path`.
    pub fn references_recording(&self, path: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM recordings WHERE path = ?1)", [path], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// FTS5 keyword search, best first; the query is plain words, `"phrases"` and `prefix*`.
    pub fn keyword_search(&self, query: &str, limit: usize) -> Result<Vec<KeywordHit>, StoreError> {
        let Some(fts) = fts_query(query) else {
            return Err(StoreError::EmptyQuery);
        };
        let mut stmt = self
            .conn
            .prepare(
                // `ORDER BY rank` (the rank function set per query) lets FTS5 sort (rowid, score)
                // itself and hand back rows best first, so the LIMIT stops the outer query and
                // snippet() and the join run for the hits returned only. With ORDER BY bm25(),
                // SQLite computed a snippet for every match: 125 ms p95 at 100k notes.
                "SELECT n.id, n.title, notes_fts.rank, snippet(notes_fts, 1, '**', '**', '…', 16)
                 FROM notes_fts JOIN notes n ON n.id = notes_fts.rowid
                 WHERE notes_fts MATCH ?1 AND notes_fts.rank MATCH 'bm25(4.0, 1.0)'
                 ORDER BY notes_fts.rank LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        // Sizes past i64 are as good as no limit (a plain cast would wrap to a negative one).
        stmt.query_map(params![fts, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            // bm25() is lower-is-better and negative; flip it so every score reads "higher is better".
            Ok(KeywordHit { id: r.get(0)?, title: r.get(1)?, score: -r.get::<_, f64>(2)?, snippet: r.get(3)? })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }

    /// Replace a note's embedding chunks for `model_id` ([`StoreError::NoSuchNote`] if it is gone).
    pub fn put_embeddings(&mut self, note_id: i64, model_id: &str, vectors: &[Vec<f32>]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        // A note deleted while it was being embedded is a typed miss, not a foreign-key failure.
        let exists: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM notes WHERE id = ?1)", [note_id], |r| r.get(0)).map_err(err)?;
        if !exists {
            return Err(StoreError::NoSuchNote(note_id));
        }
        tx.execute("DELETE FROM embeddings WHERE note_id = ?1 AND model_id = ?2", params![note_id, model_id])
            .map_err(err)?;
        {
            let mut stmt = tx
                .prepare("INSERT INTO embeddings (note_id, chunk, model_id, dim, vector) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            for (i, v) in vectors.iter().enumerate() {
                let blob: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                stmt.execute(params![note_id, i as i64, model_id, v.len() as i64, blob]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Every stored vector of `model_id`: (note id, vector).
    pub fn embeddings(&self, model_id: &str) -> Result<Vec<(i64, Vec<f32>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT note_id, vector FROM embeddings WHERE model_id = ?1 ORDER BY note_id, chunk")
            .map_err(|e| self.err(e))?;
        stmt.query_map([model_id], |r| {
            let blob: Vec<u8> = r.get(1)?;
            Ok((r.get(0)?, blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }

    /// Notes that have no vectors for `model_id` yet (saved while the embedder was busy or off).
    pub fn unembedded(&self, model_id: &str) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id FROM notes WHERE id NOT IN (SELECT note_id FROM embeddings WHERE model_id = ?1) ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([model_id], |r| r.get(0)).and_then(Iterator::collect).map_err(|e| self.err(e))
    }

    /// Direct access for tests and maintenance.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Seconds since the Unix epoch: the time base of notes and reminders.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// First non-empty line, at most 80 characters.
fn derive_title(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("Untitled");
    let mut title: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        title.push('…');
    }
    title
}

/// Bring the schema up to date. Two processes opening a new database at once (two first runs)
/// both see version 0 and both migrate; the second's migration then fails on what the first made.
/// When the version moved meanwhile, that is what happened: go on from where the other got.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version = |conn: &Connection| conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).ok();
    let mut tries = 0;
    loop {
        let before = version(conn);
        match migrations().to_latest(conn) {
            Ok(()) => return Ok(()),
            Err(e) if tries < 3 && version(conn) != before => {
                tracing::debug!("another process migrated the database meanwhile ({e}); again");
                tries += 1;
            }
            Err(e) => return Err(StoreError::Migration(e.to_string())),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh encrypted store in a temp dir (a fixed key: Argon2 is the vault's business).
    pub(crate) fn open_temp() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(DB_FILE), &Key::new([7; 32])).unwrap();
        (dir, store)
    }

    #[test]
    fn edits_follow_into_the_keyword_index_and_drop_stale_vectors() {
        let (_dir, mut store) = open_temp();
        let id = store.add_note(&NewNote { body: "walrus meeting on Monday".into(), ..NewNote::default() }).unwrap();
        store.put_embeddings(id, "m", &[vec![1.0, 0.0]]).unwrap();
        let edit = NoteEdit { title: None, body: Some("pelican meeting on Tuesday".into()) };
        let note = store.edit_note(id, &edit).unwrap();
        assert_eq!(note.body, "pelican meeting on Tuesday");
        assert_eq!(note.title, "walrus meeting on Monday", "an explicit title is kept");
        assert_eq!(store.note(id).unwrap(), note);
        assert_eq!(store.keyword_search("pelican", 5).unwrap()[0].id, id);
        assert!(store.keyword_search("Monday", 5).unwrap().iter().any(|h| h.id == id), "still in the title");
        assert!(store.embeddings("m").unwrap().is_empty(), "vectors of the old text are gone");
        assert_eq!(store.unembedded("m").unwrap(), [id]);

        // An empty title is derived from the body again; the old words leave the index.
        let note = store.edit_note(id, &NoteEdit { title: Some(" ".into()), body: None }).unwrap();
        assert_eq!(note.title, "pelican meeting on Tuesday");
        assert!(store.keyword_search("walrus", 5).unwrap().is_empty());
        assert!(store.keyword_search("Monday", 5).unwrap().is_empty());
        store.connection().execute_batch("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')").unwrap();

        assert!(matches!(
            store.edit_note(id, &NoteEdit { body: Some("  ".into()), ..NoteEdit::default() }),
            Err(StoreError::EmptyNote)
        ));
        assert!(matches!(store.edit_note(999, &NoteEdit::default()), Err(StoreError::NoSuchNote(999))));
        assert_eq!(store.note(id).unwrap().body, "pelican meeting on Tuesday", "a refused edit changes nothing");
        store.delete(id).unwrap();
        assert!(matches!(store.put_embeddings(id, "m", &[vec![1.0]]), Err(StoreError::NoSuchNote(_))));
    }
}
