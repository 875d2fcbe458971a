//! Voice notes in the encrypted store: unlock, lock, add, list, get, edit, delete, search.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::SottoError;
use super::transcribe::Segment;
use crate::notes::{self, EmbedderFiles, Library};
use crate::store::{self, NewNote, NoteEdit, Source};
use crate::vault::{self, Credential};

/// The sentence-embedding model (MiniLM ONNX and its tokenizer) for search by meaning.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EmbedderPaths {
    /// The ONNX graph.
    pub onnx: String,
    /// Its tokenizer.json.
    pub tokenizer: String,
}

/// One saved note.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Note {
    /// Id.
    pub id: i64,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Seconds since the Unix epoch (the last edit).
    pub updated_at: i64,
    /// Title.
    pub title: String,
    /// Full text.
    pub body: String,
    /// "text", "audio" or "dictation".
    pub source: String,
    /// Timed segments (empty for typed notes).
    pub segments: Vec<Segment>,
    /// Tags.
    pub tags: Vec<String>,
}

/// One line of the note list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoteSummary {
    /// Id.
    pub id: i64,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Seconds since the Unix epoch (the last edit).
    pub updated_at: i64,
    /// Title.
    pub title: String,
    /// "text", "audio" or "dictation".
    pub source: String,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Length of its audio (ms); none for a note without audio.
    pub duration_ms: Option<u64>,
}

/// How search results are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SearchMode {
    /// Words and meaning together (the default of the apps).
    Hybrid,
    /// Words, phrases and prefixes (FTS5).
    Keyword,
    /// Meaning (sentence embeddings); words alone without the embedder.
    Meaning,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchHit {
    /// Note id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Relevance, higher is better.
    pub score: f64,
    /// Excerpt: the keyword match when there is one, else the start of the note.
    pub snippet: String,
}

/// The notes of one data directory, unlocked. `lock` forgets the key; every call after it
/// fails with `Locked` until the app unlocks again (a new `Notes`).
#[derive(uniffi::Object)]
pub struct Notes {
    library: RwLock<Option<Arc<Library>>>,
    /// The recovery key of a vault this unlock created, until `take_recovery_key`.
    recovery_key: Mutex<Option<String>>,
}

#[uniffi::export]
impl Notes {
    /// Unlock `data_dir` with the passphrase; a directory without notes gets a new encrypted
    /// library (show its recovery key, `take_recovery_key`, once). `embedder` enables search by
    /// meaning.
    #[uniffi::constructor]
    pub fn unlock(
        data_dir: String,
        passphrase: String,
        embedder: Option<EmbedderPaths>,
    ) -> Result<Arc<Self>, SottoError> {
        let dir = existing_dir(&data_dir)?;
        let credential = Credential::Passphrase(passphrase);
        let opened = Library::unlock(&dir, &credential, embedder.map(files).as_ref())?;
        let recovery_key = opened.recovery_key.map(|k| k.to_text().to_string());
        Ok(Arc::new(Notes {
            library: RwLock::new(Some(Arc::new(opened.library))),
            recovery_key: Mutex::new(recovery_key),
        }))
    }

