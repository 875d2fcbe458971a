//! Live dictation: an owned session that turns audio into partial and final text on its own
//! threads.
//!
//! Audio comes from the microphone ([`Session::listen`]) or from the caller ([`Session::start`]
//! then [`Session::feed`]: a file, an FFI caller), at any rate and channel count. An audio
//! thread converts it to 16 kHz mono as it arrives, reports levels and journals it when saving;
//! a recogniser thread runs the one streaming recogniser ([`asr::Stream`]): voice-activity
//! segmentation, partials while speaking, a final at each pause. Events go to one callback; a
//! final, once sent, is never taken back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::asr::{
    self, AsrError, Hurry, Job, Segment, Stream, StreamEvent, StreamOptions, TranscribeOptions, Transcriber,
};
use crate::assistant::cleanup::CleanupRules;
use crate::audio::capture::{Capture, CaptureError, DeviceChoice};
use crate::audio::{AudioError, SAMPLE_RATE, StreamResampler, ms_to_samples, samples_to_ms};
use crate::cancel::CancelToken;
use crate::notes::{Library, NotesError};
use crate::recording::{RecordingError, RecordingWriter};
use crate::store::Source;

/// How often the worker looks at the microphone's ring buffer.
const POLL: Duration = Duration::from_millis(20);

/// Why a session failed or what went wrong in it.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The microphone could not be opened or went away.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Audio could not be converted.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The recogniser failed.
    #[error(transparent)]
    Asr(#[from] AsrError),
    /// The recording or the note could not be saved.
    #[error(transparent)]
    Notes(#[from] NotesError),
    /// A session thread could not be started.
    #[error("cannot start a dictation thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The session has already ended.
    #[error("the dictation session has ended")]
    Ended,
}

impl SessionError {
    /// A stable code for the kind of error (for shells mapping errors to messages).
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Capture(CaptureError::NoDevice | CaptureError::NotFound { .. }) => "no_device",
            SessionError::Capture(CaptureError::Busy(_)) => "device_busy",
            SessionError::Capture(CaptureError::Lost(_) | CaptureError::Stalled(_)) => "device_lost",
            SessionError::Capture(_) => "capture",
            SessionError::Audio(_) => "audio",
            SessionError::Asr(_) => "asr",
            SessionError::Notes(NotesError::Recording(RecordingError::DiskFull { .. })) => "disk_full",
            SessionError::Notes(_) => "notes",
            SessionError::Thread(_) => "thread",
            SessionError::Ended => "ended",
        }
    }
}

/// What a session reports, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SessionEvent {
    /// Audio is flowing: the microphone's first audio has arrived (or the session is ready to
    /// be fed). Speech from here on is heard.
    Ready {
        /// The microphone's name; `None` when the caller feeds the audio.
        device: Option<String>,
    },
    /// Input level of the last ~50 ms, in dBFS.
    Level {
        /// Root-mean-square level.
        rms_db: f32,
        /// Peak level.
        peak_db: f32,
    },
    /// Live text of the utterance being spoken; later partials and its final replace it.
    Partial(Segment),
    /// An utterance's text; never changes again.
    Final(Segment),
    /// The microphone went away and the session moved to another (the default) one.
    DeviceChanged {
        /// The device now recording.
        device: String,
        /// What happened, in words.
        reason: String,
    },
    /// Something failed; the session goes on where it can (finals before it are kept).
    Error {
        /// A stable code (see [`SessionError::code`]).
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        code: &'static str,
        /// What happened, in words.
        message: String,
    },
    /// The dictation was saved as this note (with its recording), just before `Stopped`.
    Saved {
        /// The note's id.
        id: i64,
    },
    /// The session is over: the last event.
    Stopped {
        /// Audio the session received (ms).
        audio_ms: u64,
        /// Why it ended.
        reason: StopReason,
    },
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum StopReason {
    /// `stop` was called (or the session dropped): pending speech became a final.
    Requested,
    /// `cancel` was called: pending speech was discarded.
    Cancelled,
    /// `stop_after_silence_ms` passed without speech.
    Silence,
    /// The microphone went away and no other could be opened; what was heard is kept.
    InputLost,
}

