//! Where Sotto keeps models and caches on this device.

use std::path::PathBuf;

/// File name of the default model (Whisper tiny.en, f16 ggml).
pub const DEFAULT_MODEL_FILE: &str = "ggml-tiny.en.bin";
/// Its bf16 variant (decoder in q8_0), preferred where the CPU multiplies bf16: same words,
/// ~1.5x faster with `--vad` (README, Benchmark).
pub const DEFAULT_MODEL_FILE_BF16: &str = "ggml-tiny.en-bf16.bin";

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

/// The first existing default model in [`model_dirs`] (in each, the bf16 variant first where the
/// CPU multiplies bf16), or the list searched.
pub fn default_model() -> Result<PathBuf, Vec<PathBuf>> {
    default_model_in(&model_dirs(), crate::asr::bf16_native())
}

fn default_model_in(dirs: &[PathBuf], bf16: bool) -> Result<PathBuf, Vec<PathBuf>> {
    let names: &[&str] = if bf16 { &[DEFAULT_MODEL_FILE_BF16, DEFAULT_MODEL_FILE] } else { &[DEFAULT_MODEL_FILE] };
    let candidates: Vec<PathBuf> = dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(candidates)
}

/// The Silero VAD model (`silero_vad_16k_sequence.onnx`), first found in [`model_dirs`].
pub fn silero_model() -> Option<PathBuf> {
    silero_model_in(&model_dirs())
}

fn silero_model_in(dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(crate::audio::silero::MODEL_FILE)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bf16_variant_is_preferred_in_each_dir_where_the_cpu_multiplies_it() {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let dirs = [first.path().to_path_buf(), second.path().to_path_buf()];
        assert_eq!(default_model_in(&dirs, true).unwrap_err().len(), 4, "both names in both dirs");
        assert_eq!(default_model_in(&dirs, false).unwrap_err().len(), 2);
        std::fs::write(second.path().join(DEFAULT_MODEL_FILE_BF16), b"").unwrap();
        assert_eq!(default_model_in(&dirs, true).unwrap(), second.path().join(DEFAULT_MODEL_FILE_BF16));
        assert!(default_model_in(&dirs, false).is_err(), "bf16 only where the CPU multiplies it");
        // An earlier dir still wins: SOTTO_MODELS_DIR overrides what is installed elsewhere.
        std::fs::write(first.path().join(DEFAULT_MODEL_FILE), b"").unwrap();
        assert_eq!(default_model_in(&dirs, true).unwrap(), first.path().join(DEFAULT_MODEL_FILE));
        std::fs::write(first.path().join(DEFAULT_MODEL_FILE_BF16), b"").unwrap();
        assert_eq!(default_model_in(&dirs, true).unwrap(), first.path().join(DEFAULT_MODEL_FILE_BF16));
        assert_eq!(default_model_in(&dirs, false).unwrap(), first.path().join(DEFAULT_MODEL_FILE));
    }

    #[test]
    fn the_silero_model_is_found_in_the_first_dir_that_has_it() {
        let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let dirs = [first.path().to_path_buf(), second.path().to_path_buf()];
        assert_eq!(silero_model_in(&dirs), None);
        std::fs::write(second.path().join(crate::audio::silero::MODEL_FILE), b"").unwrap();
        assert_eq!(silero_model_in(&dirs), Some(second.path().join(crate::audio::silero::MODEL_FILE)));
        std::fs::write(first.path().join(crate::audio::silero::MODEL_FILE), b"").unwrap();
        assert_eq!(silero_model_in(&dirs), Some(first.path().join(crate::audio::silero::MODEL_FILE)));
    }
}
