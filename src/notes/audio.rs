//! A library's audio: recordings sealed in the data dir, audio → note, playback, and recovery of
//! recordings that a crash or kill interrupted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Library, NotesError};
use crate::asr::{Job, Segment, TranscribeOptions, Transcriber};
use crate::audio;
use crate::recording::{
    self, FinishedRecording, RECORDINGS_DIR, Recording, RecordingError, RecordingWriter, wav_bytes,
};
use crate::store::{NewNote, Source, StoredRecording};

/// A recording in the data dir that no note holds and no writer is writing: its session was
/// interrupted (a crash, a kill, a full disk) before it became a note.
#[derive(Debug)]
pub struct Interrupted {
    /// File name inside `recordings/`.
    pub file: String,
    /// Readable audio in milliseconds (0 when unreadable).
    pub duration_ms: u64,
    /// Whether its writer finished it (it then failed before the note was saved).
    pub finished: bool,
    /// Why it cannot be read, if it cannot: it is kept, never deleted.
    pub error: Option<RecordingError>,
}

/// Suffix of a recording being deleted (renamed aside before its note's row goes).
const ASIDE: &str = ".deleted";
/// Suffix of a recording being created (renamed once locked and headed).
const BEING_BORN: &str = ".tmp";

/// Where a recording waits while its note is deleted.
pub(super) fn aside(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(ASIDE);
    PathBuf::from(p)
}

/// A note's audio, ready to read.
enum Audio {
    /// Sealed in the data dir.
    Journal(Recording),
    /// A note saved before Sotto kept audio: the user's file, decoded to 16 kHz mono.
    External(Vec<f32>),
}

impl Library {
    fn recordings_dir(&self) -> PathBuf {
        self.data_dir.join(RECORDINGS_DIR)
    }

    /// The file of a stored recording path when it is one of ours (`recordings/<hex>.rec`).
    pub(super) fn journal_path(&self, stored: &str) -> Option<PathBuf> {
        let name = stored.strip_prefix(RECORDINGS_DIR)?.strip_prefix('/')?;
        recording::is_journal_name(name).then(|| self.recordings_dir().join(name))
    }

    /// Start a recording in the data dir (16 kHz mono, sealed with the data key as it arrives).
    pub fn start_recording(&self) -> Result<RecordingWriter, NotesError> {
        Ok(RecordingWriter::create(&self.recordings_dir(), &self.key, audio::SAMPLE_RATE)?)
    }

    /// Transcribe an audio file (any supported format, rate and channels) into a note that keeps
    /// an encrypted copy of the audio, so it outlives the original.
    pub fn add_audio_file(
        &self,
        path: &Path,
        transcriber: &Transcriber,
        options: &TranscribeOptions,
        job: &Job,
    ) -> Result<i64, NotesError> {
        let pcm = audio::load_file(path)?;
        self.add_transcribed(&pcm, transcriber, options, job)
    }

    /// Transcribe 16 kHz mono samples into a note that keeps them (encrypted).
    pub fn add_samples(
        &self,
        pcm16k: &[f32],
        transcriber: &Transcriber,
        options: &TranscribeOptions,
        job: &Job,
    ) -> Result<i64, NotesError> {
        self.add_transcribed(pcm16k, transcriber, options, job)
    }

    fn add_transcribed(
        &self,
        pcm: &[f32],
        transcriber: &Transcriber,
        options: &TranscribeOptions,
        job: &Job,
    ) -> Result<i64, NotesError> {
        // Transcribed first: a failed or cancelled job leaves no file behind.
        let segments = transcriber.transcribe_with(pcm, options, job)?;
        let mut writer = self.start_recording()?;
        let path = self.recordings_dir().join(writer.file_name());
        // The caller still has the audio, so a copy that fails is removed rather than left to be
        // "recovered" as a second note later.
        let saved = writer
            .append(pcm)
            .map_err(NotesError::from)
            .and_then(|()| writer.finish().map_err(NotesError::from))
            .and_then(|finished| self.add_recording(finished, segments, Source::Audio));
        if saved.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        saved
    }

