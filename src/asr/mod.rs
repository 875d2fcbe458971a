//! Speech recognition over whisper.cpp: model validation, full-file and streaming transcription.

mod error;
mod mel;
pub mod model;
mod native;
mod speech;
mod stream;
mod transcriber;

pub use crate::cancel::CancelToken;
pub use error::AsrError;
pub use model::{ModelInfo, inspect};
pub use native::{bf16_native, cpu_backend_features, load_cpu_backend};
pub use stream::{Hurry, Stream, StreamEvent, StreamOptions};
pub use transcriber::{Job, JobStats, Segment, TranscribeOptions, Transcriber, default_threads};
