//! Recordings kept encrypted and crash-safe: an append-only audio journal per recording, sealed
//! with the vault's data key as the audio arrives (see `format` for the bytes), readable by time
//! range without decrypting the rest. A journal cut off by a crash reads up to its last whole
//! chunk and says it is unfinished; an altered one is an error, never silently skipped.

mod error;
mod format;
mod reader;
mod writer;

use std::fs::{File, TryLockError};
use std::path::Path;

pub use error::RecordingError;
pub use format::{to_f32, to_i16};
pub(crate) use reader::seal_unfinished;
pub use reader::{Recording, wav_bytes};
pub use writer::RecordingWriter;

/// The directory inside the data dir that holds the recordings.
pub const RECORDINGS_DIR: &str = "recordings";
/// Extension of a recording file.
pub const FILE_EXT: &str = "rec";

/// A recording its writer finished: what a note needs to keep it. Until it is saved with a
/// note (or dropped) it keeps the file locked, so recovery does not take it for an interrupted one.
#[derive(Debug)]
pub struct FinishedRecording {
    /// File name inside the recordings dir (random hex).
    pub file: String,
    /// Length in milliseconds.
    pub duration_ms: u64,
    /// Samples per second.
    pub sample_rate: u32,
    pub(crate) _lock: File,
}

/// Names of the recording files in `dir` (none if it does not exist), sorted.
pub fn journal_names(dir: &Path) -> Result<Vec<String>, RecordingError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RecordingError::io(dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RecordingError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_journal_name(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Whether `name` is one the writer makes: 32 hex digits and the extension.
pub fn is_journal_name(name: &str) -> bool {
    name.strip_suffix(&format!(".{FILE_EXT}"))
        .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Lock a journal for recovery; `None` while a writer (in any process) still holds it.
pub(crate) fn try_lock(path: &Path) -> Result<Option<File>, RecordingError> {
    let file = File::options().read(true).write(true).open(path).map_err(|e| RecordingError::io(path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(RecordingError::io(path, e)),
    }
}

fn lock_error(path: &Path, e: TryLockError) -> RecordingError {
    let source = match e {
        TryLockError::WouldBlock => std::io::Error::new(std::io::ErrorKind::WouldBlock, "locked by another writer"),
        TryLockError::Error(e) => e,
    };
    RecordingError::io(path, source)
}

#[cfg(test)]
mod tests;
