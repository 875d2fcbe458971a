//! Writing a journal: samples are sealed in fixed chunks and written as they arrive, and synced
//! to disk (on a thread of its own) at least once per second of audio, so a killed process loses
//! at most the chunk being filled.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::format::{Header, to_i16};
use super::{FILE_EXT, FinishedRecording, RecordingError, lock_error};
use crate::vault::Key;

/// An open, growing recording: 16 kHz mono f32 in, encrypted chunks out. The file is locked
/// while the writer lives, so no recovery takes it for an interrupted one.
#[derive(Debug)]
pub struct RecordingWriter {
    file: File,
    path: PathBuf,
    name: String,
    header: HeaderBox,
    /// Samples not yet in a sealed chunk (fewer than a chunk, unless a write failed).
    pending: Vec<i16>,
    /// Chunks sealed and written.
    chunks: u32,
    /// Header plus sealed chunks: where the next chunk goes.
    written: u64,
    /// Samples in sealed chunks.
    samples: u64,
    /// Samples written since the last `sync_data`.
    unsynced: u64,
    /// Syncs the file on its own thread.
    syncer: Syncer,
}

/// Calls `sync_data` on a clone of the file on its own thread: writing the next chunk (which is
/// what survives a `kill -9`: it is in the kernel's cache) never waits for the disk, which under
/// load took long enough for the microphone's audio to pile up unwritten in the process.
#[derive(Debug)]
struct Syncer {
    requests: Option<std::sync::mpsc::Sender<()>>,
    /// The first error a background sync met, reported by the next write.
    error: std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>,
    /// Joined on drop: its clone of the file holds the file's lock until it exits.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Syncer {
    fn start(file: File) -> Self {
        let (requests, rx) = std::sync::mpsc::channel::<()>();
        let error = std::sync::Arc::new(std::sync::Mutex::new(None));
        let failed = error.clone();
        // Ends when the writer (the sender) is dropped.
        let thread = std::thread::Builder::new()
            .name("sotto-journal-sync".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // Requests that piled up while syncing are served by one sync.
                    while rx.try_recv().is_ok() {}
                    if let Err(e) = file.sync_data() {
                        failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                    }
                }
            })
            .ok();
        Self { requests: Some(requests), error, thread }
    }

    fn request(&self) {
        if let Some(requests) = &self.requests {
            let _ = requests.send(());
        }
    }

    fn take_error(&self) -> Option<std::io::Error> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `Header` holds the cipher, which has no `Debug`; this keeps key material out of debug output.
struct HeaderBox(Header);

impl std::fmt::Debug for HeaderBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Header {{ sample_rate: {}, chunk_samples: {} }}", self.0.sample_rate, self.0.chunk_samples)
    }
}

impl RecordingWriter {
    /// Start a new recording in `dir` (created if missing) under a random file name; chunks of
    /// half a second.
    pub fn create(dir: &Path, key: &Key, sample_rate: u32) -> Result<Self, RecordingError> {
        Self::create_with_chunk(dir, key, sample_rate, (sample_rate / 2).max(1))
    }