impl SessionEvent {
    fn error(e: &SessionError) -> Self {
        SessionEvent::Error { code: e.code(), message: e.to_string() }
    }
}

/// How a session listens and transcribes.
#[derive(Clone)]
pub struct SessionConfig {
    /// Recogniser options (threads, language, prompt, voice-activity tuning).
    pub transcribe: TranscribeOptions,
    /// Partial results and window fitting.
    pub stream: StreamOptions,
    /// Level events per second (0: none).
    pub levels_per_second: u32,
    /// End the session by itself after this much time without speech (ms): hands-free notes.
    pub stop_after_silence_ms: Option<u64>,
    /// Longest piece of continuous speech transcribed as one (ms): longer speech is cut at its
    /// quietest moment and each piece made final as it goes, so partials, the final after a
    /// pause and the final after `stop` never cost whisper more than this much audio (a 25 s
    /// utterance took 2 s from stop to final in one piece). Overrides the VAD's own limit.
    pub max_utterance_ms: u32,
    /// Keep the dictation as a note of this library: the audio is journaled (encrypted, synced
    /// every second) as it arrives, and the note is saved at the end ([`SessionEvent::Saved`]).
    /// A crash leaves the journal, which the library recovers the next time it is opened.
    pub save_to: Option<Arc<Library>>,
    /// Clean-up of the text (fillers, spoken punctuation, replacements…), applied to partials
    /// and finals; its vocabulary is given to whisper as part of its prompt.
    pub cleanup: Option<CleanupRules>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            transcribe: TranscribeOptions::default(),
            stream: StreamOptions::default(),
            levels_per_second: 20,
            stop_after_silence_ms: None,
            max_utterance_ms: 10_000,
            save_to: None,
            cleanup: None,
        }
    }
}

/// Feeds audio to a session from any thread; fails once the session has ended.
#[derive(Clone)]
pub struct Feeder(Sender<Command>);

impl Feeder {
    /// Give the session interleaved audio at `sample_rate` with `channels` channels.
    pub fn feed(&self, samples: &[f32], sample_rate: u32, channels: u16) -> Result<(), SessionError> {
        let command = Command::Audio { samples: samples.to_vec(), sample_rate, channels };
        self.0.send(command).map_err(|_| SessionError::Ended)
    }
}

enum Command {
    Audio { samples: Vec<f32>, sample_rate: u32, channels: u16 },
    Stop,
}

/// A running dictation session (`Send + 'static`): keep it in app state, stop or cancel it from
/// any thread. Dropping it stops it (pending speech becomes a final) and waits for the worker.
pub struct Session {
    commands: Sender<Command>,
    cancel: CancelToken,
    /// Makes `stop` give up a partial in progress: the final is what the user waits for.
    hurry: Hurry,
    worker: Option<JoinHandle<()>>,
}

/// Receives a session's events on its worker thread.
pub type EventSink = Box<dyn FnMut(SessionEvent) + Send + 'static>;

impl Session {
    /// A session fed by the caller through [`Session::feed`].
    pub fn start(
        transcriber: Arc<Transcriber>,
        config: SessionConfig,
        events: EventSink,
    ) -> Result<Self, SessionError> {
        Self::spawn(transcriber, config, None, events)
    }

    /// A session listening to a microphone; returns once the device is open (or failed to open).
    pub fn listen(
        transcriber: Arc<Transcriber>,
        config: SessionConfig,
        device: DeviceChoice,
        events: EventSink,
    ) -> Result<Self, SessionError> {
        Self::spawn(transcriber, config, Some(device), events)
    }

