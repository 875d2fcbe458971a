use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use super::mel::{LogMel, Mel};
use super::model::inspect_with_bank;
use super::{AsrError, ModelInfo};
use crate::audio::SAMPLE_RATE;
use crate::audio::vad::{self, VadConfig};
use crate::cancel::CancelToken;

/// A piece of transcript with its time span in the audio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Segment {
    /// Start, in milliseconds from the beginning of the audio.
    pub start_ms: u64,
    /// End, in milliseconds from the beginning of the audio.
    pub end_ms: u64,
    /// The words, trimmed.
    pub text: String,
}

/// Knobs of one transcription.
#[derive(Debug, Clone)]
pub struct TranscribeOptions {
    /// CPU threads for whisper.cpp (never more than the cores: see `whisper_threads`).
    pub threads: usize,
    /// Spoken language as an ISO 639-1 code, or "auto"; `None` means English for `.en` models, else auto.
    pub language: Option<String>,
    /// Text that primes the decoder: names, jargon, spelling the user wants (custom vocabulary).
    pub initial_prompt: Option<String>,
    /// Segments whisper.cpp judges more likely silence than speech above this are dropped.
    pub no_speech_threshold: f32,
    /// Skip whisper.cpp altogether when voice-activity detection finds no speech.
    pub vad_gate: bool,
    /// Voice-activity tuning, for the gate and for streaming.
    pub vad: VadConfig,
    /// Shrink the encoder window to the audio's length when it is shorter than 30 s: several
    /// times faster on short clips.
    pub fit_window: bool,
    /// Let whisper.cpp compute the log-mel spectrogram itself (slower; Sotto's own is checked
    /// against it).
    pub whisper_mel: bool,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            threads: default_threads(),
            language: None,
            initial_prompt: None,
            no_speech_threshold: 0.6,
            vad_gate: true,
            vad: VadConfig::default(),
            fit_window: false,
            whisper_mel: false,
        }
    }
}

impl TranscribeOptions {
    /// These options with `context` (text heard just before) appended to the initial prompt.
    pub(crate) fn with_context(&self, context: &str) -> Self {
        let mut options = self.clone();
        let context = context.trim();
        if !context.is_empty() {
            options.initial_prompt = Some(match &self.initial_prompt {
                Some(user) => format!("{user} {context}"),
                None => context.to_string(),
            });
        }
        options
    }
}

/// Threads to use by default: all cores but one (the UI and audio need it), at most 4.
///
/// whisper.cpp's workers spin while waiting, so oversubscribing a busy machine is much slower
/// than using fewer threads.
pub fn default_threads() -> usize {
    cores().saturating_sub(1).clamp(1, 4)
}

/// CPU cores this process may use (cgroup limits included).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Threads to give whisper.cpp for `requested`: at least 1, at most the cores there are.
///
/// Its workers spin at every barrier between ops, so more threads than cores is not a little
/// slower but ~100x (the 60 s bench clip: 0.5 s with 2 threads on 2 cores, 105 s with 3).
fn whisper_threads(requested: usize) -> c_int {
    requested.clamp(1, cores()) as c_int
}

/// Cancellation and progress reporting for one job.
#[derive(Clone, Default)]
pub struct Job {
    /// Checked by whisper.cpp between and inside its compute graphs.
    pub cancel: CancelToken,
    /// Called with 0-100 as the job advances (from the transcribing thread).
    pub on_progress: Option<Arc<dyn Fn(u8) + Send + Sync>>,
    /// Work done so far, shared by every clone of this job.
    pub stats: Arc<JobStats>,
}

/// How much work a job has cost. The encoder dominates whisper's run time, so audio encoded
/// twice (or padding encoded at all) is time lost; decoder steps show repetition loops.
#[derive(Debug, Default)]
pub struct JobStats {
    encoder_passes: AtomicU64,
    encoded_ms: AtomicU64,
    decoder_steps: AtomicU64,
}

impl JobStats {
    /// Encoder passes run.
    pub fn encoder_passes(&self) -> u64 {
        self.encoder_passes.load(Ordering::Relaxed)
    }

