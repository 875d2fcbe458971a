//! Voice notes: the encrypted store, the embedder and the vector index together. Saving returns
//! at once; embedding runs on a worker thread, and searches wait for pending notes first, so a
//! note is findable by meaning as soon as it is saved.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;

use serde::Serialize;

use crate::asr::AsrError;
use crate::audio::AudioError;
use crate::recording::RecordingError;
use crate::store::vector::{FlatIndex, VectorIndex, reciprocal_rank_fusion};
use crate::store::{DB_FILE, KeywordHit, NewNote, Note, NoteSummary, Store, StoreError};
use crate::text::{EmbedError, Embedder};
use crate::vault::{self, VaultError};

mod audio;

pub use audio::Interrupted;

/// Id of the embedding model in the database (vectors of different models never mix).
pub const EMBED_MODEL_ID: &str = "minilm-l6-v2";
/// Only the start of huge notes is embedded (keyword search still sees all of it).
const MAX_EMBED_BYTES: usize = 48 * 1024;
/// Most queued notes embedded together (their short texts share inference calls).
const EMBED_BATCH: usize = 32;

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
}

/// How to rank search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
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

struct Pending {
    count: Mutex<usize>,
    done: Condvar,
}

/// The notes library of one data dir.
pub struct Library {
    store: Arc<Mutex<Store>>,
    index: Arc<RwLock<FlatIndex>>,
    embedder: Option<Arc<Embedder>>,
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
    /// vault, and the recovery key comes back in `Opened`; `embedder` enables search by meaning.
    pub fn unlock(
        data_dir: &Path,
        credential: &vault::Credential,
        embedder: Option<&EmbedderFiles>,
    ) -> Result<Opened, NotesError> {
        let unlocked = vault::open(data_dir, credential)?;
        let library = Self::open_with_key(data_dir, &unlocked.key, embedder)?;
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
        let store = match Store::open(&data_dir.join(DB_FILE), key) {
            Err(StoreError::WrongKey) => return Err(VaultError::WrongPassphrase.into()),
            other => other?,
        };
        let embedder = match embedder {
            // Half the cores for re-indexing and imports: background work leaves room for dictation.
            Some(files) => {
                Some(Arc::new(Embedder::load(&files.onnx, &files.tokenizer)?.with_threads(background_threads())))
            }
            None => None,
        };
        let index =
            if embedder.is_some() { FlatIndex::from_rows(store.embeddings(EMBED_MODEL_ID)?) } else { FlatIndex::new() };
        let mut lib = Library {
            store: Arc::new(Mutex::new(store)),
            index: Arc::new(RwLock::new(index)),
            embedder,
            jobs: None,
            pending: Arc::new(Pending { count: Mutex::new(0), done: Condvar::new() }),
            worker: None,
            data_dir: data_dir.to_path_buf(),
            key: key.clone(),
        };
        lib.start_worker();
        // Notes saved while no embedder was available get their vectors now.
        if lib.embedder.is_some() {
            let missing = lib.store.lock().expect("store lock").unembedded(EMBED_MODEL_ID)?;
            for id in missing {
                lib.enqueue(id);
            }
        }
        Ok(lib)
    }

    fn start_worker(&mut self) {
        let Some(embedder) = self.embedder.clone() else { return };
        let (tx, rx) = channel::<i64>();
        let (store, index, pending) = (self.store.clone(), self.index.clone(), self.pending.clone());
        self.jobs = Some(tx);
        self.worker = Some(std::thread::spawn(move || {
            for id in &rx {
                // Whatever else is queued goes along: short notes then share inference calls.
                let mut ids = vec![id];
                ids.extend(rx.try_iter().take(EMBED_BATCH - 1));
                if let Err(e) = embed_notes(&embedder, &store, &index, &ids) {
                    tracing::warn!("notes {ids:?}: embedding failed: {e}");
                }
                let mut n = pending.count.lock().expect("pending lock");
                *n -= ids.len();
                pending.done.notify_all();
            }
        }));
    }

    fn enqueue(&self, id: i64) {
        if let Some(jobs) = &self.jobs {
            *self.pending.count.lock().expect("pending lock") += 1;
            if jobs.send(id).is_err() {
                *self.pending.count.lock().expect("pending lock") -= 1;
            }
        }
    }