    fn spawn(
        transcriber: Arc<Transcriber>,
        config: SessionConfig,
        device: Option<DeviceChoice>,
        events: EventSink,
    ) -> Result<Self, SessionError> {
        let cancel = CancelToken::new();
        let job = Job { cancel: cancel.clone(), ..Job::default() };
        let mut options = config.transcribe.clone();
        options.vad.max_utterance_ms = config.max_utterance_ms;
        if let Some(vocabulary) = config.cleanup.as_ref().and_then(CleanupRules::prompt) {
            options.initial_prompt = Some(match options.initial_prompt.take() {
                Some(prompt) => format!("{prompt} {vocabulary}"),
                None => vocabulary,
            });
        }
        let stream = Stream::new(transcriber, options, config.stream.clone(), job)?;
        let hurry = stream.hurry();
        // Before any audio: a session that cannot keep what it hears must not start.
        let journal = config.save_to.as_ref().map(|lib| lib.start_recording()).transpose()?;
        let (commands, rx) = channel();
        let (opened_tx, opened) = channel();
        let worker_cancel = cancel.clone();
        // cpal's streams are not `Send` on every platform: the worker opens the device itself.
        let worker = std::thread::Builder::new()
            .name("sotto-dictation".into())
            .spawn(move || {
                let capture = match device.map(|d| Capture::open(&d)).transpose() {
                    Ok(capture) => capture,
                    Err(e) => {
                        if let Some(journal) = journal {
                            let _ = journal.discard();
                        }
                        let _ = opened_tx.send(Err(SessionError::from(e)));
                        return;
                    }
                };
                let mut worker = match Worker::new(stream, worker_cancel, config, capture, events) {
                    Ok(worker) => worker,
                    Err(e) => {
                        if let Some(journal) = journal {
                            let _ = journal.discard();
                        }
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                let _ = opened_tx.send(Ok(()));
                worker.journal = journal;
                worker.run(rx);
            })
            .map_err(SessionError::Thread)?;
        match opened.recv() {
            Ok(Ok(())) => Ok(Session { commands, cancel, hurry, worker: Some(worker) }),
            Ok(Err(e)) => {
                let _ = worker.join();
                Err(e)
            }
            Err(_) => {
                let _ = worker.join();
                Err(SessionError::Ended)
            }
        }
    }

    /// Give the session interleaved audio at `sample_rate` with `channels` channels.
    pub fn feed(&self, samples: &[f32], sample_rate: u32, channels: u16) -> Result<(), SessionError> {
        self.feeder().feed(samples, sample_rate, channels)
    }

    /// A handle that feeds this session from another thread (e.g. a microphone kept open).
    pub fn feeder(&self) -> Feeder {
        Feeder(self.commands.clone())
    }

    /// Finish: audio already given is transcribed, pending speech becomes a final, then
    /// [`SessionEvent::Stopped`]. Returns at once; [`Session::wait`] waits for the end.
    pub fn stop(&self) {
        self.hurry.now();
        let _ = self.commands.send(Command::Stop);
    }

    /// Abandon: the running transcription is interrupted and pending speech discarded.
    pub fn cancel(&self) {
        self.cancel.cancel();
        let _ = self.commands.send(Command::Stop);
    }

    /// Wait until the worker has sent its last event.
    pub fn wait(mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Events from both of a session's threads, in the order they happen.
type SharedSink = Arc<Mutex<EventSink>>;

fn emit(sink: &SharedSink, event: SessionEvent) {
    let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
    sink(event);
}

fn report(sink: &SharedSink, e: &SessionError) {
    tracing::warn!("dictation: {e}");
    emit(sink, SessionEvent::error(e));
}

/// What the audio thread hands the recogniser.
enum Heard {
    /// 16 kHz mono audio.
    Audio(Vec<f32>),
    /// End of input: finish the last utterance and hand back the finals.
    End,
}

/// The audio thread: microphone or fed audio → 16 kHz mono → levels, journal, recogniser. It
/// never waits for whisper, so levels keep flowing and the journal keeps up while the recogniser
/// is busy (a `kill -9` loses at most the journal's last half-second chunk).
struct Worker {
    config: SessionConfig,
    cancel: CancelToken,
    capture: Option<Capture>,
    events: SharedSink,
    recogniser: Option<(Sender<Heard>, JoinHandle<Vec<Segment>>)>,
    /// Set by the recogniser when `stop_after_silence_ms` has passed without speech.
    silent: Arc<AtomicBool>,
    /// The microphone failed and no other could be opened.
    input_gone: bool,
    /// `Ready` was sent.
    ready: bool,
    /// Where the audio is kept as it arrives, when saving.
    journal: Option<RecordingWriter>,
    /// Journaling failed (a full disk): what was written is kept, nothing more is tried.
    journal_failed: bool,
    /// The converter for the current input format: (rate, channels, converter).
    resampler: Option<(u32, u16, StreamResampler)>,
    /// Interleaved input read from the microphone, reused.
    raw: Vec<f32>,
    /// 16 kHz mono audio converted but not yet handed on.
    pcm: Vec<f32>,
    /// Level of the audio since the last level event: (sum of squares, peak, samples).
    level: (f64, f32, usize),
    /// 16 kHz samples received.
    received: u64,
}

impl Worker {
    fn new(
        stream: Stream,
        cancel: CancelToken,
        config: SessionConfig,
        capture: Option<Capture>,
        events: EventSink,
    ) -> Result<Self, SessionError> {
        let events = Arc::new(Mutex::new(events));
        let silent = Arc::new(AtomicBool::new(false));
        let (tx, rx) = channel();
        let recogniser = Recogniser {
            stream,
            events: events.clone(),
            silent: silent.clone(),
            stop_after_silence: config.stop_after_silence_ms.map(|ms| ms_to_samples(ms) as u64),
            received: 0,
            last_speech: 0,
            finals: Vec::new(),
            cleanup: config.cleanup.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("sotto-recogniser".into())
            .spawn(move || recogniser.run(rx))
            .map_err(SessionError::Thread)?;
        Ok(Worker {
            config,
            cancel,
            capture,
            events,
            recogniser: Some((tx, handle)),
            silent,
            input_gone: false,
            ready: false,
            journal: None,
            journal_failed: false,
            resampler: None,
            raw: Vec::new(),
            pcm: Vec::new(),
            level: (0.0, 0.0, 0),
            received: 0,
        })
    }

    fn run(mut self, commands: Receiver<Command>) {
        // Fed sessions are ready at once; a microphone once its first audio arrives (an audio
        // server can take a second or two to start a stream), so speech after `Ready` is heard.
        if self.capture.is_none() {
            emit(&self.events, SessionEvent::Ready { device: None });
            self.ready = true;
        }
        loop {
            // Woken by fed audio or a command, else every POLL to read the microphone's ring.
            let command = match commands.recv_timeout(POLL) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Command::Stop),
            };
            match command {
                Some(Command::Stop) => break,
                Some(Command::Audio { samples, sample_rate, channels }) => {
                    if let Err(e) = self.convert(&samples, sample_rate, channels) {
                        report(&self.events, &e);
                    }
                }
                None => {}
            }
            self.read_microphone();
            self.hand_on();
            if self.cancel.is_cancelled() || self.input_gone || self.silent.load(Ordering::Relaxed) {
                break;
            }
        }
        let reason = if self.cancel.is_cancelled() {
            StopReason::Cancelled
        } else if self.input_gone {
            StopReason::InputLost
        } else if self.silent.load(Ordering::Relaxed) {
            StopReason::Silence
        } else {
            StopReason::Requested
        };
        let cancelled = reason == StopReason::Cancelled;
        if !cancelled {
            self.read_microphone();
            self.finish_input();
            self.hand_on();
        }
        if let Some(lost) = self.capture.as_ref().map(Capture::lost_samples).filter(|&n| n > 0) {
            tracing::warn!("dictation: {lost} microphone samples were dropped (the worker fell behind)");
        }
        // The microphone is closed before the last events: a shell may open it again at once.
        self.capture = None;
        let finals = self.recogniser.take().map_or_else(Vec::new, |(tx, handle)| {
            let _ = tx.send(Heard::End);
            handle.join().unwrap_or_default()
        });
        self.save(cancelled, finals);
        let audio_ms = samples_to_ms(self.received as usize);
        tracing::debug!("dictation: ended ({reason:?}) after {audio_ms} ms of audio");
        emit(&self.events, SessionEvent::Stopped { audio_ms, reason });
    }

    /// Finish the journal into a note (or throw it away when cancelled).
    fn save(&mut self, cancelled: bool, finals: Vec<Segment>) {
        let Some(journal) = self.journal.take() else { return };
        if cancelled {
            if let Err(e) = journal.discard() {
                tracing::warn!("cancelled dictation: {e}");
            }
            return;
        }
        let Some(library) = self.config.save_to.clone() else { return };
        let saved = journal
            .finish()
            .map_err(NotesError::from)
            .and_then(|rec| library.add_recording(rec, finals, Source::Dictation));
        match saved {
            Ok(id) => emit(&self.events, SessionEvent::Saved { id }),
            // The journal stays on disk: the library recovers it the next time it opens.
            Err(e) => report(&self.events, &e.into()),
        }
    }

    /// Take what the microphone recorded; on a fault, move to the default device.
    fn read_microphone(&mut self) {
        let Some(capture) = self.capture.as_mut() else { return };
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        let got = capture.read(&mut raw);
        if got > 0 && !self.ready {
            self.ready = true;
            tracing::debug!(
                "dictation: first audio from {} after {} ms ({} Hz, {} channels)",
                capture.name(),
                capture.running_for().as_millis(),
                capture.sample_rate(),
                capture.channels()
            );
            emit(&self.events, SessionEvent::Ready { device: Some(capture.name().to_string()) });
        }
        let (rate, channels) = (capture.sample_rate(), capture.channels());
        let fault = capture.fault();
        if let Err(e) = self.convert(&raw, rate, channels) {
            report(&self.events, &e);
        }
        self.raw = raw;
        if let Some(fault) = fault {
            self.recover(fault);
        }
    }

    fn recover(&mut self, fault: CaptureError) {
        report(&self.events, &fault.clone().into());
        if let Some(dead) = self.capture.take() {
            dead.abandon();
        }
        // What the converter still holds belongs to the old device.
        self.finish_input();
        match Capture::open(&DeviceChoice::Default) {
            Ok(capture) => {
                let device = capture.name().to_string();
                emit(&self.events, SessionEvent::DeviceChanged { device, reason: fault.to_string() });
                self.capture = Some(capture);
            }
            Err(e) => {
                report(&self.events, &e.into());
                // Nothing left to listen to: end as if stopped, keeping what was heard.
                self.input_gone = true;
            }
        }
    }

    fn convert(&mut self, interleaved: &[f32], rate: u32, channels: u16) -> Result<(), SessionError> {
        if !matches!(&self.resampler, Some((r, c, _)) if *r == rate && *c == channels) {
            self.finish_input();
            self.resampler = Some((rate, channels, StreamResampler::new(rate, channels, SAMPLE_RATE)?));
        }
        let (_, _, resampler) = self.resampler.as_mut().expect("set above");
        let from = self.pcm.len();
        resampler.push(interleaved, &mut self.pcm)?;
        self.measure(from);
        Ok(())
    }

    /// Flush the converter (end of input, or the input format changes).
    fn finish_input(&mut self) {
        if let Some((_, _, mut resampler)) = self.resampler.take() {
            let from = self.pcm.len();
            if let Err(e) = resampler.finish(&mut self.pcm) {
                report(&self.events, &e.into());
            }
            self.measure(from);
        }
    }

    /// Level events for the samples from `from` on.
    fn measure(&mut self, from: usize) {
        if self.config.levels_per_second == 0 {
            return;
        }
        let every = (SAMPLE_RATE / self.config.levels_per_second).max(1) as usize;
        for i in from..self.pcm.len() {
            let s = self.pcm[i];
            self.level.0 += (s * s) as f64;
            self.level.1 = self.level.1.max(s.abs());
            self.level.2 += 1;
            if self.level.2 == every {
                let (sum, peak, n) = std::mem::take(&mut self.level);
                let rms_db = (10.0 * (sum / n as f64 + 1e-12).log10()) as f32;
                let peak_db = 20.0 * (peak + 1e-6).log10();
                tracing::trace!("dictation: level {rms_db:.1} dBFS (peak {peak_db:.1})");
                emit(&self.events, SessionEvent::Level { rms_db, peak_db });
            }
        }
    }

    /// Journal the converted audio, then give it to the recogniser.
    fn hand_on(&mut self) {
        if self.pcm.is_empty() {
            return;
        }
        let pcm = std::mem::take(&mut self.pcm);
        self.received += pcm.len() as u64;
        if let Some(journal) = self.journal.as_mut().filter(|_| !self.journal_failed)
            && let Err(e) = journal.append(&pcm)
        {
            self.journal_failed = true;
            report(&self.events, &NotesError::from(e).into());
        }
        if let Some((tx, _)) = &self.recogniser {
            let _ = tx.send(Heard::Audio(pcm));
        }
    }
}

/// The recogniser thread: the stream, fed whatever audio has come since its last turn.
struct Recogniser {
    stream: Stream,
    events: SharedSink,
    silent: Arc<AtomicBool>,
    stop_after_silence: Option<u64>,
    /// 16 kHz samples heard, and where speech was last going on.
    received: u64,
    last_speech: u64,
    finals: Vec<Segment>,
    cleanup: Option<CleanupRules>,
}

impl Recogniser {
    fn run(mut self, heard: Receiver<Heard>) -> Vec<Segment> {
        let mut events = Vec::new();
        let mut pcm = Vec::new();
        let mut end = false;
        while !end {
            // Everything that came while whisper was busy goes in at once.
            match heard.recv() {
                Ok(Heard::Audio(a)) => pcm.extend(a),
                Ok(Heard::End) | Err(_) => end = true,
            }
            for more in heard.try_iter() {
                match more {
                    Heard::Audio(a) => pcm.extend(a),
                    Heard::End => end = true,
                }
            }
            self.received += pcm.len() as u64;
            let pushed = self.stream.push(&pcm, &mut events);
            pcm.clear();
            if self.stream.in_speech() {
                self.last_speech = self.received;
            }
            self.send(&mut events);
            match pushed {
                Ok(()) => {}
                Err(AsrError::Cancelled) => return self.finals,
                // Finals made before the failure were sent; the next utterance is tried again.
                Err(e) => report(&self.events, &e.into()),
            }
            if let Some(limit) = self.stop_after_silence
                && !self.stream.in_speech()
                && self.received >= self.last_speech + limit
            {
                self.silent.store(true, Ordering::Relaxed);
            }
        }
        let finished = self.stream.finish(&mut events);
        self.send(&mut events);
        if let Err(e) = finished
            && !matches!(e, AsrError::Cancelled)
        {
            report(&self.events, &e.into());
        }
        self.finals
    }

    fn send(&mut self, events: &mut Vec<StreamEvent>) {
        for mut event in events.drain(..) {
            if let (Some(rules), StreamEvent::Partial(s) | StreamEvent::Final(s)) = (&self.cleanup, &mut event) {
                s.text = rules.apply(&s.text);
                // Only fillers were said ("Um."): nothing to keep.
                if s.text.is_empty() && matches!(event, StreamEvent::Final(_)) {
                    continue;
                }
            }
            emit(
                &self.events,
                match event {
                    StreamEvent::Partial(s) => SessionEvent::Partial(s),
                    StreamEvent::Final(s) => {
                        // Times and sizes only: what the user said stays out of logs.
                        tracing::debug!("dictation: final {}–{} ms, {} chars", s.start_ms, s.end_ms, s.text.len());
                        self.finals.push(s.clone());
                        SessionEvent::Final(s)
                    }
                },
            );
        }
    }
}

// Shells keep sessions in their state and move them between threads.
const _: () = {
    const fn send<T: Send + 'static>() {}
    send::<Session>();
    send::<asr::Stream>();
};