    /// Audio the encoder has processed, counting each pass's whole window (padding included), in ms.
    pub fn encoded_ms(&self) -> u64 {
        self.encoded_ms.load(Ordering::Relaxed)
    }

    /// Tokens the decoder has produced, retries at higher temperature included.
    pub fn decoder_steps(&self) -> u64 {
        self.decoder_steps.load(Ordering::Relaxed)
    }

    fn add_pass(&self, window_ms: u64) {
        self.encoder_passes.fetch_add(1, Ordering::Relaxed);
        self.encoded_ms.fetch_add(window_ms, Ordering::Relaxed);
    }
}

/// What one whisper.cpp call produced.
pub(crate) struct Pass {
    /// Finished segments, times relative to the start of the audio passed in.
    pub segments: Vec<Segment>,
    /// With [`PassMode::single`]: where whisper stopped because it wanted another encoder pass to go on
    /// (ms from the start of the audio); everything from there on is still to be transcribed.
    pub stopped_at_ms: Option<u64>,
}

/// How [`Transcriber::run_pass`] may use whisper.cpp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PassMode {
    /// Encode the audio only once (the caller carries what was not decoded into its next window).
    pub single: bool,
    /// Retry a decode that failed whisper.cpp's checks at higher temperatures.
    pub retries: bool,
}

impl PassMode {
    /// A whole file in whisper.cpp's own windows, with its retries.
    pub const WHOLE: PassMode = PassMode { single: false, retries: true };
    /// One window of speech packed by the caller, with retries (files).
    pub const WINDOW: PassMode = PassMode { single: true, retries: true };
    /// One live utterance: no random retries, the same audio always gives the same text.
    pub const LIVE: PassMode = PassMode { single: true, retries: false };
}

/// A loaded Whisper model, shareable across threads; each transcription gets its own state.
pub struct Transcriber {
    ctx: WhisperContext,
    info: ModelInfo,
    /// Sotto's log-mel with this model's filter bank; `None` for a bank it does not handle
    /// (then whisper.cpp computes its own).
    mel: Option<LogMel>,
    /// Idle whisper.cpp states: each holds the KV caches and compute buffers (tens of MB), so
    /// allocating one per call would cost more than decoding a short clip.
    states: Mutex<Vec<WhisperState>>,
}

impl Transcriber {
    /// Validate the model file, then load it into whisper.cpp.
    pub fn load(path: &Path) -> Result<Self, AsrError> {
        // Route whisper.cpp's chatter into `tracing` instead of the terminal.
        super::native::LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
        let (info, bank) = inspect_with_bank(path)?;
        // ggml's kernels for this CPU (a module next to the binary): none, no whisper.cpp.
        let kernels = super::load_cpu_backend().map_err(|detail| AsrError::Backend { detail })?;
        tracing::debug!(
            "whisper.cpp CPU kernels from {}: {}",
            kernels.display(),
            super::cpu_backend_features().join(" ")
        );
        let mel = LogMel::new(bank.n_mel, bank.n_bins, &bank.weights)
            .inspect_err(|e| tracing::warn!("{}: {e}; whisper.cpp computes the spectrogram", path.display()))
            .ok();
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let ctx = WhisperContext::new_with_params(path, params)
            .map_err(|_| AsrError::LoadFailed { path: path.to_path_buf() })?;
        let first = ctx.create_state().map_err(|_| AsrError::LoadFailed { path: path.to_path_buf() })?;
        Ok(Self { ctx, info, mel, states: Mutex::new(vec![first]) })
    }

    /// What the model file declares.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Transcribe 16 kHz mono audio into timed segments.
    pub fn transcribe(&self, audio: &[f32], options: &TranscribeOptions) -> Result<Vec<Segment>, AsrError> {
        self.transcribe_with(audio, options, &Job::default())
    }

    /// Transcribe with cancellation and progress.
    pub fn transcribe_with(
        &self,
        audio: &[f32],
        options: &TranscribeOptions,
        job: &Job,
    ) -> Result<Vec<Segment>, AsrError> {
        let language = self.language(options)?;
        if options.vad_gate && vad::utterances(audio, &options.vad).is_empty() {
            report(job, 100);
            return Ok(Vec::new());
        }
        let mut state = self.take_state()?;
        let segments = self.run_pass(&mut state, audio, options, language, job, PassMode::WHOLE).map(|p| p.segments);
        self.give_back(state);
        report(job, 100);
        segments
    }

