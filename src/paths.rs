//! Where Sotto keeps models and caches on this device.

use std::path::PathBuf;

/// File name of the default model (Whisper tiny.en, f16 ggml).
pub const DEFAULT_MODEL_FILE: &str = "ggml-tiny.en.bin";
/// Its bf16 variant (decoder in q8_0), preferred where the CPU multiplies bf16: same words,
/// ~1.5x faster with `--vad` (README, Benchmark).
pub const DEFAULT_MODEL_FILE_BF16: &str = "ggml-tiny.en-bf16.bin";

/// File name of the sentence embedder (MiniLM-L6-v2, ONNX).
pub const EMBEDDER_ONNX: &str = "all-MiniLM-L6-v2.onnx";
/// File name of its tokenizer.
pub const EMBEDDER_TOKENIZER: &str = "all-MiniLM-L6-v2.tokenizer.json";

/// The platform's data dir for notes (`~/.local/share/sotto` on Linux), where shells keep the
/// library unless told otherwise (the CLI's `--data-dir`, both shells' `$SOTTO_DATA_DIR`).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().map(|d| d.join("sotto")).unwrap_or_else(|| PathBuf::from(".sotto"))
}

/// Where models and caches are on this device. The shells fill it from their own flags and
/// environment (the CLI: `$SOTTO_MODELS_DIR`, `$SOTTO_CACHE`); the core reads no environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// Searched first and where downloads go, when set; else the app data dir's models.
    pub models: Option<PathBuf>,
    /// The app data dir's models (the platform data dir + `sotto/models`), where it has one.
    pub app_models: Option<PathBuf>,
    /// Sotto's cache root; its `models/` (where test fixtures are made) is searched after the
    /// data dirs.
    pub cache: PathBuf,
    /// Models shipped read-only with an installed app (the `.deb`'s `/usr/share/sotto/models`):
    /// searched last, so the first launch works offline; never installed into.
    pub bundled: Option<PathBuf>,
}

impl Dirs {
    /// The platform's directories, nothing overridden.
    pub fn platform() -> Self {
        Dirs {
            models: None,
            app_models: dirs::data_dir().map(|d| d.join("sotto").join("models")),
            cache: dirs::cache_dir().map(|d| d.join("sotto")).unwrap_or_else(|| PathBuf::from(".sotto-cache")),
            bundled: None,
        }
    }

    /// Where downloaded models are installed: `models`, else the app data dir's, else the cache's.
    pub fn install_dir(&self) -> PathBuf {
        self.model_dirs().remove(0)
    }

    /// Directories searched for models, in order, each once: `models`, the app data dir's, the
    /// cache's, the bundled one. The install dir is the first (never the bundled one: the cache's
    /// always comes before it).
    pub fn model_dirs(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        let searched = self.models.iter().chain(&self.app_models).cloned().chain([self.cache.join("models")]);
        for d in searched.chain(self.bundled.clone()) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    /// The first existing default model in [`Dirs::model_dirs`] (in each, the bf16 variant first
    /// where the CPU multiplies bf16), or the list searched.
    pub fn default_model(&self) -> Result<PathBuf, Vec<PathBuf>> {
        default_model_in(&self.model_dirs(), crate::asr::bf16_native())
    }

    /// The MiniLM embedder's files (search by meaning), from the first model dir that has both.
    pub fn embedder_files(&self) -> Option<crate::notes::EmbedderFiles> {
        self.model_dirs().into_iter().find_map(|d| {
            let files =
                crate::notes::EmbedderFiles { onnx: d.join(EMBEDDER_ONNX), tokenizer: d.join(EMBEDDER_TOKENIZER) };
            (files.onnx.is_file() && files.tokenizer.is_file()).then_some(files)
        })
    }

    /// The voice-activity detector for live audio: Silero where its model is installed (it
    /// tells speech from room noise; the energy VAD mistakes steady noise for speech and misses
    /// pauses in it), else the energy VAD.
    pub fn live_vad(&self) -> Result<crate::audio::vad::VadConfig, crate::audio::AudioError> {
        use crate::audio::vad::VadConfig;
        match self.silero_model() {
            Some(path) => {
                tracing::info!("voice activity: Silero ({})", path.display());
                Ok(VadConfig::with_silero(std::sync::Arc::new(crate::audio::SileroModel::load(&path)?)))
            }
            None => {
                tracing::warn!("Silero VAD model not installed: pauses are found by loudness alone");
                Ok(VadConfig::default())
            }
        }
    }

    /// The Silero VAD model (`silero_vad_16k_sequence.onnx`), first found in [`Dirs::model_dirs`].
    pub fn silero_model(&self) -> Option<PathBuf> {
        silero_model_in(&self.model_dirs())
    }
}

fn default_model_in(dirs: &[PathBuf], bf16: bool) -> Result<PathBuf, Vec<PathBuf>> {
    let names: &[&str] = if bf16 { &[DEFAULT_MODEL_FILE_BF16, DEFAULT_MODEL_FILE] } else { &[DEFAULT_MODEL_FILE] };
    let candidates: Vec<PathBuf> = dirs.iter().flat_map(|d| names.iter().map(move |n| d.join(n))).collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(candidates)
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
    fn an_override_is_searched_first_and_installed_into() {
        let dirs =
            Dirs { models: None, app_models: Some("/data/models".into()), cache: "/cache".into(), bundled: None };
        assert_eq!(dirs.install_dir(), PathBuf::from("/data/models"));
        assert_eq!(dirs.model_dirs(), [PathBuf::from("/data/models"), PathBuf::from("/cache/models")]);
        let dirs = Dirs { models: Some("/mine".into()), ..dirs };
        assert_eq!(dirs.install_dir(), PathBuf::from("/mine"));
        assert_eq!(dirs.model_dirs().len(), 3);
        // The same dir named twice is searched once; no data dir: the cache takes the downloads.
        let dirs =
            Dirs { models: Some("/cache/models".into()), app_models: None, cache: "/cache".into(), bundled: None };
        assert_eq!(dirs.model_dirs(), [PathBuf::from("/cache/models")]);
        assert_eq!(Dirs { models: None, ..dirs.clone() }.install_dir(), PathBuf::from("/cache/models"));
        // The models a package ships are searched last and never installed into.
        let dirs = Dirs { bundled: Some("/usr/share/sotto/models".into()), ..dirs };
        assert_eq!(dirs.model_dirs(), [PathBuf::from("/cache/models"), PathBuf::from("/usr/share/sotto/models")]);
        assert_eq!(dirs.install_dir(), PathBuf::from("/cache/models"));
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
