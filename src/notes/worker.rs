//! The embedding worker: one thread that embeds saved notes and indexes their vectors, and the
//! bookkeeping through which callers wait for it. Whatever happens on the thread (an embedder
//! error, a panic, the thread's end) reaches waiting callers as an error: nothing waits forever.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use super::embedder::LazyEmbedder;
use super::{EMBED_MODEL_ID, NotesError};
use crate::cancel::CancelToken;
use crate::store::vector::{FlatIndex, VectorIndex};
use crate::store::{Store, StoreError};
use crate::text::Embedder;

/// Only the start of huge notes is embedded (keyword search still sees all of it).
const MAX_EMBED_BYTES: usize = 48 * 1024;
/// Most queued notes embedded together (their short texts share inference calls).
const EMBED_BATCH: usize = 32;
/// How often a waiting caller looks at its cancel token.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// What the worker owes its callers, and how to wait for it.
#[derive(Default)]
pub(super) struct Pending {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Notes ever sent to the worker.
    queued: u64,
    /// Notes the worker is through with (in the order sent: the queue is first in, first out).
    done: u64,
    /// Notes whose embedding failed since the last `take_failures`, with why.
    failed: Vec<(i64, String)>,
    /// Why the worker thread ended, once it has.
    gone: Option<String>,
}

impl Pending {
    /// The counters hold no invariant a panic could break half-way, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Send a note to the worker with `send` (false: it could not be sent), counted under the
    /// same lock: the order of the counts is then the order of the queue, which `wait` relies on.
    pub(super) fn enqueue(&self, send: impl FnOnce() -> bool) {
        let mut state = self.lock();
        if send() {
            state.queued += 1;
        }
    }

