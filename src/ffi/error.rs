//! The one error type every exported function returns: a kind the caller can branch on and
//! the core's own message.

use crate::asr::AsrError;
use crate::audio::AudioError;
use crate::audio::capture::CaptureError;
use crate::dictation::SessionError;
use crate::models::{DownloadError, ManifestError};
use crate::notes::NotesError;
use crate::recording::RecordingError;
use crate::store::StoreError;
use crate::vault::VaultError;

/// Why a call failed. Swift: `SottoError.Audio(detail:)`; Kotlin: `SottoException.Audio`;
/// Python: `SottoError.Audio`. `detail` is the core's message, with its causes.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SottoError {
    /// An argument the call cannot use: an empty query, a negative id, a bad time.
    #[error("{detail}")]
    InvalidInput {
        /// What is wrong with it.
        detail: String,
    },
    /// The note, model or variant asked for does not exist.
    #[error("{detail}")]
    NotFound {
        /// What was not found.
        detail: String,
    },
    /// The passphrase (or recovery key) does not open the vault.
    #[error("{detail}")]
    WrongPassphrase {
        /// The vault's message.
        detail: String,
    },
    /// The notes were locked (`Notes.lock`): unlock again to use them.
    #[error("{detail}")]
    Locked {
        /// What was refused.
        detail: String,
    },
    /// An audio file that cannot be read or decoded (missing, truncated, not audio).
    #[error("{detail}")]
    Audio {
        /// The decoder's message.
        detail: String,
    },
    /// A model file that cannot be used (missing, corrupt, wrong kind), or a bad manifest.
    #[error("{detail}")]
    Model {
        /// What is wrong with it.
        detail: String,
    },
    /// whisper.cpp failed while transcribing.
    #[error("{detail}")]
    Transcription {
        /// whisper.cpp's message.
        detail: String,
    },
    /// The microphone could not be opened or went away.
    #[error("{detail}")]
    Microphone {
        /// The audio system's message.
        detail: String,
    },
    /// The disk is full: nothing of the failed write was kept, earlier data is intact.
    #[error("{detail}")]
    DiskFull {
        /// What could not be written.
        detail: String,
    },
    /// The encrypted store, the vault or a recording could not be read or written.
    #[error("{detail}")]
    Storage {
        /// The store's message.
        detail: String,
    },
    /// A model download failed (network, checksum, size, another download of the same file).
    #[error("{detail}")]
    Download {
        /// The downloader's message.
        detail: String,
    },
    /// The caller cancelled the work.
    #[error("{detail}")]
    Cancelled {
        /// What was cancelled.
        detail: String,
    },
    /// The dictation session has ended: it takes no more audio.
    #[error("{detail}")]
    Ended {
        /// What was refused.
        detail: String,
    },
}

/// What a listener implemented in Swift, Kotlin or Python threw. The library logs it and goes
/// on: a bug in the app's listener must not end a dictation or a download.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ListenerError {
    /// The listener failed.
    #[error("{detail}")]
    Failed {
        /// What it threw.
        detail: String,
    },
}

/// Any exception a foreign listener throws arrives as this (without it, uniffi panics).
impl From<uniffi::UnexpectedUniFFICallbackError> for ListenerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ListenerError::Failed { detail: e.reason }
    }
}

impl SottoError {
    /// An argument the call cannot use.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        SottoError::InvalidInput { detail: detail.into() }
    }
}

/// `e` and its causes on one line: "model x.bin: cannot read: No such file or directory".
pub(crate) fn message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        source = cause.source();
    }
    text
}

impl From<AsrError> for SottoError {
    fn from(e: AsrError) -> Self {
        let detail = message(&e);
        match e {
            AsrError::ModelIo { .. } | AsrError::InvalidModel { .. } | AsrError::LoadFailed { .. } => {
                SottoError::Model { detail }
            }
            AsrError::Language { .. } => SottoError::InvalidInput { detail },
            AsrError::Cancelled => SottoError::Cancelled { detail },
            AsrError::Backend { .. } | AsrError::Whisper(_) => SottoError::Transcription { detail },
        }
    }
}

impl From<AudioError> for SottoError {
    fn from(e: AudioError) -> Self {
        let detail = message(&e);
        match e {
            AudioError::VadModel { .. } => SottoError::Model { detail },
            _ => SottoError::Audio { detail },
        }
    }
}

impl From<VaultError> for SottoError {
    fn from(e: VaultError) -> Self {
        let detail = message(&e);
        match e {
            VaultError::WrongPassphrase | VaultError::WrongRecoveryKey => SottoError::WrongPassphrase { detail },
            VaultError::EmptyPassphrase | VaultError::BadRecoveryKey(_) => SottoError::InvalidInput { detail },
            _ => SottoError::Storage { detail },
        }
    }
}

impl From<StoreError> for SottoError {
    fn from(e: StoreError) -> Self {
        let detail = message(&e);
        match e {
            StoreError::WrongKey => SottoError::WrongPassphrase { detail },
            StoreError::DiskFull { .. } => SottoError::DiskFull { detail },
            StoreError::NoSuchNote(_) | StoreError::NoSuchReminder(_) => SottoError::NotFound { detail },
            StoreError::EmptyQuery
            | StoreError::EmptyNote
            | StoreError::BadTag(_)
            | StoreError::EmptyReminder
            | StoreError::UnknownSetting { .. }
            | StoreError::BadSetting { .. } => SottoError::InvalidInput { detail },
            _ => SottoError::Storage { detail },
        }
    }
}

impl From<RecordingError> for SottoError {
    fn from(e: RecordingError) -> Self {
        let detail = message(&e);
        match e {
            RecordingError::DiskFull { .. } => SottoError::DiskFull { detail },
            _ => SottoError::Storage { detail },
        }
    }
}

impl From<NotesError> for SottoError {
    fn from(e: NotesError) -> Self {
        match e {
            NotesError::Vault(e) => e.into(),
            NotesError::Store(e) => e.into(),
            NotesError::Recording(e) => e.into(),
            NotesError::Audio(e) => e.into(),
            NotesError::Asr(e) => e.into(),
            NotesError::Embed(e) => SottoError::Model { detail: message(&e) },
            NotesError::NoRecording(_) => SottoError::NotFound { detail: message(&e) },
            NotesError::Cancelled => SottoError::Cancelled { detail: message(&e) },
            NotesError::WorkerGone(_) | NotesError::EmbeddingFailed { .. } => {
                SottoError::Storage { detail: message(&e) }
            }
        }
    }
}

impl From<CaptureError> for SottoError {
    fn from(e: CaptureError) -> Self {
        SottoError::Microphone { detail: message(&e) }
    }
}

impl From<SessionError> for SottoError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Capture(e) => e.into(),
            SessionError::Audio(e) => e.into(),
            SessionError::Asr(e) => e.into(),
            SessionError::Notes(e) => e.into(),
            SessionError::Thread(_) => SottoError::Transcription { detail: message(&e) },
            SessionError::Ended => SottoError::Ended { detail: message(&e) },
        }
    }
}

impl From<ManifestError> for SottoError {
    fn from(e: ManifestError) -> Self {
        SottoError::Model { detail: message(&e) }
    }
}

impl From<DownloadError> for SottoError {
    fn from(e: DownloadError) -> Self {
        let detail = message(&e);
        match e {
            DownloadError::Cancelled => SottoError::Cancelled { detail },
            DownloadError::DiskFull { .. } => SottoError::DiskFull { detail },
            _ => SottoError::Download { detail },
        }
    }
}
