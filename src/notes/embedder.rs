//! The library's sentence embedder, loaded on first use (a search by meaning, a note to embed)
//! and dropped after an idle time: MiniLM costs ~90 MB that an app left open, or a CLI command
//! that never searches by meaning, should not hold.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::EmbedderFiles;
use crate::text::{EmbedError, Embedder};

/// The embedder of one library, loaded when first asked for.
pub(super) struct LazyEmbedder {
    files: EmbedderFiles,
    threads: usize,
    loaded: Mutex<Option<Loaded>>,
}

struct Loaded {
    embedder: Arc<Embedder>,
    last_used: Instant,
}

impl LazyEmbedder {
    /// Nothing loaded yet; `threads` for each inference.
    pub(super) fn new(files: EmbedderFiles, threads: usize) -> Self {
        Self { files, threads, loaded: Mutex::new(None) }
    }

    /// The embedder, loaded now if it is not (a failed load is tried again at the next call).
    /// Callers holding the `Arc` keep it alive past a release.
    pub(super) fn get(&self) -> Result<Arc<Embedder>, EmbedError> {
        // Loading under the lock: the worker and a search asking together load it once.
        let mut loaded = self.lock();
        if let Some(l) = loaded.as_mut() {
            l.last_used = Instant::now();
            return Ok(l.embedder.clone());
        }
        let embedder = Arc::new(Embedder::load(&self.files.onnx, &self.files.tokenizer)?.with_threads(self.threads));
        *loaded = Some(Loaded { embedder: embedder.clone(), last_used: Instant::now() });
        Ok(embedder)
    }

    /// Drop the embedder if it was not asked for during `idle`; returns whether it did.
    pub(super) fn release_if_idle(&self, idle: Duration) -> bool {
        let mut loaded = self.lock();
        if loaded.as_ref().is_some_and(|l| l.last_used.elapsed() >= idle) {
            *loaded = None;
            return true;
        }
        false
    }

    /// Whether the embedder is in memory now.
    pub(super) fn is_loaded(&self) -> bool {
        self.lock().is_some()
    }

    /// A panic while loading leaves nothing half-set: the slot is written once the load is done.
    fn lock(&self) -> MutexGuard<'_, Option<Loaded>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
