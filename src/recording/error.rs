use std::path::PathBuf;

/// Why a recording could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The disk is full; every chunk sealed before stays readable.
    #[error("{path}: the disk is full; the recording so far is kept")]
    DiskFull {
        /// The recording file.
        path: PathBuf,
    },
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The key does not open this recording (or its header was altered).
    #[error("{path}: wrong key, or the recording's header was altered")]
    WrongKey {
        /// The recording file.
        path: PathBuf,
    },
    /// Not a Sotto recording (no magic, or shorter than its header).
    #[error("{path}: not a Sotto recording")]
    NotARecording {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer Sotto.
    #[error("{path}: recording format version {version} is not supported")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u8,
    },
    /// A chunk does not authenticate: altered, reordered or damaged.
    #[error("{path}: audio chunk {chunk} was altered or damaged")]
    Tampered {
        /// The file.
        path: PathBuf,
        /// Index of the chunk, from 0.
        chunk: u64,
    },
    /// A recording that was finished is now shorter (cut off or its end altered).
    #[error("{path}: the recording is cut short ({found_ms} ms of {expected_ms} ms)")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The length saved with the note.
        expected_ms: u64,
        /// What the file still holds.
        found_ms: u64,
    },
    /// The time range asked for is reversed.
    #[error("invalid time range {start_ms}..{end_ms} ms")]
    Range {
        /// Start asked for.
        start_ms: u64,
        /// End asked for.
        end_ms: u64,
    },
    /// The writer was handed a sample rate of zero.
    #[error("unsupported sample rate {0} Hz")]
    SampleRate(u32),
    /// More chunks than the nonce counter can number (decades of audio).
    #[error("{path}: the recording is too long")]
    TooLong {
        /// The file.
        path: PathBuf,
    },
}

impl RecordingError {
    /// An I/O error on `path`, typed as [`RecordingError::DiskFull`] when the disk is full.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        if matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) {
            RecordingError::DiskFull { path: path.to_path_buf() }
        } else {
            RecordingError::Io { path: path.to_path_buf(), source }
        }
    }
}