    /// Wait until every saved note is embedded and indexed.
    pub fn flush(&self) {
        let mut n = self.pending.count.lock().expect("pending lock");
        while *n > 0 {
            n = self.pending.done.wait(n).expect("pending lock");
        }
    }

    /// Save a note; returns its id at once (embedding follows on the worker).
    pub fn add(&self, note: &NewNote) -> Result<i64, NotesError> {
        let id = self.store.lock().expect("store lock").add_note(note)?;
        self.enqueue(id);
        Ok(id)
    }

    /// One note with its segments.
    pub fn get(&self, id: i64) -> Result<Note, NotesError> {
        Ok(self.store.lock().expect("store lock").note(id)?)
    }

    /// All notes, newest first.
    pub fn list(&self) -> Result<Vec<NoteSummary>, NotesError> {
        Ok(self.store.lock().expect("store lock").list()?)
    }

    /// Delete a note, its vectors and its recording file.
    pub fn delete(&self, id: i64) -> Result<(), NotesError> {
        self.flush();
        let recording = self.store.lock().expect("store lock").recording(id)?;
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
        if let Err(e) = self.store.lock().expect("store lock").delete(id) {
            if let Some((path, moved)) = &aside {
                let _ = std::fs::rename(moved, path);
            }
            return Err(e.into());
        }
        if let Some((_, moved)) = aside
            && let Err(e) = std::fs::remove_file(&moved)
        {
            tracing::warn!("{}: {e} (removed at the next recovery)", moved.display());
        }
        self.index.write().expect("index lock").remove(id);
        Ok(())
    }

    /// Search notes; `Meaning` and `Hybrid` need the embedder (else they fall back to keywords).
    pub fn search(&self, query: &str, mode: SearchMode, limit: usize) -> Result<Vec<Hit>, NotesError> {
        if query.trim().is_empty() {
            return Err(StoreError::EmptyQuery.into());
        }
        let limit = limit.max(1);
        let mode = if self.embedder.is_none() { SearchMode::Keyword } else { mode };
        let keyword = || -> Result<Vec<KeywordHit>, NotesError> {
            match self.store.lock().expect("store lock").keyword_search(query, limit * 4) {
                Ok(hits) => Ok(hits),
                // Only symbols or emoji: no word for FTS5 to match (meaning search may still find it).
                Err(StoreError::EmptyQuery) => Ok(Vec::new()),
                Err(e) => Err(e.into()),
            }
        };
        let meaning = || -> Result<Vec<(i64, f32)>, NotesError> {
            let embedder = self.embedder.as_ref().expect("checked above");
            self.flush();
            let q = embedder.embed(&[query])?.remove(0);
            Ok(self.index.read().expect("index lock").search(&q, limit * 4))
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
        let store = self.store.lock().expect("store lock");
        let mut out = Vec::new();
        for (id, score, snippet) in hits.into_iter().take(limit) {
            let note = store.note(id)?;
            let snippet = snippet.unwrap_or_else(|| excerpt(&note.body));
            out.push(Hit { id, title: note.title, score, snippet });
        }
        Ok(out)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // Let queued embeddings finish: a CLI run that saved a note must leave it searchable.
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn embed_notes(
    embedder: &Embedder,
    store: &Mutex<Store>,
    index: &RwLock<FlatIndex>,
    ids: &[i64],
) -> Result<(), NotesError> {
    let mut texts = Vec::with_capacity(ids.len());
    let mut found = Vec::with_capacity(ids.len());
    for &id in ids {
        // A note deleted while queued has nothing left to embed.
        let note = match store.lock().expect("store lock").note(id) {
            Ok(note) => note,
            Err(StoreError::NoSuchNote(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut text = format!("{}\n{}", note.title, note.body);
        let mut end = text.len().min(MAX_EMBED_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        texts.push(text);
        found.push(id);
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let chunks = embedder.embed_chunks_of(&refs)?;
    for (id, chunks) in found.into_iter().zip(chunks) {
        let vectors: Vec<Vec<f32>> = chunks.into_iter().map(|c| c.vector).collect();
        // One note's failure (deleted meanwhile, disk full) must not cost the others theirs.
        match store.lock().expect("store lock").put_embeddings(id, EMBED_MODEL_ID, &vectors) {
            Ok(()) => index.write().expect("index lock").upsert(id, vectors),
            Err(e) => tracing::warn!("note {id}: saving its embedding failed: {e}"),
        }
    }
    Ok(())
}

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
