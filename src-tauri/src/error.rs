//! The one error type of the app's commands: a stable `code` the page maps to its own words,
//! and the core's message. Serialised as `{"code": …, "message": …}` (pinned by a test below).

use serde::Serialize;
use sotto::asr::AsrError;
use sotto::assistant::AssistantError;
use sotto::audio::AudioError;
use sotto::dictation::SessionError;
use sotto::notes::NotesError;
use sotto::recording::RecordingError;
use sotto::store::StoreError;
use sotto::vault::VaultError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The notes are locked: unlock first.
    #[error("the notes are locked")]
    Locked,
    /// A dictation is already running.
    #[error("a dictation is already running")]
    Busy,
    /// No speech model is installed.
    #[error("no speech model is installed: download one in Models")]
    NoModel,
    /// No such job, model or note.
    #[error("{0}")]
    NotFound(String),
    /// A request the page should not have made (a bad format, an empty passphrase).
    #[error("{0}")]
    Invalid(String),
    /// The vault: a wrong passphrase, a missing or damaged vault file, the keyring.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The notes library.
    #[error(transparent)]
    Notes(#[from] NotesError),
    /// A dictation session.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Loading the speech model.
    #[error(transparent)]
    Asr(#[from] AsrError),
    /// A voice command that cannot be carried out (no time, nothing to remember, no such reminder).
    #[error(transparent)]
    Assistant(#[from] AssistantError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A background task died (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code the page switches on (`web/src/lib/messages.ts`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Locked => "locked",
            AppError::Busy => "busy",
            AppError::NoModel => "no_model",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::Vault(e) => vault_code(e),
            AppError::Notes(e) => notes_code(e),
            AppError::Session(SessionError::Notes(e)) => notes_code(e),
            AppError::Session(SessionError::Asr(e)) | AppError::Asr(e) => asr_code(e),
            AppError::Session(e) => match e.code() {
                "no_device" => "no_microphone",
                code => code,
            },
            AppError::Assistant(AssistantError::Notes(e)) => notes_code(e),
            AppError::Assistant(AssistantError::NoSuchReminder(_)) => "not_found",
            AppError::Assistant(_) => "command_incomplete",
            AppError::Io { .. } => "io",
            AppError::Internal(_) => "internal",
        }
    }
}

fn vault_code(e: &VaultError) -> &'static str {
    match e {
        VaultError::WrongPassphrase | VaultError::WrongRecoveryKey => "wrong_passphrase",
        VaultError::EmptyPassphrase => "invalid",
        VaultError::Missing { .. } | VaultError::NoVault { .. } => "vault_missing",
        VaultError::Corrupt { .. } | VaultError::TooNew { .. } => "vault_corrupt",
        VaultError::NotInKeyring(_) | VaultError::Keyring(_) => "keyring",
        _ => "vault",
    }
}

fn notes_code(e: &NotesError) -> &'static str {
    match e {
        NotesError::Vault(e) => vault_code(e),
        NotesError::Store(StoreError::NoSuchNote(_)) => "not_found",
        NotesError::Store(StoreError::WrongKey) => "wrong_passphrase",
        NotesError::Store(StoreError::DiskFull { .. }) => "disk_full",
        NotesError::Store(StoreError::UnknownSetting { .. } | StoreError::BadSetting { .. }) => "bad_setting",
        NotesError::Store(StoreError::BadTag(_) | StoreError::EmptyNote | StoreError::EmptyQuery) => "invalid",
        NotesError::Store(StoreError::ReminderNotPending { .. }) => "not_pending",
        NotesError::Store(StoreError::NoSuchReminder(_)) => "not_found",
        NotesError::Store(_) => "store",
        NotesError::Recording(RecordingError::DiskFull { .. }) => "disk_full",
        NotesError::Recording(_) => "recording",
        NotesError::NoRecording(_) => "no_recording",
        NotesError::Audio(AudioError::Io { .. }) => "io",
        NotesError::Audio(_) => "bad_audio",
        NotesError::Asr(e) => asr_code(e),
        NotesError::Cancelled => "cancelled",
        NotesError::Embed(_) | NotesError::WorkerGone(_) | NotesError::EmbeddingFailed { .. } => "embedder",
    }
}

fn asr_code(e: &AsrError) -> &'static str {
    match e {
        AsrError::Cancelled => "cancelled",
        AsrError::ModelIo { .. } | AsrError::InvalidModel { .. } | AsrError::LoadFailed { .. } => "model",
        AsrError::Language { .. } => "invalid",
        _ => "asr",
    }
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("AppError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// The shape the page receives (for its TypeScript declaration).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[allow(dead_code)]
#[cfg_attr(feature = "ts", ts(rename = "AppError"))]
pub struct ErrorPayload {
    /// Stable code.
    pub code: String,
    /// Readable message.
    pub message: String,
}

/// The result of every command.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_page_as_code_and_message() {
        let json = serde_json::to_value(AppError::Vault(VaultError::WrongPassphrase)).unwrap();
        assert_eq!(json["code"], "wrong_passphrase");
        assert!(json["message"].as_str().unwrap().contains("passphrase"), "{json}");
        assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
        let locked = serde_json::to_value(AppError::Locked).unwrap();
        assert_eq!(locked, serde_json::json!({"code": "locked", "message": "the notes are locked"}));
    }

    #[test]
    fn a_missing_note_and_a_cancelled_import_have_their_own_codes() {
        assert_eq!(AppError::Notes(NotesError::Store(StoreError::NoSuchNote(7))).code(), "not_found");
        assert_eq!(AppError::Notes(NotesError::Asr(AsrError::Cancelled)).code(), "cancelled");
        assert_eq!(AppError::Notes(NotesError::Cancelled).code(), "cancelled");
    }
}