    /// An idle whisper.cpp state, or a new one if all are busy.
    pub(crate) fn take_state(&self) -> Result<WhisperState, AsrError> {
        match self.states.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            Some(state) => Ok(state),
            None => Ok(self.ctx.create_state()?),
        }
    }

    /// Return a state for reuse (whisper.cpp resets it at the start of every run).
    pub(crate) fn give_back(&self, state: WhisperState) {
        self.states.lock().unwrap_or_else(|e| e.into_inner()).push(state);
    }

    /// Resolve and check the language option against the model.
    pub(crate) fn language(&self, options: &TranscribeOptions) -> Result<&'static str, AsrError> {
        let requested = options.language.as_deref().map(str::to_ascii_lowercase);
        let multilingual = self.info.is_multilingual();
        match requested.as_deref() {
            None if multilingual => Ok("auto"),
            None | Some("en") => Ok("en"),
            Some("auto") if multilingual => Ok("auto"),
            Some(code) if !multilingual => Err(AsrError::Language {
                language: code.into(),
                reason: "this is an English-only model; use a multilingual one".into(),
            }),
            Some(code) => match whisper_rs::get_lang_id(code).and_then(whisper_rs::get_lang_str) {
                Some(known) => Ok(known),
                None => Err(AsrError::Language { language: code.into(), reason: "unknown language code".into() }),
            },
        }
    }

    /// One whisper.cpp call over `audio` with `state`; times are relative to the start of `audio`.
    ///
    /// When whisper stops decoding before the end of its window, it encodes again from where it
    /// stopped, with the same (fitted, so possibly large) window; a caller that packs audio itself
    /// does better to carry the rest into its next window, which `stopped_at_ms` allows.
    pub(crate) fn run_pass(
        &self,
        state: &mut WhisperState,
        audio: &[f32],
        options: &TranscribeOptions,
        language: &'static str,
        job: &Job,
        mode: PassMode,
    ) -> Result<Pass, AsrError> {
        if job.cancel.is_cancelled() {
            return Err(AsrError::Cancelled);
        }
        // whisper.cpp ignores inputs under one second; pad short utterances with silence.
        let min_len = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 20;
        let padded;
        let audio = if audio.len() < min_len {
            padded = [audio, &vec![0.0; min_len - audio.len()]].concat();
            &padded[..]
        } else {
            audio
        };

        let audio_ctx = if options.fit_window {
            fitted_audio_ctx(audio.len(), self.info.n_audio_ctx)
        } else {
            self.info.n_audio_ctx
        };
        // Sotto's spectrogram goes in when the first encoder pass begins; whisper.cpp then only
        // computes one for a stub of the audio (it needs > 200 samples to reflect at the start),
        // and is told the real length, which it would otherwise take from its own spectrogram.
        // Language detection runs before that callback, on whatever spectrogram whisper.cpp has,
        // so with "auto" whisper.cpp computes the real one itself.
        let own_mel = !options.whisper_mel && language != "auto";
        let mel = self.mel.as_ref().filter(|_| own_mel).map(|m| m.compute(audio));
        let input = match &mel {
            Some(_) => &audio[..audio.len().min(MEL_STUB)],
            None => audio,
        };
        let hooks = Hooks {
            cancel: &job.cancel,
            progress: job.on_progress.as_deref(),
            stats: &job.stats,
            window_ms: audio_ctx as u64 * 20,
            single_pass: mode.single,
            passes: Cell::new(0),
            stopped_at: Cell::new(None),
            max_tokens: max_tokens(audio.len()),
            mel: mel.as_ref(),
            mel_refused: Cell::new(false),
            limited: Cell::new(false),
        };
        let params = |strategy: SamplingStrategy| {
            let mut params = FullParams::new(strategy);
            params.set_n_threads(whisper_threads(options.threads));
            params.set_language(Some(language));
            params.set_translate(false);
            params.set_no_context(true);
            params.set_suppress_blank(true);
            params.set_suppress_nst(true);
            params.set_no_speech_thold(options.no_speech_threshold);
            if !mode.retries {
                // No retry at a higher temperature: its sampling is random (whisper.cpp's generator
                // is seeded once per state, so the same audio gives different text from call to
                // call) and on short live utterances it turned "And so my fellow Americans" into
                // "And so I fell in America Yes! So I fell from America! …". A greedy decode
                // that loops is done again by a beam search (below); a repeated sentence is
                // trimmed by the caller.
                params.set_temperature_inc(0.0);
            }
            params.set_print_progress(false);
            params.set_print_realtime(false);
            params.set_print_special(false);
            params.set_print_timestamps(false);
            if let Some(prompt) = options.initial_prompt.as_deref().filter(|p| !p.trim().is_empty()) {
                params.set_initial_prompt(prompt);
            }
            params.set_audio_ctx(audio_ctx);
            if let Some(mel) = &mel {
                params.set_duration_ms((mel.n_len_org * 10) as c_int);
            }
            let hooks_ptr = &hooks as *const Hooks as *mut c_void;
            // SAFETY: `hooks` outlives `state.full`, which is the only caller of these callbacks and
            // calls them on this thread; they mutate only through its `Cell`s.
            unsafe {
                params.set_abort_callback(Some(abort_trampoline));
                params.set_abort_callback_user_data(hooks_ptr);
                params.set_start_encoder_callback(Some(encoder_begin_trampoline));
                params.set_start_encoder_callback_user_data(hooks_ptr);
                params.set_progress_callback(Some(progress_trampoline));
                params.set_progress_callback_user_data(hooks_ptr);
                params.set_filter_logits_callback(Some(logits_trampoline));
                params.set_filter_logits_callback_user_data(hooks_ptr);
            }
            params
        };
        let mut result = state.full(params(SamplingStrategy::Greedy { best_of: 1 }), input);
        if result.is_ok()
            && !mode.retries
            && hooks.limited.get()
            && !job.cancel.is_cancelled()
            && looped_in_a_word(state)
        {
            // Greedy decoding looped to the token bound ("old-s-s-y-y-y-…" on a LibriVox line).
            // Without the random retries, a beam search is the deterministic second try: it
            // keeps other readings alive where greedy locks into one.
            tracing::debug!("transcribe: the greedy decode looped; once more with a beam search");
            hooks.passes.set(0);
            hooks.stopped_at.set(None);
            hooks.limited.set(false);
            result = state.full(params(SamplingStrategy::BeamSearch { beam_size: 4, patience: -1.0 }), input);
        }
        if job.cancel.is_cancelled() {
            return Err(AsrError::Cancelled);
        }
        result?;
        if hooks.mel_refused.get() {
            return Err(AsrError::Whisper("whisper.cpp refused the spectrogram".into()));
        }

        let end_ms = (audio.len() as u64 * 1000) / SAMPLE_RATE as u64;
        let mut segments = Vec::new();
        for seg in state.as_iter() {
            let text = seg.to_str_lossy().map(|t| t.trim().to_string()).unwrap_or_default();
            if is_non_speech(&text) {
                continue;
            }
            let start = (seg.start_timestamp().max(0) as u64 * 10).min(end_ms);
            let end = (seg.end_timestamp().max(0) as u64 * 10).clamp(start, end_ms);
            segments.push(Segment { start_ms: start, end_ms: end, text });
        }
        let stopped_at_ms = hooks.stopped_at.get().map(|cs| (cs as u64 * 10).min(end_ms));
        Ok(Pass { segments, stopped_at_ms })
    }
}

