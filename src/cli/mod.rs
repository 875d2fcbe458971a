//! Subcommands of the `sotto` binary beyond transcription.

pub mod assistant;
pub mod dictate;
pub mod models;
pub mod notes;
pub mod reminders;
pub mod settings;

use std::path::PathBuf;

use sotto::asr::TranscribeOptions;
use sotto::paths::Dirs;

/// The model and cache dirs: the platform's, with `$SOTTO_MODELS_DIR` searched first (and
/// installed into) and `$SOTTO_CACHE` as the cache root.
pub fn dirs() -> Dirs {
    let mut dirs = Dirs::platform();
    if let Some(d) = std::env::var_os("SOTTO_MODELS_DIR") {
        dirs.models = Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("SOTTO_CACHE") {
        dirs.cache = PathBuf::from(d);
    }
    dirs
}

/// The recogniser's flags, shared by `transcribe` and `dictate`.
#[derive(clap::Args)]
pub struct RecogniserArgs {
    /// whisper.cpp ggml model file [default: tiny.en from the model dirs: ggml-tiny.en-bf16.bin
    /// where the CPU has AVX512-BF16 and the file exists, else ggml-tiny.en.bin].
    #[arg(short, long, env = "SOTTO_MODEL", value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// CPU threads for the recogniser [default: cores - 1, at most 4; never more than the cores].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Spoken language (ISO 639-1 code such as en, de, pt) or "auto"; English-only models accept only en.
    #[arg(short, long, value_name = "xx")]
    pub language: Option<String>,
    /// Words to prime the recogniser with: names, jargon, preferred spellings.
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
}

impl RecogniserArgs {
    /// The transcription options these flags ask for.
    pub fn options(&self) -> TranscribeOptions {
        TranscribeOptions {
            threads: self.threads.map_or_else(sotto::asr::default_threads, usize::from),
            language: self.language.clone(),
            initial_prompt: self.prompt.clone(),
            ..TranscribeOptions::default()
        }
    }
}