    /// Open `data_dir` with a 32-byte database key held by the platform (the iOS Keychain or
    /// Android Keystore entry the `vault` plugin releases after a biometric prompt).
    #[uniffi::constructor]
    pub fn open_with_key(
        data_dir: String,
        key: Vec<u8>,
        embedder: Option<EmbedderPaths>,
    ) -> Result<Arc<Self>, SottoError> {
        let dir = existing_dir(&data_dir)?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| SottoError::invalid(format!("the database key is {} bytes; it must be 32", key.len())))?;
        let key = vault::Key::new(key);
        let library = Library::open_with_key(&dir, &key, embedder.map(files).as_ref())?;
        Ok(Arc::new(Notes { library: RwLock::new(Some(Arc::new(library))), recovery_key: Mutex::new(None) }))
    }

    /// The recovery key of the vault `unlock` just created (`XXXX-…`), once; none otherwise.
    pub fn take_recovery_key(&self) -> Option<String> {
        self.recovery_key.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Forget the key: the database closes once running work (a session saving into it) ends.
    pub fn lock(&self) {
        self.recovery_key.lock().unwrap_or_else(PoisonError::into_inner).take();
        self.library.write().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// Whether `lock` was called.
    pub fn is_locked(&self) -> bool {
        self.library.read().unwrap_or_else(PoisonError::into_inner).is_none()
    }

    /// Save a typed note; returns its id. An empty title is taken from the body.
    pub fn add(&self, title: String, body: String, tags: Vec<String>) -> Result<i64, SottoError> {
        // The store keeps empty notes (a recording heard as silence); a typed one is a mistake.
        if title.trim().is_empty() && body.trim().is_empty() {
            return Err(store::StoreError::EmptyNote.into());
        }
        let note = NewNote { title, body, source: Some(Source::Text), tags, ..NewNote::default() };
        Ok(self.library()?.add(&note)?)
    }

    /// All notes, newest first.
    pub fn list(&self) -> Result<Vec<NoteSummary>, SottoError> {
        Ok(self.library()?.list()?.into_iter().map(NoteSummary::from).collect())
    }

    /// One note with its timed segments.
    pub fn get(&self, id: i64) -> Result<Note, SottoError> {
        Ok(self.library()?.get(id)?.into())
    }

    /// Change a note's title and/or body (none leaves it); an empty title is derived again.
    pub fn edit(&self, id: i64, title: Option<String>, body: Option<String>) -> Result<Note, SottoError> {
        Ok(self.library()?.edit(id, &NoteEdit { title, body })?.into())
    }

    /// Delete a note with its recording.
    pub fn delete(&self, id: i64) -> Result<(), SottoError> {
        Ok(self.library()?.delete(id)?)
    }

    /// Search notes; at most `limit` hits, best first.
    pub fn search(&self, query: String, mode: SearchMode, limit: u32) -> Result<Vec<SearchHit>, SottoError> {
        if limit == 0 {
            return Err(SottoError::invalid("limit must be at least 1"));
        }
        let mode = match mode {
            SearchMode::Hybrid => notes::SearchMode::Hybrid,
            SearchMode::Keyword => notes::SearchMode::Keyword,
            SearchMode::Meaning => notes::SearchMode::Meaning,
        };
        let hits = self.library()?.search(&query, mode, limit as usize)?;
        Ok(hits
            .into_iter()
            .map(|h| SearchHit { id: h.id, title: h.title, score: h.score, snippet: h.snippet })
            .collect())
    }
}

impl Notes {
    /// The open library, or `Locked`.
    pub(crate) fn library(&self) -> Result<Arc<Library>, SottoError> {
        self.library
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| SottoError::Locked { detail: "the notes are locked: unlock them again".into() })
    }
}

/// The data directory, created if missing; an empty path is refused rather than meaning ".".
fn existing_dir(data_dir: &str) -> Result<PathBuf, SottoError> {
    if data_dir.trim().is_empty() {
        return Err(SottoError::invalid("the data directory is empty"));
    }
    let dir = Path::new(data_dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| SottoError::Storage { detail: format!("{}: {}", dir.display(), super::error::message(&e)) })?;
    Ok(dir.to_path_buf())
}

fn files(paths: EmbedderPaths) -> EmbedderFiles {
    EmbedderFiles { onnx: paths.onnx.into(), tokenizer: paths.tokenizer.into() }
}

fn source(s: Source) -> String {
    match s {
        Source::Text => "text",
        Source::Audio => "audio",
        Source::Dictation => "dictation",
    }
    .into()
}

impl From<store::Note> for Note {
    fn from(n: store::Note) -> Self {
        Note {
            id: n.id,
            created_at: n.created_at,
            updated_at: n.updated_at,
            title: n.title,
            body: n.body,
            source: source(n.source),
            segments: n.segments.into_iter().map(Segment::from).collect(),
            tags: n.tags,
        }
    }
}

impl From<store::NoteSummary> for NoteSummary {
    fn from(n: store::NoteSummary) -> Self {
        NoteSummary {
            id: n.id,
            created_at: n.created_at,
            updated_at: n.updated_at,
            title: n.title,
            source: source(n.source),
            tags: n.tags,
            duration_ms: n.duration_ms,
        }
    }
}