/// Samples whisper.cpp gets when Sotto computes the spectrogram: enough for its reflection pad.
const MEL_STUB: usize = 1_600;

/// Encoder frames (20 ms each) covering `samples` plus a margin, rounded up to a multiple of 64.
///
/// Never below 384 frames (7.7 s): on tiny.en, windows shorter than that made the decoder fail
/// its entropy checks on 3 s clips and fall back to slow temperature retries.
fn fitted_audio_ctx(samples: usize, full: i32) -> c_int {
    const MARGIN: i32 = 64;
    const MIN: i32 = 384;
    let frames = (samples as u64 * 50 / SAMPLE_RATE as u64) as i32 + MARGIN;
    ((frames + 63) / 64 * 64).max(MIN).min(full)
}

/// The most tokens one window of `samples` can honestly need: 10 per second (fast speech is
/// ~5, timestamps included) plus 20.
///
/// Short windows are where tiny models fall into repetition loops ("y-y-y-…"); whisper.cpp lets a
/// loop run to 220 tokens before judging it and retrying at a higher temperature, which made a
/// 3 s utterance cost 10x its normal time. Ending the window at this bound lets the same checks
/// fail it (a loop has low entropy) and retry at once.
fn max_tokens(samples: usize) -> usize {
    20 + samples * 10 / SAMPLE_RATE as usize
}

