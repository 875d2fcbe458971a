use std::path::PathBuf;

/// Why audio could not be read or converted.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file has zero bytes.
    #[error("{path}: file is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The bytes are not an audio container or codec Sotto can decode.
    #[error("{path}: not a supported audio file (WAV, MP3, FLAC, Ogg Vorbis, AAC/M4A, MKV/WebM)")]
    Unsupported {
        /// The file.
        path: PathBuf,
    },
    /// The container was recognised but is cut short or damaged.
    #[error("{path}: truncated or corrupt audio: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        detail: String,
    },
    /// The file is valid but holds no samples.
    #[error("{path}: contains no audio samples")]
    NoSamples {
        /// The file.
        path: PathBuf,
    },
    /// A sample rate of zero or beyond what any device records.
    #[error("unsupported sample rate {0} Hz")]
    SampleRate(u32),
    /// The resampler rejected its input.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// The voice-activity model file is not a runnable Silero VAD model.
    #[error("{path}: not a usable Silero VAD model: {detail}")]
    VadModel {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        detail: String,
    },
    /// The voice-activity model failed on audio after loading.
    #[error("voice-activity model failed: {0}")]
    VadRun(String),
}