    /// Wait until the notes queued before this call are through the worker (later ones cannot
    /// keep a caller waiting); [`NotesError::WorkerGone`] if the worker ended first,
    /// [`NotesError::Cancelled`] once `cancel` is set.
    pub(super) fn wait(&self, cancel: &CancelToken) -> Result<(), NotesError> {
        let mut state = self.lock();
        let target = state.queued;
        loop {
            if let Some(why) = &state.gone {
                return Err(NotesError::WorkerGone(why.clone()));
            }
            if state.done >= target {
                return Ok(());
            }
            if cancel.is_cancelled() {
                return Err(NotesError::Cancelled);
            }
            state = self.changed.wait_timeout(state, CANCEL_POLL).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// The failures since the last call, as one error (each is reported once).
    pub(super) fn take_failures(&self) -> Result<(), NotesError> {
        let failed = std::mem::take(&mut self.lock().failed);
        match failed.first() {
            None => Ok(()),
            Some((_, reason)) => {
                let reason = reason.clone();
                Err(NotesError::EmbeddingFailed { notes: failed.into_iter().map(|(id, _)| id).collect(), reason })
            }
        }
    }

    /// The worker is through with `ids`; those in `failed` did not get vectors.
    fn finished(&self, ids: usize, failed: Vec<(i64, String)>) {
        let mut state = self.lock();
        state.done += ids as u64;
        state.failed.extend(failed);
        self.changed.notify_all();
    }
}

/// Marks the worker gone when its thread ends, however it ends: a panic outside the guarded
/// batch included, so that waiting callers wake up to an error.
struct GoneOnDrop(Arc<Pending>);

impl Drop for GoneOnDrop {
    fn drop(&mut self) {
        let why = if std::thread::panicking() { "it panicked" } else { "the library is closing" };
        let mut state = self.0.lock();
        state.gone.get_or_insert_with(|| why.to_string());
        self.0.changed.notify_all();
    }
}

/// Start the worker: note ids sent to the returned channel are embedded and indexed; it ends
/// once the channel is closed and drained.
pub(super) fn start(
    embedder: Arc<LazyEmbedder>,
    store: Arc<Mutex<Store>>,
    index: Arc<RwLock<FlatIndex>>,
    pending: Arc<Pending>,
) -> (Sender<i64>, JoinHandle<()>) {
    let (tx, rx) = channel::<i64>();
    let thread = std::thread::spawn(move || {
        let _gone = GoneOnDrop(pending.clone());
        for id in &rx {
            // Whatever else is queued goes along: short notes then share inference calls.
            let mut ids = vec![id];
            ids.extend(rx.try_iter().take(EMBED_BATCH - 1));
            // Loaded for the first batch (and again after an idle release).
            let failed = match embedder.get() {
                Ok(embedder) => embed_batch(&embedder, &store, &index, &ids),
                Err(e) => ids.iter().map(|&id| (id, e.to_string())).collect(),
            };
            for (id, why) in &failed {
                tracing::warn!("note {id}: embedding failed: {why}");
            }
            pending.finished(ids.len(), failed);
        }
    });
    (tx, thread)
}

/// Embed and index `ids`; returns the notes that failed, with why. A failed batch is retried
/// note by note, so one note the model cannot take does not cost the others their vectors.
fn embed_batch(
    embedder: &Embedder,
    store: &Mutex<Store>,
    index: &RwLock<FlatIndex>,
    ids: &[i64],
) -> Vec<(i64, String)> {
    // A panic is caught here so the worker lives on for the next notes; the store and the index
    // stay usable (see `Library::store`).
    let run = |ids: &[i64]| {
        catch_unwind(AssertUnwindSafe(|| embed_notes(embedder, store, index, ids)))
            .unwrap_or_else(|panic| Err(format!("the embedder panicked: {}", panic_message(&*panic))))
    };
    match run(ids) {
        Ok(failed) => failed,
        Err(_) if ids.len() > 1 => ids
            .iter()
            .flat_map(|&id| match run(&[id]) {
                Ok(failed) => failed,
                Err(why) => vec![(id, why)],
            })
            .collect(),
        Err(why) => ids.iter().map(|&id| (id, why.clone())).collect(),
    }
}

/// Embed `ids` in one go: `Err` when the embedder failed (nothing saved), else the notes whose
/// vectors could not be saved.
fn embed_notes(
    embedder: &Embedder,
    store: &Mutex<Store>,
    index: &RwLock<FlatIndex>,
    ids: &[i64],
) -> Result<Vec<(i64, String)>, String> {
    let lock = || store.lock().unwrap_or_else(PoisonError::into_inner);
    let mut texts = Vec::with_capacity(ids.len());
    let mut found = Vec::with_capacity(ids.len());
    for &id in ids {
        // A note deleted while queued has nothing left to embed.
        let note = match lock().note(id) {
            Ok(note) => note,
            Err(StoreError::NoSuchNote(_)) => continue,
            Err(e) => return Err(e.to_string()),
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
    let chunks = embedder.embed_chunks_of(&refs).map_err(|e| e.to_string())?;
    let mut failed = Vec::new();
    for (id, chunks) in found.into_iter().zip(chunks) {
        let vectors: Vec<Vec<f32>> = chunks.into_iter().map(|c| c.vector).collect();
        // Saved and indexed under one store lock, which `delete` and `edit` hold while they
        // change the note and drop it from the index: vectors of a note deleted meanwhile are
        // never indexed again.
        let mut store = lock();
        match store.put_embeddings(id, EMBED_MODEL_ID, &vectors) {
            Ok(()) => index.write().unwrap_or_else(PoisonError::into_inner).upsert(id, vectors),
            Err(StoreError::NoSuchNote(_)) => {}
            // One note's failure (disk full, say) must not cost the others theirs.
            Err(e) => failed.push((id, e.to_string())),
        }
    }
    Ok(failed)
}

/// The text of a panic's payload (panics carry a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_dies_wakes_its_waiters_with_an_error() {
        let pending = Arc::new(Pending::default());
        pending.enqueue(|| true);
        let thread = std::thread::spawn({
            let pending = pending.clone();
            move || {
                let _gone = GoneOnDrop(pending);
                std::thread::sleep(Duration::from_millis(100));
                panic!("a bug in the worker");
            }
        });
        let started = std::time::Instant::now();
        match pending.wait(&CancelToken::new()) {
            Err(NotesError::WorkerGone(why)) => assert!(why.contains("panicked"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(thread.join().is_err());
        // Later waits fail at once, as do sends: the caller knows embeddings stopped.
        assert!(matches!(pending.wait(&CancelToken::new()), Err(NotesError::WorkerGone(_))));
    }

    #[test]
    fn waits_end_when_cancelled_and_failures_are_reported_once() {
        let pending = Pending::default();
        pending.enqueue(|| true);
        pending.enqueue(|| true);
        let cancel = CancelToken::new();
        cancel.cancel();
        assert!(matches!(pending.wait(&cancel), Err(NotesError::Cancelled)));
        pending.finished(2, vec![(7, "model trouble".into()), (9, "model trouble".into())]);
        pending.wait(&CancelToken::new()).unwrap();
        match pending.take_failures() {
            Err(NotesError::EmbeddingFailed { notes, reason }) => {
                assert_eq!((notes, reason.as_str()), (vec![7, 9], "model trouble"));
            }
            other => panic!("{other:?}"),
        }
        pending.take_failures().unwrap();
        // A note that could not be sent is never waited for.
        pending.enqueue(|| false);
        pending.wait(&CancelToken::new()).unwrap();
    }
}
