//! Live dictation: a session fed by the caller (a phone's audio callback) or listening to the
//! microphone, reporting to a foreign listener.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::transcribe::{Segment, Transcriber, check_format};
use super::{ListenerError, Notes, SottoError};
use crate::assistant::cleanup::CleanupRules;
use crate::audio::capture::DeviceChoice;
use crate::dictation::{self, Session, SessionConfig, SessionEvent, StopReason};

/// What a session reports, in order, on its own thread.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum DictationEvent {
    /// Audio is flowing; speech from here on is heard. `device` is the microphone's name, none
    /// when the caller feeds the audio.
    Ready {
        /// The microphone.
        device: Option<String>,
    },
    /// Input level of the last ~50 ms, in dBFS: for a level meter.
    Level {
        /// Root-mean-square level.
        rms_db: f32,
        /// Peak level.
        peak_db: f32,
    },
    /// Live text of the utterance being spoken; later partials and its final replace it.
    Partial {
        /// The text so far.
        segment: Segment,
    },
    /// An utterance's text; never changes again.
    Final {
        /// The text.
        segment: Segment,
    },
    /// The microphone went away and the session moved to the default one.
    DeviceChanged {
        /// The device now recording.
        device: String,
        /// What happened.
        reason: String,
    },
    /// Something failed; the session goes on where it can (finals before it are kept).
    Error {
        /// A stable code: no_device, device_busy, device_lost, audio, asr, disk_full, notes…
        code: String,
        /// What happened, in words.
        message: String,
    },
    /// The dictation was saved as this note (with its recording), just before `Stopped`.
    Saved {
        /// The note's id.
        note_id: i64,
    },
    /// The session is over: the last event.
    Stopped {
        /// Audio the session received (ms).
        audio_ms: u64,
        /// Why it ended.
        reason: DictationStop,
    },
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DictationStop {
    /// `stop` was called: pending speech became a final.
    Requested,
    /// `cancel` was called: pending speech was discarded.
    Cancelled,
    /// `stop_after_silence_ms` passed without speech.
    Silence,
    /// The microphone went away and no other could be opened; what was heard is kept.
    InputLost,
}

impl From<SessionEvent> for DictationEvent {
    fn from(e: SessionEvent) -> Self {
        match e {
            SessionEvent::Ready { device } => DictationEvent::Ready { device },
            SessionEvent::Level { rms_db, peak_db } => DictationEvent::Level { rms_db, peak_db },
            SessionEvent::Partial(s) => DictationEvent::Partial { segment: s.into() },
            SessionEvent::Final(s) => DictationEvent::Final { segment: s.into() },
            SessionEvent::DeviceChanged { device, reason } => DictationEvent::DeviceChanged { device, reason },
            SessionEvent::Error { code, message } => DictationEvent::Error { code: code.into(), message },
            SessionEvent::Saved { id } => DictationEvent::Saved { note_id: id },
            SessionEvent::Stopped { audio_ms, reason } => DictationEvent::Stopped {
                audio_ms,
                reason: match reason {
                    StopReason::Requested => DictationStop::Requested,
                    StopReason::Cancelled => DictationStop::Cancelled,
                    StopReason::Silence => DictationStop::Silence,
                    StopReason::InputLost => DictationStop::InputLost,
                },
            },
        }
    }
}

/// Receives a session's events (implemented in Swift, Kotlin or Python). Called on the
/// session's thread: hand the event to the UI thread, do not block.
#[uniffi::export(with_foreign)]
pub trait DictationListener: Send + Sync {
    /// One event; `Stopped` is the last. What it throws is logged; the session goes on.
    fn on_event(&self, event: DictationEvent) -> Result<(), ListenerError>;
}

/// How a session listens.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DictationOptions {
    /// Spoken language (ISO 639-1 or "auto"); none: the model's default.
    #[uniffi(default = None)]
    pub language: Option<String>,
    /// Live text every this many ms of new speech; 0: finals only.
    #[uniffi(default = 1000)]
    pub partial_every_ms: u64,
    /// End by itself after this much silence (ms); none: only `stop` ends it.
    #[uniffi(default = None)]
    pub stop_after_silence_ms: Option<u64>,
    /// Clean the text up as the desktop does: fillers dropped, spoken punctuation ("comma",
    /// "new line") turned into marks, self-corrections applied, sentences capitalised.
    #[uniffi(default = true)]
    pub cleanup: bool,
    /// Words and names whisper should expect (spelled as wanted), joined into its prompt.
    #[uniffi(default = [])]
    pub vocabulary: Vec<String>,
}