/// Whether the decode in `state` looped inside a word: a sentence said over and over is trimmed
/// by the caller (`without_repeats`), a loop inside a word is not.
fn looped_in_a_word(state: &WhisperState) -> bool {
    let text: Vec<String> = state.as_iter().filter_map(|s| s.to_str_lossy().ok().map(|t| t.into_owned())).collect();
    stutters(&super::stream::without_repeats(&text.join(" ")))
}

/// Whether `text` has a piece of 1 to 4 characters eight times in a row ("-y-y-y-y-y-y-y-y"):
/// a decoder loop inside a word, which no trimming of repeated sentences undoes.
fn stutters(text: &str) -> bool {
    let c: Vec<char> = text.chars().collect();
    (1..=4).any(|period| {
        let mut run = 0;
        (period..c.len()).any(|i| {
            run = if c[i] == c[i - period] { run + 1 } else { 0 };
            run >= 7 * period
        })
    })
}

/// Empty text and whisper's sound annotations such as "[BLANK_AUDIO]" or "(wind blowing)".
fn is_non_speech(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || (t.starts_with('[') && t.ends_with(']'))
        || (t.starts_with('(') && t.ends_with(')'))
        || (t.starts_with('*') && t.ends_with('*'))
        || t.chars().all(|c| !c.is_alphanumeric())
}

fn report(job: &Job, percent: u8) {
    if let Some(progress) = &job.on_progress {
        progress(percent);
    }
}

struct Hooks<'a> {
    cancel: &'a CancelToken,
    progress: Option<&'a (dyn Fn(u8) + Send + Sync)>,
    stats: &'a JobStats,
    /// Audio one encoder pass covers, ms.
    window_ms: u64,
    single_pass: bool,
    passes: Cell<u32>,
    /// End (whisper centiseconds) of the last segment when a second pass was refused.
    stopped_at: Cell<Option<i64>>,
    /// Decoded tokens after which the decoder must end the window.
    max_tokens: usize,
    /// The spectrogram to hand whisper.cpp before its first encoder pass.
    mel: Option<&'a Mel>,
    /// whisper.cpp rejected `mel` (the run was stopped).
    mel_refused: Cell<bool>,
    /// The decoder reached `max_tokens` and was made to end: it was looping.
    limited: Cell<bool>,
}

unsafe extern "C" fn abort_trampoline(user_data: *mut c_void) -> bool {
    // SAFETY: user_data is the `Hooks` set in `run`, alive for the whole call.
    let hooks = unsafe { &*(user_data as *const Hooks) };
    hooks.cancel.is_cancelled()
}

unsafe extern "C" fn encoder_begin_trampoline(
    ctx: *mut whisper_rs::WhisperSysContext,
    state: *mut whisper_rs::WhisperSysState,
    user_data: *mut c_void,
) -> bool {
    // SAFETY: as above.
    let hooks = unsafe { &*(user_data as *const Hooks) };
    if hooks.cancel.is_cancelled() {
        return false;
    }
    if let Some(mel) = hooks.mel.filter(|_| hooks.passes.get() == 0) {
        // SAFETY: whisper.cpp hands us the context and state it is running; it copies the data,
        // which outlives the call.
        let rc = unsafe {
            whisper_rs::whisper_rs_sys::whisper_set_mel_with_state(
                ctx,
                state,
                mel.data.as_ptr(),
                mel.n_len as c_int,
                mel.n_mel as c_int,
            )
        };
        if rc != 0 {
            hooks.mel_refused.set(true);
            return false;
        }
    }
    if hooks.single_pass && hooks.passes.get() > 0 {
        // SAFETY: whisper.cpp hands us the state it is running, valid during the callback.
        let end = unsafe {
            let n = whisper_rs::whisper_rs_sys::whisper_full_n_segments_from_state(state);
            if n > 0 { whisper_rs::whisper_rs_sys::whisper_full_get_segment_t1_from_state(state, n - 1) } else { 0 }
        };
        // Without a finished segment there is no safe place to resume from: let whisper go on.
        // (whisper.cpp logs a refusal as an error, "aborting"; with `-v` that line is expected.)
        if end > 0 {
            hooks.stopped_at.set(Some(end));
            return false;
        }
    }
    hooks.passes.set(hooks.passes.get() + 1);
    hooks.stats.add_pass(hooks.window_ms);
    true
}

