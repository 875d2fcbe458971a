//! Where Sotto keeps models and caches on this device.

use std::path::PathBuf;

/// File name of the default model (Whisper tiny.en, f16 ggml).
pub const DEFAULT_MODEL_FILE: &str = "ggml-tiny.en.bin";

/// Sotto's cache root: `$SOTTO_CACHE`, else the platform cache dir + `sotto`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("SOTTO_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("sotto")))
        .unwrap_or_else(|| PathBuf::from(".sotto-cache"))
}

/// Where downloaded models are installed: `$SOTTO_MODELS_DIR`, else the app data dir.
pub fn install_dir() -> PathBuf {
    std::env::var_os("SOTTO_MODELS_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("sotto").join("models")))
        .unwrap_or_else(|| cache_dir().join("models"))
}

/// Directories searched for models, in order: `$SOTTO_MODELS_DIR`, the app data dir, the cache.
pub fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("SOTTO_MODELS_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(d) = dirs::data_dir() {
        dirs.push(d.join("sotto").join("models"));
    }
    dirs.push(cache_dir().join("models"));
    dirs
}

/// The first existing default model in [`model_dirs`], or the list searched.
pub fn default_model() -> Result<PathBuf, Vec<PathBuf>> {
    let candidates: Vec<PathBuf> = model_dirs().into_iter().map(|d| d.join(DEFAULT_MODEL_FILE)).collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(candidates)
}