impl DictationOptions {
    fn config(&self, transcriber: &Transcriber, save_to: Option<&Notes>) -> Result<SessionConfig, SottoError> {
        if self.stop_after_silence_ms == Some(0) {
            return Err(SottoError::invalid("stop_after_silence_ms must be more than 0"));
        }
        let rules = if self.cleanup {
            CleanupRules::default()
        } else {
            CleanupRules {
                fillers: false,
                spoken_punctuation: false,
                corrections: false,
                capitalize: false,
                ..CleanupRules::default()
            }
        };
        let cleanup = Some(CleanupRules { vocabulary: self.vocabulary.clone(), ..rules });
        Ok(SessionConfig {
            transcribe: transcriber.options(self.language.clone()),
            stream: crate::asr::StreamOptions {
                partial_every_ms: (self.partial_every_ms > 0).then_some(self.partial_every_ms),
                ..Default::default()
            },
            stop_after_silence_ms: self.stop_after_silence_ms,
            save_to: save_to.map(Notes::library).transpose()?,
            cleanup,
            ..SessionConfig::default()
        })
    }
}

/// A running dictation. Feed it audio (or let it listen), then `stop` for the last final.
#[derive(uniffi::Object)]
pub struct DictationSession {
    /// `None` once `join` has waited for it.
    session: Mutex<Option<Session>>,
}

#[uniffi::export]
impl DictationSession {
    /// A session the caller feeds with `feed` (a phone's audio callback, a file). With `save_to`,
    /// the audio is kept (encrypted) as it arrives and the dictation saved as a note at the end.
    #[uniffi::constructor]
    pub fn start(
        transcriber: Arc<Transcriber>,
        options: DictationOptions,
        save_to: Option<Arc<Notes>>,
        listener: Arc<dyn DictationListener>,
    ) -> Result<Arc<Self>, SottoError> {
        let config = options.config(&transcriber, save_to.as_deref())?;
        let session = Session::start(transcriber.model.clone(), config, sink(listener))?;
        Ok(Arc::new(DictationSession { session: Mutex::new(Some(session)) }))
    }

    /// A session listening to the default microphone; returns once it is open.
    #[uniffi::constructor]
    pub fn listen(
        transcriber: Arc<Transcriber>,
        options: DictationOptions,
        save_to: Option<Arc<Notes>>,
        listener: Arc<dyn DictationListener>,
    ) -> Result<Arc<Self>, SottoError> {
        let config = options.config(&transcriber, save_to.as_deref())?;
        let session = Session::listen(transcriber.model.clone(), config, DeviceChoice::Default, sink(listener))?;
        Ok(Arc::new(DictationSession { session: Mutex::new(Some(session)) }))
    }

    /// Give the session interleaved samples (-1..1) at `sample_rate` with `channels` channels.
    pub fn feed(&self, samples: Vec<f32>, sample_rate: u32, channels: u16) -> Result<(), SottoError> {
        check_format(samples.len(), sample_rate, channels)?;
        self.with(|s| s.feed(&samples, sample_rate, channels).map_err(SottoError::from))
    }

    /// Finish: pending speech becomes a final, then `Stopped`. Returns at once.
    pub fn stop(&self) {
        if let Some(s) = self.session().as_ref() {
            s.stop();
        }
    }

    /// Abandon: pending speech is discarded, then `Stopped`. Returns at once.
    pub fn cancel(&self) {
        if let Some(s) = self.session().as_ref() {
            s.cancel();
        }
    }

    /// Wait until the last event (`Stopped`) has been delivered (not `wait`: the JVM's own).
    /// Call after `stop` or `cancel`, not from the listener (it runs on the thread this waits for).
    pub fn join(&self) {
        let session = self.session().take();
        if let Some(session) = session {
            session.wait();
        }
    }
}

impl DictationSession {
    /// The running session; `None` once joined. No call runs foreign code while holding it.
    fn session(&self) -> MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with(&self, f: impl FnOnce(&Session) -> Result<(), SottoError>) -> Result<(), SottoError> {
        match self.session().as_ref() {
            Some(s) => f(s),
            None => Err(SottoError::from(dictation::SessionError::Ended)),
        }
    }
}

fn sink(listener: Arc<dyn DictationListener>) -> dictation::EventSink {
    Box::new(move |event| {
        if let Err(e) = listener.on_event(event.into()) {
            tracing::warn!("the dictation listener failed: {e}");
        }
    })
}