    pub(crate) fn create_with_chunk(
        dir: &Path,
        key: &Key,
        sample_rate: u32,
        chunk_samples: u32,
    ) -> Result<Self, RecordingError> {
        if sample_rate == 0 || sample_rate > 384_000 {
            return Err(RecordingError::SampleRate(sample_rate));
        }
        std::fs::create_dir_all(dir).map_err(|e| RecordingError::io(dir, e))?;
        let random = |path: &Path| {
            let mut id = [0u8; 16];
            getrandom::fill(&mut id)
                .map_err(|e| RecordingError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
            Ok::<_, RecordingError>(hex::encode(id))
        };
        let name = format!("{}.{FILE_EXT}", random(dir)?);
        let path = dir.join(&name);
        // Born under a temporary name and renamed once locked and headed: a listing never sees a
        // journal its writer does not hold yet.
        let tmp = dir.join(format!("{name}.tmp"));
        let io = |e| RecordingError::io(&tmp, e);
        let mut file = File::options().read(true).write(true).create_new(true).open(&tmp).map_err(io)?;
        let made = (|| {
            file.try_lock().map_err(|e| lock_error(&tmp, e))?;
            let (header, bytes) = Header::new(key, sample_rate, chunk_samples)
                .map_err(|e| RecordingError::Io { path: tmp.clone(), source: std::io::Error::other(e) })?;
            file.write_all(&bytes).map_err(io)?;
            file.sync_data().map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
            sync_dir(dir)?;
            Ok::<_, RecordingError>((header, bytes.len() as u64))
        })();
        let (header, written) = match made {
            Ok(made) => made,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let syncer = Syncer::start(file.try_clone().map_err(|e| RecordingError::io(&path, e))?);
        Ok(Self {
            file,
            path,
            name,
            header: HeaderBox(header),
            pending: Vec::new(),
            chunks: 0,
            written,
            samples: 0,
            unsynced: 0,
            syncer,
        })
    }

    /// The file name inside the recordings dir (random hex; never user text).
    pub fn file_name(&self) -> &str {
        &self.name
    }

    /// Audio taken so far, sealed or not, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        (self.samples + self.pending.len() as u64) * 1000 / self.header.0.sample_rate as u64
    }

    /// Add samples (mono, at the writer's rate, in [-1, 1]; louder is clipped). Every full chunk
    /// is sealed and written at once. On an error (a full disk) the file still ends at its last
    /// whole chunk and the samples stay buffered: a later call or `finish` retries them.
    pub fn append(&mut self, pcm: &[f32]) -> Result<(), RecordingError> {
        self.pending.extend(pcm.iter().map(|&x| to_i16(x)));
        self.write_full_chunks()
    }

    /// Throw the recording away (a cancelled dictation): the file is closed and removed.
    pub fn discard(self) -> Result<(), RecordingError> {
        let path = self.path.clone();
        drop(self);
        std::fs::remove_file(&path).map_err(|e| RecordingError::io(&path, e))
    }

    /// Seal the rest as the final chunk, sync, and hand back what a note needs.
    pub fn finish(mut self) -> Result<FinishedRecording, RecordingError> {
        self.write_full_chunks()?;
        let rest = std::mem::take(&mut self.pending);
        self.write_chunk(&rest, true)?;
        Ok(FinishedRecording {
            file: self.name,
            duration_ms: self.samples * 1000 / self.header.0.sample_rate as u64,
            sample_rate: self.header.0.sample_rate,
            _lock: self.file,
        })
    }

    fn write_full_chunks(&mut self) -> Result<(), RecordingError> {
        let n = self.header.0.chunk_samples as usize;
        while self.pending.len() >= n {
            let chunk: Vec<i16> = self.pending[..n].to_vec();
            self.write_chunk(&chunk, false)?;
            self.pending.drain(..n);
        }
        Ok(())
    }

    fn write_chunk(&mut self, samples: &[i16], last: bool) -> Result<(), RecordingError> {
        if let Some(e) = self.syncer.take_error() {
            return Err(RecordingError::io(&self.path, e));
        }
        // u32::MAX is the key check's counter.
        if self.chunks == u32::MAX - 1 && !last {
            return Err(RecordingError::TooLong { path: self.path.clone() });
        }
        let sealed = self.header.0.seal(self.chunks, last, samples);
        let path = &self.path;
        let wrote = self
            .file
            .seek(SeekFrom::Start(self.written))
            .and_then(|_| self.file.write_all(&sealed))
            .map_err(|e| RecordingError::io(path, e));
        if let Err(e) = wrote {
            // A torn chunk would shift every later one: cut back to the last whole chunk, so the
            // file stays readable and a retry writes the same chunk again (same nonce, same bytes).
            let _ = self.file.set_len(self.written);
            return Err(e);
        }
        self.written += sealed.len() as u64;
        self.chunks += 1;
        self.samples += samples.len() as u64;
        self.unsynced += samples.len() as u64;
        if last {
            // A finished recording is durable before anyone is told it exists.
            self.file.sync_data().map_err(|e| RecordingError::io(path, e))?;
            self.unsynced = 0;
        } else if self.unsynced >= self.header.0.sample_rate as u64 {
            self.syncer.request();
            self.unsynced = 0;
        }
        Ok(())
    }
}

/// Make a new directory entry durable (a file synced but not its name can vanish on power loss).
fn sync_dir(dir: &Path) -> Result<(), RecordingError> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| RecordingError::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
