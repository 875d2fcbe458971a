//! Reading a journal: the header is checked against the key, chunk positions follow from the
//! chunk size, and only the chunks a range touches are read and authenticated.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::RecordingError;
use super::format::{HEADER_LEN, Header, HeaderError, TAG_LEN, to_f32};
use crate::vault::Key;

/// An open recording, finished or not; safe to share between threads.
pub struct Recording {
    file: Mutex<File>,
    path: PathBuf,
    header: Header,
    /// Whole chunks before the final one (all of them in an unfinished file).
    whole: u64,
    /// Samples in the final chunk; `None` when the file has no final chunk (unfinished).
    last_samples: Option<u64>,
    /// Bytes after the whole chunks that are no final chunk: a write cut short by a crash.
    torn_bytes: u64,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("path", &self.path)
            .field("sample_rate", &self.header.sample_rate)
            .field("samples", &self.samples())
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl Recording {
    /// Open `path` with the data key. Only the header and the final chunk are checked here; every
    /// read authenticates the chunks it touches (see [`Recording::verify`] for all of them).
    pub fn open(path: &Path, key: &Key) -> Result<Self, RecordingError> {
        let io = |e| RecordingError::io(path, e);
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut head = vec![0u8; HEADER_LEN.min(len as usize)];
        file.read_exact(&mut head).map_err(io)?;
        let header = Header::parse(key, &head).map_err(|e| match e {
            HeaderError::NotARecording => RecordingError::NotARecording { path: path.to_path_buf() },
            HeaderError::Version(version) => RecordingError::UnsupportedVersion { path: path.to_path_buf(), version },
            HeaderError::WrongKey => RecordingError::WrongKey { path: path.to_path_buf() },
        })?;
        let full = header.full_chunk_len();
        let body = len - HEADER_LEN as u64;
        let (whole, rest) = (body / full, body % full);
        if whole >= u32::MAX as u64 {
            return Err(RecordingError::TooLong { path: path.to_path_buf() });
        }
        let mut rec = Recording {
            file: Mutex::new(file),
            path: path.to_path_buf(),
            header,
            whole,
            last_samples: None,
            torn_bytes: rest,
        };
        // A final chunk is shorter than a full one and at least a tag; anything else after the
        // whole chunks is a torn write (the process died mid-chunk): unfinished, not an error.
        if rest >= TAG_LEN as u64 {
            let bytes = rec.read_at(HEADER_LEN as u64 + whole * full, rest as usize)?;
            if let Ok(samples) = rec.header.open(whole as u32, true, &bytes) {
                rec.last_samples = Some(samples.len() as u64);
                rec.torn_bytes = 0;
            }
        }
        Ok(rec)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.header.sample_rate
    }

    /// Whether the writer finished it; an unfinished one was cut off (crash, kill, full disk).
    pub fn is_finished(&self) -> bool {
        self.last_samples.is_some()
    }

    /// Bytes after the last whole chunk that cannot be read (a chunk torn by a crash).
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Samples readable: every whole chunk, and the final one.
    pub fn samples(&self) -> u64 {
        self.whole * self.header.chunk_samples as u64 + self.last_samples.unwrap_or(0)
    }

    /// Readable audio in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples() * 1000 / self.header.sample_rate as u64
    }

    /// Samples from `start_ms` to `end_ms` (clamped to the recording) as f32 in [-1, 1).
    pub fn pcm(&self, start_ms: u64, end_ms: u64) -> Result<Vec<f32>, RecordingError> {
        let (start, end) = self.range(start_ms, end_ms)?;
        Ok(self.read_samples(start, end)?.into_iter().map(to_f32).collect())
    }

    /// The range as a 16-bit mono WAV file in memory (for playback).
    pub fn wav(&self, start_ms: u64, end_ms: u64) -> Result<Vec<u8>, RecordingError> {
        let (start, end) = self.range(start_ms, end_ms)?;
        Ok(wav_bytes(&self.read_samples(start, end)?, self.header.sample_rate))
    }

    /// Authenticate every chunk.
    pub fn verify(&self) -> Result<(), RecordingError> {
        let per = self.header.chunk_samples as u64;
        // Chunk by chunk, so a long recording is never all in memory.
        for i in 0..self.whole + self.is_finished() as u64 {
            self.read_samples(i * per, ((i + 1) * per).min(self.samples()))?;
        }
        Ok(())
    }

    /// Sample indices for a millisecond range, clamped.
    fn range(&self, start_ms: u64, end_ms: u64) -> Result<(u64, u64), RecordingError> {
        if start_ms > end_ms {
            return Err(RecordingError::Range { start_ms, end_ms });
        }
        let at = |ms: u64| ((ms as u128 * self.header.sample_rate as u128 / 1000) as u64).min(self.samples());
        Ok((at(start_ms), at(end_ms)))
    }

    /// Samples `start..end` (within the recording), reading only the chunks they lie in.
    fn read_samples(&self, start: u64, end: u64) -> Result<Vec<i16>, RecordingError> {
        let per = self.header.chunk_samples as u64;
        let mut out = Vec::with_capacity((end - start) as usize);
        if start >= end {
            return Ok(out);
        }
        for i in start / per..=(end - 1) / per {
            let last = i == self.whole;
            let len = if last {
                self.last_samples.unwrap_or(0) as usize * 2 + TAG_LEN
            } else {
                self.header.full_chunk_len() as usize
            };
            let bytes = self.read_at(HEADER_LEN as u64 + i * self.header.full_chunk_len(), len)?;
            let samples = self
                .header
                .open(i as u32, last, &bytes)
                .map_err(|_| RecordingError::Tampered { path: self.path.clone(), chunk: i })?;
            let from = start.saturating_sub(i * per) as usize;
            let to = ((end - i * per) as usize).min(samples.len());
            out.extend_from_slice(&samples[from.min(to)..to]);
        }
        Ok(out)
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, RecordingError> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let mut buf = vec![0u8; len];
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|e| RecordingError::io(&self.path, e))?;
        Ok(buf)
    }
}

/// Give an unfinished journal (already locked by the caller) its final chunk, so it reads as a
/// finished recording: a torn tail, which no key can read, is cut first. Returns it reopened.
pub(crate) fn seal_unfinished(path: &Path, key: &Key) -> Result<Recording, RecordingError> {
    let rec = Recording::open(path, key)?;
    if rec.is_finished() {
        return Ok(rec);
    }
    let io = |e| RecordingError::io(path, e);
    let end = HEADER_LEN as u64 + rec.whole * rec.header.full_chunk_len();
    let sealed = rec.header.seal(rec.whole as u32, true, &[]);
    drop(rec);
    let mut file = File::options().write(true).open(path).map_err(io)?;
    file.set_len(end).map_err(io)?;
    file.seek(SeekFrom::Start(end)).and_then(|_| file.write_all(&sealed)).map_err(io)?;
    file.sync_data().map_err(io)?;
    Recording::open(path, key)
}

/// A canonical 44-byte-header PCM WAV of `samples`.
pub fn wav_bytes(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    // Past 4 GiB (37 hours) a WAV cannot say its size; players then read to the end.
    let data = (samples.len() as u64 * 2).min(u32::MAX as u64 - 36) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}