    /// Save a finished recording as a note with its transcript (the body joins the segments;
    /// an empty transcript still keeps the audio).
    pub fn add_recording(
        &self,
        recording: FinishedRecording,
        segments: Vec<Segment>,
        source: Source,
    ) -> Result<i64, NotesError> {
        let body = segments.iter().map(|s| s.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ");
        let note = NewNote {
            body,
            source: Some(source),
            segments,
            recording: Some((
                PathBuf::from(format!("{RECORDINGS_DIR}/{}", recording.file)),
                recording.duration_ms,
                recording.sample_rate,
            )),
            ..NewNote::default()
        };
        // The lock in `recording` is released only now, once a note holds the file.
        self.add(&note)
    }

    /// The audio saved with note `id`, if any.
    pub fn recording(&self, id: i64) -> Result<Option<StoredRecording>, NotesError> {
        Ok(self.store().recording(id)?)
    }

    /// Note `id`'s audio from `start_ms` to `end_ms` (clamped to its length), 16 kHz mono.
    pub fn recording_pcm(&self, id: i64, start_ms: u64, end_ms: u64) -> Result<Vec<f32>, NotesError> {
        match self.open_audio(id)? {
            Audio::Journal(rec) => Ok(rec.pcm(start_ms, end_ms)?),
            Audio::External(pcm) => Ok(slice(&pcm, start_ms, end_ms)?.to_vec()),
        }
    }

    /// Note `id`'s audio from `start_ms` to `end_ms` as a 16-bit mono WAV in memory, for playback.
    pub fn recording_wav(&self, id: i64, start_ms: u64, end_ms: u64) -> Result<Vec<u8>, NotesError> {
        match self.open_audio(id)? {
            Audio::Journal(rec) => Ok(rec.wav(start_ms, end_ms)?),
            Audio::External(pcm) => {
                let samples: Vec<i16> = slice(&pcm, start_ms, end_ms)?.iter().map(|&x| recording::to_i16(x)).collect();
                Ok(wav_bytes(&samples, audio::SAMPLE_RATE))
            }
        }
    }

    fn open_audio(&self, id: i64) -> Result<Audio, NotesError> {
        let stored = self.recording(id)?.ok_or(NotesError::NoRecording(id))?;
        let Some(path) = self.journal_path(&stored.path) else {
            return Ok(Audio::External(audio::load_file(Path::new(&stored.path))?));
        };
        let rec = Recording::open(&path, &self.key)?;
        // Saved notes hold finished recordings of a known length: less is a cut, not a crash.
        if !rec.is_finished() || rec.duration_ms() != stored.duration_ms {
            return Err(RecordingError::Truncated {
                path,
                expected_ms: stored.duration_ms,
                found_ms: rec.duration_ms(),
            }
            .into());
        }
        Ok(Audio::Journal(rec))
    }

    /// Recordings in the data dir that no note holds and no writer (in any process) is writing.
    /// Each is read through to tell whether it can be recovered.
    pub fn interrupted(&self) -> Result<Vec<Interrupted>, NotesError> {
        let dir = self.recordings_dir();
        let names = recording::journal_names(&dir)?;
        let referenced: HashSet<String> = self.store().recording_paths()?.into_iter().collect();
        let mut out = Vec::new();
        for file in names {
            if referenced.contains(&format!("{RECORDINGS_DIR}/{file}")) {
                continue;
            }
            let path = dir.join(&file);
            let _lock = match recording::try_lock(&path) {
                Ok(Some(lock)) => lock,
                // A live writer's, or saved by now: not interrupted.
                Ok(None) => continue,
                Err(e) => {
                    out.push(Interrupted { file, duration_ms: 0, finished: false, error: Some(e) });
                    continue;
                }
            };
            out.push(match Recording::open(&path, &self.key).and_then(|r| r.verify().map(|()| r)) {
                Ok(rec) => {
                    Interrupted { file, duration_ms: rec.duration_ms(), finished: rec.is_finished(), error: None }
                }
                Err(e) => Interrupted { file, duration_ms: 0, finished: false, error: Some(e) },
            });
        }
        Ok(out)
    }

    /// Turn every interrupted recording into a note (source `Dictation`) with its transcript and
    /// audio; returns the new ids. One that cannot be read is logged and kept (it stays in
    /// [`Library::interrupted`] with its error); one with no audio at all is removed.
    pub fn recover_interrupted(
        &self,
        transcriber: &Transcriber,
        options: &TranscribeOptions,
    ) -> Result<Vec<i64>, NotesError> {
        self.tidy();
        let dir = self.recordings_dir();
        let mut ids = Vec::new();
        for file in recording::journal_names(&dir)? {
            let path = dir.join(&file);
            let lock = match recording::try_lock(&path) {
                Ok(Some(lock)) => lock,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!("interrupted recording {file}: {e}");
                    continue;
                }
            };
            // Checked under the lock: another process may have recovered it meanwhile.
            let stored = format!("{RECORDINGS_DIR}/{file}");
            if self.store().references_recording(&stored)? {
                continue;
            }
            let rec = match Recording::open(&path, &self.key)
                .and_then(|r| r.verify())
                .and_then(|()| recording::seal_unfinished(&path, &self.key))
            {
                Ok(rec) => rec,
                Err(e) => {
                    tracing::warn!("interrupted recording {file} cannot be read, kept: {e}");
                    continue;
                }
            };
            if rec.samples() == 0 {
                drop(lock);
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let pcm = match rec.pcm(0, u64::MAX) {
                Ok(pcm) => pcm,
                Err(e) => {
                    tracing::warn!("interrupted recording {file} cannot be read, kept: {e}");
                    continue;
                }
            };
            let segments = transcriber.transcribe_with(&pcm, options, &Job::default())?;
            let finished =
                FinishedRecording { file, duration_ms: rec.duration_ms(), sample_rate: rec.sample_rate(), _lock: lock };
            ids.push(self.add_recording(finished, segments, Source::Dictation)?);
        }
        Ok(ids)
    }

    /// Finish what a crash left half done: files being created (no audio yet) and recordings
    /// set aside for deletion (removed, or put back when their note is still there).
    fn tidy(&self) {
        let dir = self.recordings_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if let Some(journal) = name.strip_suffix(ASIDE).filter(|j| recording::is_journal_name(j)) {
                let kept = self.store().references_recording(&format!("{RECORDINGS_DIR}/{journal}"));
                let done = match kept {
                    Ok(true) => std::fs::rename(&path, dir.join(journal)),
                    Ok(false) => std::fs::remove_file(&path),
                    Err(_) => continue,
                };
                if let Err(e) = done {
                    tracing::warn!("{}: {e}", path.display());
                }
            } else if name.strip_suffix(BEING_BORN).is_some_and(recording::is_journal_name)
                && matches!(recording::try_lock(&path), Ok(Some(_)))
            {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// `pcm[start_ms..end_ms]` at 16 kHz, clamped.
fn slice(pcm: &[f32], start_ms: u64, end_ms: u64) -> Result<&[f32], RecordingError> {
    if start_ms > end_ms {
        return Err(RecordingError::Range { start_ms, end_ms });
    }
    let at = |ms: u64| ((ms as u128 * audio::SAMPLE_RATE as u128 / 1000) as usize).min(pcm.len());
    Ok(&pcm[at(start_ms)..at(end_ms)])
}
