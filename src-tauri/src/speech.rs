//! The one speech model of the app: loaded on first use (dictation, import), shared by every
//! job, and released after an idle time so an app left open does not keep ~100 MB for nothing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sotto::asr::Transcriber;
use sotto::models::{Manifest, ModelKind, installed};
use sotto::paths::Dirs;

use crate::error::{AppError, AppResult};

/// The shared speech model.
pub struct Speech {
    dirs: Dirs,
    loaded: Mutex<Option<Loaded>>,
}

struct Loaded {
    path: PathBuf,
    transcriber: Arc<Transcriber>,
    last_used: Instant,
}

impl Speech {
    /// Nothing loaded yet.
    pub fn new(dirs: Dirs) -> Self {
        Self { dirs, loaded: Mutex::new(None) }
    }

    /// The model `model_id` (a manifest id; `None`: the default), loaded now if it is not.
    /// Jobs that hold the `Arc` keep it alive past a release.
    pub fn get(&self, model_id: Option<&str>) -> AppResult<Arc<Transcriber>> {
        let path = self.model_path(model_id)?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = loaded.as_mut().filter(|l| l.path == path) {
            l.last_used = Instant::now();
            return Ok(l.transcriber.clone());
        }
        // Loading under the lock: two jobs starting together load the model once.
        let transcriber = Arc::new(Transcriber::load(&path)?);
        *loaded = Some(Loaded { path, transcriber: transcriber.clone(), last_used: Instant::now() });
        Ok(transcriber)
    }

    /// Whether a model is loaded now.
    pub fn is_loaded(&self) -> bool {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Drop the model if nobody used it during `idle`; returns whether it did.
    pub fn release_if_idle(&self, idle: Duration) -> bool {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if loaded.as_ref().is_some_and(|l| l.last_used.elapsed() >= idle) {
            *loaded = None;
            tracing::info!("speech model released after {idle:?} unused");
            return true;
        }
        false
    }

    /// Keep the model from being released while a long job uses it.
    pub fn touch(&self) {
        if let Some(l) = self.loaded.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            l.last_used = Instant::now();
        }
    }

    /// The file of `model_id`: the default model's best file for this CPU, or the first
    /// installed ggml variant of the chosen model.
    pub fn model_path(&self, model_id: Option<&str>) -> AppResult<PathBuf> {
        let manifest = Manifest::embedded();
        let default = manifest.default_model(ModelKind::Whisper).map(|m| m.id.as_str());
        match model_id {
            None => self.dirs.default_model().map_err(|_| AppError::NoModel),
            Some(id) if Some(id) == default => self.dirs.default_model().map_err(|_| AppError::NoModel),
            Some(id) => {
                let model = manifest
                    .model(id)
                    .filter(|m| m.kind == ModelKind::Whisper)
                    .ok_or_else(|| AppError::NotFound(format!("no speech model {id:?}")))?;
                let dirs = self.dirs.model_dirs();
                model
                    .variants
                    .iter()
                    .find_map(|v| match installed::state(v, &dirs) {
                        installed::FileState::Installed { path, .. } if v.file.ends_with(".bin") => Some(path),
                        _ => None,
                    })
                    .ok_or(AppError::NoModel)
            }
        }
    }
}