unsafe extern "C" fn logits_trampoline(
    ctx: *mut whisper_rs::WhisperSysContext,
    _: *mut whisper_rs::WhisperSysState,
    _: *const whisper_rs::WhisperTokenData,
    n_tokens: c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    // SAFETY: as above.
    let hooks = unsafe { &*(user_data as *const Hooks) };
    hooks.stats.decoder_steps.fetch_add(1, Ordering::Relaxed);
    if (n_tokens.max(0) as usize) < hooks.max_tokens {
        return;
    }
    hooks.limited.set(true);
    // SAFETY: whisper.cpp passes its context and a logits array of n_vocab floats, ours to edit.
    unsafe {
        use whisper_rs::whisper_rs_sys::{whisper_n_vocab, whisper_token_eot};
        let logits = std::slice::from_raw_parts_mut(logits, whisper_n_vocab(ctx).max(0) as usize);
        let eot = whisper_token_eot(ctx) as usize;
        for (i, l) in logits.iter_mut().enumerate() {
            if i != eot {
                *l = f32::NEG_INFINITY;
            }
        }
    }
}

unsafe extern "C" fn progress_trampoline(
    _: *mut whisper_rs::WhisperSysContext,
    _: *mut whisper_rs::WhisperSysState,
    progress: c_int,
    user_data: *mut c_void,
) {
    // SAFETY: as above.
    let hooks = unsafe { &*(user_data as *const Hooks) };
    if let Some(f) = hooks.progress {
        f(progress.clamp(0, 100) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_not_speech() {
        for t in ["", "  ", "[BLANK_AUDIO]", "(wind blowing)", "*music*", "...", "♪"] {
            assert!(is_non_speech(t), "{t:?}");
        }
        for t in ["Hello.", "ask not", "42"] {
            assert!(!is_non_speech(t), "{t:?}");
        }
    }

    #[test]
    fn token_bound_leaves_room_for_fast_speech_and_only_binds_short_windows() {
        assert_eq!(max_tokens(SAMPLE_RATE as usize * 3), 50);
        assert!(stutters("He was not an old-s-s-y-y-y-y-y-y-y-y-y-y-"));
        assert!(stutters("ha ha ha ha ha ha ha ha ha"));
        assert!(!stutters("He was not an ill-disposed young man. Well... no, no, no."));
        assert!(!stutters("Call 555-1234, then 2020-2021-2022."));
        // Whisper's own limit per window is 220 tokens: a full window is never cut short.
        assert!(max_tokens(SAMPLE_RATE as usize * 28) > 220);
    }

    #[test]
    fn whisper_never_gets_more_threads_than_cores() {
        let cores = cores() as c_int;
        assert_eq!(whisper_threads(0), 1);
        assert_eq!(whisper_threads(1), 1);
        assert_eq!(whisper_threads(1_000), cores);
        assert_eq!(whisper_threads(cores as usize), cores);
    }

    #[test]
    fn fitted_window_covers_the_audio() {
        assert_eq!(fitted_audio_ctx(16_000 * 30, 1500), 1500);
        let ctx = fitted_audio_ctx(16_000 * 11, 1500);
        assert!(ctx >= 550 + 64 && ctx % 64 == 0 && ctx < 1500, "{ctx}");
        assert_eq!(fitted_audio_ctx(16_000, 1500), 384);
    }
}
