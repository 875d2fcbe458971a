use std::path::PathBuf;

/// Why a model could not be loaded or a transcription did not finish.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// The model file could not be opened or read.
    #[error("model {path}: cannot read")]
    ModelIo {
        /// The model file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a usable whisper.cpp model.
    #[error("model {path}: {detail}")]
    InvalidModel {
        /// The model file.
        path: PathBuf,
        /// What is wrong, in words.
        detail: String,
    },
    /// ggml's CPU kernels (modules shipped next to the binary) could not be loaded.
    #[error("whisper.cpp cannot run: {detail}")]
    Backend {
        /// What is missing, in words.
        detail: String,
    },
    /// whisper.cpp refused the model after validation passed.
    #[error("model {path}: whisper.cpp could not load it")]
    LoadFailed {
        /// The model file.
        path: PathBuf,
    },
    /// The requested language is not one the model knows.
    #[error("language '{language}' is not supported by this model ({reason})")]
    Language {
        /// The code asked for.
        language: String,
        /// Why it is refused.
        reason: String,
    },
    /// The caller cancelled the job.
    #[error("transcription cancelled")]
    Cancelled,
    /// whisper.cpp reported a failure while transcribing.
    #[error("transcription failed: {0}")]
    Whisper(String),
}

impl From<whisper_rs::WhisperError> for AsrError {
    fn from(e: whisper_rs::WhisperError) -> Self {
        AsrError::Whisper(e.to_string())
    }
}
