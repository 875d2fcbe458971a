//! Versioned schema. Append migrations; never edit a released one (databases in the field were
//! built by it). Tests migrate a database created at every earlier version.

use rusqlite_migration::{M, Migrations};

/// All migrations, oldest first.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        // v1: notes, their audio and timed segments, tags, embeddings, reminders, settings, FTS5.
        M::up(
            r#"
CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('text', 'audio', 'dictation'))
);
CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY,
    note_id     INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL
);
CREATE TABLE segments (
    id       INTEGER PRIMARY KEY,
    note_id  INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    start_ms INTEGER NOT NULL,
    end_ms   INTEGER NOT NULL,
    text     TEXT NOT NULL
);
CREATE TABLE tags (
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (note_id, tag)
);
CREATE TABLE embeddings (
    note_id  INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    chunk    INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    dim      INTEGER NOT NULL,
    vector   BLOB NOT NULL,
    PRIMARY KEY (note_id, chunk, model_id)
);
CREATE TABLE reminders (
    id     INTEGER PRIMARY KEY,
    due_at INTEGER NOT NULL,
    text   TEXT NOT NULL,
    state  TEXT NOT NULL DEFAULT 'pending'
);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE VIRTUAL TABLE notes_fts USING fts5(
    title, body, content = 'notes', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER notes_au AFTER UPDATE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO notes_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
"#,
        ),
        // v2: segments are read per note in time order; reminders by due time.
        M::up(
            r#"
CREATE INDEX segments_by_note ON segments(note_id, start_ms);
CREATE INDEX reminders_by_due ON reminders(state, due_at);
CREATE INDEX embeddings_by_model ON embeddings(model_id);
"#,
        ),
        // v3: notes listed by update time and title and filtered by tag; reminders know when they
        // were made and may point at the note they came from (kept, unlinked, if it is deleted).
        // Tags written before tags were normalised are brought to the same form (ASCII case: what
        // SQLite's lower() knows; a duplicate that results is dropped), so `--tag work` finds "Work".
        M::up(
            r#"
UPDATE OR IGNORE tags SET tag = lower(trim(ltrim(trim(tag), '#')));
DELETE FROM tags WHERE tag <> lower(trim(ltrim(trim(tag), '#')));
CREATE INDEX notes_by_created ON notes(created_at, id);
CREATE INDEX notes_by_updated ON notes(updated_at, id);
CREATE INDEX notes_by_title ON notes(title COLLATE NOCASE, id);
CREATE INDEX tags_by_tag ON tags(tag, note_id);
ALTER TABLE reminders ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN note_id INTEGER REFERENCES notes(id) ON DELETE SET NULL;
CREATE INDEX reminders_by_note ON reminders(note_id);
"#,
        ),
        // v4: the history of dictation into other apps (kept as many days as the user chose).
        M::up(
            r#"
CREATE TABLE dictations (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX dictations_by_created ON dictations(created_at, id);
"#,
        ),
    ])
}
