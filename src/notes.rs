//! Voice notes: the encrypted store, the embedder and the vector index together. Saving returns
//! at once; embedding runs on a worker thread, and searches wait for pending notes first, so a
//! note is findable by meaning as soon as it is saved.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::asr::AsrError;
use crate::audio::AudioError;
use crate::cancel::CancelToken;
use crate::recording::RecordingError;
use crate::store::vector::{FlatIndex, VectorIndex, reciprocal_rank_fusion};
use crate::store::{DB_FILE, KeywordHit, NewNote, Note, NoteSummary, Store, StoreError};
use crate::text::EmbedError;
use crate::vault::{self, VaultError};

mod audio;
mod embedder;
mod history;
mod organize;
mod reminders;
mod settings;
mod worker;

pub use audio::Interrupted;
use embedder::LazyEmbedder;
use worker::Pending;

/// Id of the embedding model in the database (vectors of different models never mix).
pub const EMBED_MODEL_ID: &str = "minilm-l6-v2";

/// Why a notes operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    /// Key trouble.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Database trouble.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Embedder trouble.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// A recording could not be written or read.
    #[error(transparent)]
    Recording(#[from] RecordingError),
    /// An audio file could not be decoded.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// Transcription failed or was cancelled.
    #[error(transparent)]
    Asr(#[from] AsrError),
    /// The note has no audio.
    #[error("note {0} has no recording")]
    NoRecording(i64),
    /// The embedding worker stopped; notes are still saved (and found by keywords), and are
    /// embedded when the library is opened again.
    #[error("the embedding worker stopped ({0}); notes are saved and get embedded at the next open")]
    WorkerGone(String),
    /// Notes whose embedding failed since the last flush; they are saved, found by keywords, and
    /// tried again when the library is opened again.
    #[error("embedding notes {notes:?} failed: {reason}")]
    EmbeddingFailed {
        /// The notes.
        notes: Vec<i64>,
        /// The first failure's reason.
        reason: String,
    },
    /// The caller cancelled the wait.
    #[error("cancelled")]
    Cancelled,
}

/// How to rank search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Keyword and meaning rankings fused (reciprocal-rank fusion).
    Hybrid,
    /// FTS5 words, phrases and prefixes.
    Keyword,
    /// Sentence-embedding similarity.
    Meaning,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hit {
    /// Note id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Relevance, higher is better (bm25, cosine or fused, by mode).
    pub score: f64,
    /// Excerpt: the keyword match when there is one, else the start of the note.
    pub snippet: String,
}

/// The notes library of one data dir. `Send + Sync`: one library can serve many threads or
/// async tasks at once (the database is used by one at a time; searches by meaning run in parallel).
pub struct Library {
    store: Arc<Mutex<Store>>,
    index: Arc<RwLock<FlatIndex>>,
    /// Loaded on first use; `None`: no embedder installed (keyword search only).
    embedder: Option<Arc<LazyEmbedder>>,
    jobs: Option<Sender<i64>>,
    pending: Arc<Pending>,
    worker: Option<JoinHandle<()>>,
    /// The data dir: the database, the vault and `recordings/`.
    data_dir: PathBuf,
    /// The data key, which also seals the recordings.
    key: vault::Key,
}

/// Where the embedding model files are.
#[derive(Debug, Clone)]
pub struct EmbedderFiles {
    /// The ONNX graph.
    pub onnx: PathBuf,
    /// Its tokenizer.json.
    pub tokenizer: PathBuf,
}

/// A library just unlocked, with the recovery key of a vault the unlock created.
pub struct Opened {
    /// The library.
    pub library: Library,
    /// Set only when this call created the data dir's vault: show it to the user once (it is
    /// never returned again; `vault::recovery_key` shows it after an unlock).
    pub recovery_key: Option<vault::RecoveryKey>,
}

impl Library {
    /// Open `data_dir` with a passphrase, the OS keyring or the recovery key: the one call a shell
    /// (CLI, app) makes. A passphrase on a data dir without notes creates the library and its
    /// vault, and the recovery key comes back in `Opened`; `embedder` enables search by meaning
    /// (its model loads on first use: a bad model file is an error of that use).
    pub fn unlock(
        data_dir: &Path,
        credential: &vault::Credential,
        embedder: Option<&EmbedderFiles>,
    ) -> Result<Opened, NotesError> {
        let unlocked = vault::open(data_dir, credential)?;
        let library = Self::open_loaded(data_dir, &unlocked.key, embedder)?;
        Ok(Opened { library, recovery_key: unlocked.recovery_key })
    }

    /// Unlock `data_dir` with `passphrase` (a new library is created on first use, its recovery
    /// key unseen: shells use `unlock`); `embedder` enables search by meaning.
    pub fn open(data_dir: &Path, passphrase: &str, embedder: Option<&EmbedderFiles>) -> Result<Self, NotesError> {
        let credential = vault::Credential::Passphrase(passphrase.to_string());
        Ok(Self::unlock(data_dir, &credential, embedder)?.library)
    }

    /// Open with a data key already unlocked (e.g. from the OS keyring).
    pub fn open_with_key(
        data_dir: &Path,
        key: &vault::Key,
        embedder: Option<&EmbedderFiles>,
    ) -> Result<Self, NotesError> {
        Self::open_loaded(data_dir, key, embedder)
    }

    fn open_loaded(data_dir: &Path, key: &vault::Key, embedder: Option<&EmbedderFiles>) -> Result<Self, NotesError> {
        // Half the cores: re-indexing and imports are background work and leave room for dictation.
        let embedder = embedder.map(|files| Arc::new(LazyEmbedder::new(files.clone(), background_threads())));
        let store = match Store::open(&data_dir.join(DB_FILE), key) {
            Err(StoreError::WrongKey) => return Err(VaultError::WrongPassphrase.into()),
            other => other?,
        };
        let index =
            if embedder.is_some() { FlatIndex::from_rows(store.embeddings(EMBED_MODEL_ID)?) } else { FlatIndex::new() };
        let mut lib = Library {
            store: Arc::new(Mutex::new(store)),
            index: Arc::new(RwLock::new(index)),
            embedder,
            jobs: None,
            pending: Arc::default(),
            worker: None,
            data_dir: data_dir.to_path_buf(),
            key: key.clone(),
        };
        lib.start_worker();
        // Notes saved while no embedder was available get their vectors now.
        if lib.embedder.is_some() {
            let missing = lib.store().unembedded(EMBED_MODEL_ID)?;
            for id in missing {
                lib.enqueue(id);
            }
        }
        Ok(lib)
    }

    fn start_worker(&mut self) {
        let Some(embedder) = self.embedder.clone() else { return };
        let (jobs, thread) = worker::start(embedder, self.store.clone(), self.index.clone(), self.pending.clone());
        self.jobs = Some(jobs);
        self.worker = Some(thread);
    }

    fn enqueue(&self, id: i64) {
        if let Some(jobs) = &self.jobs {
            // A failed send means the worker is gone (it says so to `flush`); the note is
            // embedded at the next open.
            self.pending.enqueue(|| jobs.send(id).is_ok());
        }
    }

    /// The database. A panic while it was locked cannot have left it half-written (every write
    /// is one SQLite transaction, rolled back as the unwinding drops it), so a poisoned lock is
    /// taken back rather than turned into an error for every later call.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The vector index, for searching; poisoning is harmless as for the store: `FlatIndex`
    /// replaces its rows only once a removal is complete and runs no caller code while it writes.
    fn index(&self) -> RwLockReadGuard<'_, FlatIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn index_mut(&self) -> RwLockWriteGuard<'_, FlatIndex> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drop the embedder if nothing used it during `idle` (it loads again on the next use);
    /// returns whether it did. An app calls this now and then to give the memory back.
    pub fn release_idle_embedder(&self, idle: Duration) -> bool {
        self.embedder.as_ref().is_some_and(|e| e.release_if_idle(idle))
    }

    /// Whether the embedder is in memory now.
    pub fn embedder_loaded(&self) -> bool {
        self.embedder.as_ref().is_some_and(|e| e.is_loaded())
    }

    /// Wait until every note saved before this call is embedded and indexed. [`NotesError::EmbeddingFailed`]
    /// names notes whose embedding failed since the last flush (each failure is reported once);
    /// [`NotesError::WorkerGone`] says the worker stopped.
    pub fn flush(&self) -> Result<(), NotesError> {
        self.flush_cancellable(&CancelToken::new())
    }

    /// [`Library::flush`] that gives up with [`NotesError::Cancelled`] once `cancel` is set
    /// (checked every 50 ms): an app can stop waiting for a long import's embeddings.
    pub fn flush_cancellable(&self, cancel: &CancelToken) -> Result<(), NotesError> {
        self.pending.wait(cancel)?;
        self.pending.take_failures()
    }

    /// Notes that search by meaning can find now (for diagnostics and consistency checks).
    pub fn indexed_notes(&self) -> Vec<i64> {
        self.index().note_ids()
    }

    /// Save a note; returns its id at once (embedding follows on the worker).
    pub fn add(&self, note: &NewNote) -> Result<i64, NotesError> {
        let id = self.store().add_note(note)?;
        self.enqueue(id);
        Ok(id)
    }

    /// One note with its segments.
    pub fn get(&self, id: i64) -> Result<Note, NotesError> {
        Ok(self.store().note(id)?)
    }

    /// All notes, newest first.
    pub fn list(&self) -> Result<Vec<NoteSummary>, NotesError> {
        Ok(self.store().list()?)
    }

    /// Delete a note, its vectors and its recording file (at once: it does not wait for the worker).
    pub fn delete(&self, id: i64) -> Result<(), NotesError> {
        let recording = self.store().recording(id)?;
        // The file is renamed aside first and removed after the row: a crash in between can
        // neither leave a note without its audio nor bring a deleted recording back as
        // "interrupted" (recovery finishes what was started, `audio::tidy`).
        let mut aside = None;
        if let Some(path) = recording.as_ref().and_then(|r| self.journal_path(&r.path)) {
            let moved = audio::aside(&path);
            match std::fs::rename(&path, &moved) {
                Ok(()) => aside = Some((path, moved)),
                // Already gone: only the note is left to delete.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // Deleting the row now would orphan the file, to be recovered as a new note.
                Err(e) => return Err(RecordingError::io(&path, e).into()),
            }
        }
        {
            let mut store = self.store();
            if let Err(e) = store.delete(id) {
                if let Some((path, moved)) = &aside {
                    let _ = std::fs::rename(moved, path);
                }
                return Err(e.into());
            }
            // Still under the store lock, which the worker holds to save and index vectors: it
            // cannot index this note again after this (its save finds the note gone).
            self.index_mut().remove(id);
        }
        if let Some((_, moved)) = aside
            && let Err(e) = std::fs::remove_file(&moved)
        {
            tracing::warn!("{}: {e} (removed at the next recovery)", moved.display());
        }
        Ok(())
    }

    /// Search notes; `Meaning` and `Hybrid` need the embedder (else they fall back to keywords).
    /// A search by meaning first waits for notes saved before it to be embedded.
    pub fn search(&self, query: &str, mode: SearchMode, limit: usize) -> Result<Vec<Hit>, NotesError> {
        self.search_cancellable(query, mode, limit, &CancelToken::new())
    }

    /// [`Library::search`] whose wait for pending embeddings ends with [`NotesError::Cancelled`]
    /// once `cancel` is set (a newer keystroke's search replaces this one, say).
    pub fn search_cancellable(
        &self,
        query: &str,
        mode: SearchMode,
        limit: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<Hit>, NotesError> {
        if query.trim().is_empty() {
            return Err(StoreError::EmptyQuery.into());
        }
        let limit = limit.max(1);
        // More candidates than asked for: fusion needs depth, and hits deleted meanwhile are skipped.
        let depth = limit.saturating_mul(4);
        let mode = if self.embedder.is_none() { SearchMode::Keyword } else { mode };
        let keyword = || -> Result<Vec<KeywordHit>, NotesError> {
            match self.store().keyword_search(query, depth) {
                Ok(hits) => Ok(hits),
                // Only symbols or emoji: no word for FTS5 to match (meaning search may still find it).
                Err(StoreError::EmptyQuery) => Ok(Vec::new()),
                Err(e) => Err(e.into()),
            }
        };
        let meaning = || -> Result<Vec<(i64, f32)>, NotesError> {
            let Some(embedder) = self.embedder.as_ref() else { return Ok(Vec::new()) };
            // Failures of other notes are `flush`'s to report: they must not fail this search.
            self.pending.wait(cancel)?;
            let q = embedder.get()?.embed(&[query])?.into_iter().next().unwrap_or_default();
            Ok(self.index().search(&q, depth))
        };
        let hits: Vec<(i64, f64, Option<String>)> = match mode {
            SearchMode::Keyword => keyword()?.into_iter().map(|h| (h.id, h.score, Some(h.snippet))).collect(),
            SearchMode::Meaning => meaning()?.into_iter().map(|(id, s)| (id, s as f64, None)).collect(),
            SearchMode::Hybrid => {
                let kw = keyword()?;
                let mv = meaning()?;
                let fused =
                    reciprocal_rank_fusion(&[kw.iter().map(|h| h.id).collect(), mv.iter().map(|h| h.0).collect()]);
                fused
                    .into_iter()
                    .map(|(id, s)| (id, s, kw.iter().find(|h| h.id == id).map(|h| h.snippet.clone())))
                    .collect()
            }
        };
        let store = self.store();
        let mut out = Vec::new();
        for (id, score, snippet) in hits {
            if out.len() == limit {
                break;
            }
            let note = match store.note(id) {
                Ok(note) => note,
                // Deleted after the ranking: the next hit takes its place.
                Err(StoreError::NoSuchNote(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let snippet = snippet.unwrap_or_else(|| excerpt(&note.body));
            out.push(Hit { id, title: note.title, score, snippet });
        }
        Ok(out)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // Let queued embeddings finish: a CLI run that saved a note must leave it searchable. A
        // worker that died is joined at once (its error is dropped: there is no caller left).
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

// The app shares one library between its async tasks: a field that is not thread-safe fails here.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Library>();
};

fn excerpt(body: &str) -> String {
    let mut s: String = body.chars().take(120).collect();
    if body.chars().count() > 120 {
        s.push('…');
    }
    s.replace('\n', " ")
}

/// Threads the notes worker embeds with: half the cores, 1 to 4.
fn background_threads() -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (cores / 2).clamp(1, 4)
}
