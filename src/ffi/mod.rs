//! The native API (uniffi): what the phone apps, the iOS keyboard and the Android input method
//! call, generated into Swift, Kotlin and Python by `gen/generate`.
//!
//! Thin wrappers over the core, in the core's terms: transcription, the live dictation session
//! with a foreign listener, notes, models and the command parser. Every call returns
//! [`SottoError`] for bad input, never a panic across the boundary. Long calls block: the
//! caller runs them off its UI thread (Kotlin's `Dispatchers.IO`, a Swift `Task`).

mod assistant;
mod dictation;
mod error;
mod models;
mod notes;
mod transcribe;

pub use assistant::{CommandParser, ParsedCommand};
pub use dictation::{DictationEvent, DictationListener, DictationOptions, DictationSession, DictationStop};
pub use error::{ListenerError, SottoError};
pub use models::{
    Cancel, DeviceInfo, DevicePlatform, FetchListener, ModelCatalog, ModelVariant, Recommendation, this_device,
};
pub use notes::{EmbedderPaths, Note, NoteSummary, Notes, SearchHit, SearchMode};
pub use transcribe::{Segment, Transcriber};

/// This library's version (the `sotto` crate's).
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
