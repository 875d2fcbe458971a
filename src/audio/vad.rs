//! Voice-activity segmentation: splits a stream into utterances so pauses close segments
//! and silence never reaches the recogniser.
//!
//! Two frame detectors sit behind the same [`Segmenter`] (pre-roll, post-roll, minimum
//! speech and silence, long-utterance cuts):
//! - Silero VAD ([`super::silero`], 32 ms frames) when [`VadConfig::silero`] holds a model: a
//!   neural network that tells speech from noise, hum and music, with silero's own hysteresis.
//! - Otherwise energy against an adaptive noise floor ([`FrameClassifier`], 20 ms frames):
//!   no model file, cheapest, but any sound loud enough above the floor counts as speech.

use std::collections::VecDeque;
use std::sync::Arc;

use super::silero::{self, SileroModel, SileroStream};
use super::{SAMPLE_RATE, ms_to_samples};

/// Analysis frame of the energy detector: 20 ms at 16 kHz.
pub const FRAME: usize = (SAMPLE_RATE / 50) as usize;

/// Tuning of the voice-activity segmenter.
#[derive(Debug, Clone)]
pub struct VadConfig {
    /// Energy detector: frames quieter than this (dBFS) are never speech.
    pub min_level_db: f32,
    /// Energy detector: how far above the tracked noise floor (dB) a frame must rise to start speech.
    pub margin_db: f32,
    /// Continuous silence (ms) that closes an utterance.
    pub min_silence_ms: u32,
    /// Bursts with less speech than this (ms) are dropped as clicks and bumps.
    pub min_speech_ms: u32,
    /// Audio kept before the detected onset (ms) so soft first consonants survive.
    pub pre_roll_ms: u32,
    /// Audio kept after the last speech frame (ms).
    pub post_roll_ms: u32,
    /// Utterances are cut at the quietest point before this length (ms): whisper's window is 30 s.
    pub max_utterance_ms: u32,
    /// Silero VAD decides which frames are speech when set; energy against the noise floor
    /// (`min_level_db`, `margin_db`) otherwise.
    pub silero: Option<Arc<SileroModel>>,
    /// Silero: speech starts (and a pause ends) at this probability (silero's `threshold`).
    pub silero_onset: f32,
    /// Silero: once speaking, a pause starts below this probability (silero's `neg_threshold`).
    pub silero_offset: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            min_level_db: -48.0,
            margin_db: 10.0,
            min_silence_ms: 600,
            min_speech_ms: 200,
            pre_roll_ms: 300,
            post_roll_ms: 300,
            max_utterance_ms: 25_000,
            silero: None,
            silero_onset: 0.5,
            silero_offset: 0.35,
        }
    }
}

impl VadConfig {
    /// The default tuning with Silero VAD as the detector, and 450 ms of post-roll: Silero calls
    /// the end of speech before soft final consonants are over (JFK's "Americans" lost its
    /// "-cans" with 300 ms, and whisper heard "I fell in America...").
    pub fn with_silero(model: Arc<SileroModel>) -> Self {
        Self { silero: Some(model), post_roll_ms: 450, ..Self::default() }
    }
}

/// Which detector a [`Segmenter`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorKind {
    /// Energy against an adaptive noise floor, 20 ms frames.
    Energy,
    /// Silero VAD, 32 ms frames.
    Silero,
}

/// One stretch of speech, with the pre- and post-roll around it.
#[derive(Debug, Clone)]
pub struct Utterance {
    /// Index of the first sample in the whole stream.
    pub start_sample: u64,
    /// 16 kHz mono samples.
    pub samples: Vec<f32>,
}

impl Utterance {
    /// Start time in the stream (ms).
    pub fn start_ms(&self) -> u64 {
        self.start_sample * 1000 / SAMPLE_RATE as u64
    }
    /// End time in the stream (ms).
    pub fn end_ms(&self) -> u64 {
        self.end_sample() * 1000 / SAMPLE_RATE as u64
    }
    /// Index of the sample just after it in the whole stream.
    pub fn end_sample(&self) -> u64 {
        self.start_sample + self.samples.len() as u64
    }
}

/// Per-frame speech/non-speech decisions against an adaptive noise floor.
#[derive(Debug, Clone)]
pub struct FrameClassifier {
    config: VadConfig,
    history: VecDeque<f32>,
}

/// Frames of energy history the noise floor is the minimum of (~1.5 s).
const FLOOR_WINDOW: usize = 75;

impl FrameClassifier {
    /// A classifier that starts by assuming a quiet room (floor at `min_level_db`).
    pub fn new(config: VadConfig) -> Self {
        // Pre-filling with the quiet-room level lets speech at the very start of a stream count.
        let history = std::iter::repeat_n(config.min_level_db, FLOOR_WINDOW).collect();
        Self { config, history }
    }

    /// Classify one frame; `in_speech` lowers the bar (hysteresis) while an utterance is open.
    pub fn is_speech(&mut self, frame: &[f32], in_speech: bool) -> bool {
        let level = level_db(frame);
        let floor = self.history.iter().copied().fold(f32::INFINITY, f32::min);
        if self.history.len() == FLOOR_WINDOW {
            self.history.pop_front();
        }
        self.history.push_back(level);
        let margin = if in_speech { self.config.margin_db * 0.5 } else { self.config.margin_db };
        level > self.config.min_level_db && level > floor + margin
    }
}

/// RMS level of a frame in dBFS.
pub fn level_db(frame: &[f32]) -> f32 {
    if frame.is_empty() {
        return -120.0;
    }
    let power = frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32;
    10.0 * (power + 1e-12).log10()
}

/// Silero's per-frame probabilities turned into speech or pause.
#[derive(Debug)]
struct SileroDetector {
    stream: SileroStream,
    hysteresis: Hysteresis,
    /// The model failed once; every frame since counts as speech.
    failed: bool,
}

impl SileroDetector {
    /// Probabilities of whole frames, scored in one model call.
    fn probabilities(&mut self, frames: &[f32]) -> Vec<f32> {
        if !self.failed {
            match self.stream.push(frames) {
                Ok(probs) => return probs,
                Err(e) => {
                    // Cannot happen with a model that passed `SileroModel::load`'s probe; if it
                    // does, losing what the user says is worse than letting whisper (and its own
                    // no-speech check) hear the pauses.
                    tracing::warn!("{e}; all audio counts as speech from here on");
                    self.failed = true;
                }
            }
        }
        vec![1.0; frames.len() / silero::FRAME]
    }

    fn is_speech(&mut self, prob: f32) -> bool {
        self.hysteresis.next(prob)
    }
}

/// Speech starts at `onset` and lasts until a frame falls below `offset`; frames in between keep
/// the state they find, as in silero's `get_speech_timestamps`.
#[derive(Debug, Clone, Copy)]
struct Hysteresis {
    onset: f32,
    offset: f32,
    voiced: bool,
}

impl Hysteresis {
    fn next(&mut self, prob: f32) -> bool {
        self.voiced = if self.voiced { prob >= self.offset } else { prob >= self.onset };
        self.voiced
    }
}

/// The per-frame detector of a segmenter.
#[derive(Debug)]
enum Detector {
    Energy(FrameClassifier),
    /// Boxed: tract's run state makes it ten times the energy detector's size.
    Silero(Box<SileroDetector>),
}

impl Detector {
    fn new(config: &VadConfig) -> Self {
        match &config.silero {
            Some(model) => Self::Silero(Box::new(SileroDetector {
                stream: SileroStream::new(model.clone()),
                hysteresis: Hysteresis { onset: config.silero_onset, offset: config.silero_offset, voiced: false },
                failed: false,
            })),
            None => Self::Energy(FrameClassifier::new(config.clone())),
        }
    }

    fn kind(&self) -> DetectorKind {
        match self {
            Self::Energy(_) => DetectorKind::Energy,
            Self::Silero(_) => DetectorKind::Silero,
        }
    }

    fn frame_len(&self) -> usize {
        match self {
            Self::Energy(_) => FRAME,
            Self::Silero(_) => silero::FRAME,
        }
    }

    /// Speech frames in a row that open an utterance: 60 ms of energy, so clicks do not; Silero
    /// tells clicks from speech itself and opens on its first speech frame, as silero does.
    fn onset_frames(&self) -> usize {
        match self {
            Self::Energy(_) => 3,
            Self::Silero(_) => 1,
        }
    }
}

/// Streaming segmenter: feed 16 kHz samples in any chunk size, collect closed utterances.
#[derive(Debug)]
pub struct Segmenter {
    config: VadConfig,
    detector: Detector,
    /// Samples not yet forming a whole frame.
    pending: Vec<f32>,
    /// Total samples consumed into frames.
    position: u64,
    /// Recent silence kept as pre-roll.
    pre_roll: VecDeque<f32>,
    /// Consecutive speech frames while idle (onset may need a few).
    onset_run: usize,
    open: Option<Open>,
}

#[derive(Debug)]
struct Open {
    start_sample: u64,
    samples: Vec<f32>,
    /// Length of `samples` up to the end of the last speech frame.
    speech_end: usize,
    speech_frames: usize,
    silence_run: usize,
    /// Levels of the frames that end at the end of `samples` (only the first may be partial,
    /// from the pre-roll), to cut long utterances at their quietest point.
    levels: Vec<f32>,
}

impl Segmenter {
    /// A segmenter with the given tuning; Silero VAD when `config.silero` holds a model.
    pub fn new(config: VadConfig) -> Self {
        let detector = Detector::new(&config);
        Self {
            pending: Vec::with_capacity(detector.frame_len()),
            detector,
            config,
            position: 0,
            pre_roll: VecDeque::new(),
            onset_run: 0,
            open: None,
        }
    }

    /// The detector deciding which frames are speech.
    pub fn detector(&self) -> DetectorKind {
        self.detector.kind()
    }

    /// Samples per analysis frame: 320 (energy, 20 ms) or 512 (Silero, 32 ms).
    pub fn frame_len(&self) -> usize {
        self.detector.frame_len()
    }

    /// Consume samples; returns every utterance that closed within them.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Utterance> {
        let frame_len = self.frame_len();
        let mut closed = Vec::new();
        let mut rest = samples;
        if !self.pending.is_empty() {
            let take = (frame_len - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == frame_len {
                let frame = std::mem::take(&mut self.pending);
                self.frames(&frame, &mut closed);
                self.pending = frame;
                self.pending.clear();
            }
        }
        let whole = rest.len() / frame_len * frame_len;
        self.frames(&rest[..whole], &mut closed);
        self.pending.extend_from_slice(&rest[whole..]);
        closed
    }

    /// End of stream: close the open utterance, if any.
    pub fn finish(&mut self) -> Option<Utterance> {
        let pending = std::mem::take(&mut self.pending);
        if let Some(open) = self.open.as_mut() {
            open.samples.extend_from_slice(&pending);
        }
        let open = self.open.take()?;
        self.close(open)
    }

    /// The utterance being spoken right now (for partial results), if speech is ongoing.
    pub fn current(&self) -> Option<(u64, &[f32])> {
        self.open.as_ref().map(|o| (o.start_sample, &o.samples[..]))
    }

    /// How far into the open utterance (samples) its last speech frame ends: what follows is
    /// silence that may yet close it.
    pub fn speech_end(&self) -> Option<usize> {
        self.open.as_ref().map(|o| o.speech_end)
    }

    /// Whether speech is ongoing.
    pub fn in_speech(&self) -> bool {
        self.open.is_some()
    }

    /// Classify and consume whole frames.
    fn frames(&mut self, frames: &[f32], closed: &mut Vec<Utterance>) {
        if frames.is_empty() {
            return;
        }
        let frame_len = self.frame_len();
        // Silero scores all of them in one model call: per-call overhead is most of its cost.
        let probs = match &mut self.detector {
            Detector::Silero(d) => d.probabilities(frames),
            Detector::Energy(_) => Vec::new(),
        };
        for (i, frame) in frames.chunks_exact(frame_len).enumerate() {
            let speech = match &mut self.detector {
                Detector::Energy(c) => c.is_speech(frame, self.open.is_some()),
                Detector::Silero(d) => d.is_speech(probs[i]),
            };
            self.frame(frame, speech, closed);
        }
    }

    fn frame(&mut self, frame: &[f32], speech: bool, closed: &mut Vec<Utterance>) {
        let frame_len = frame.len();
        let onset_frames = self.detector.onset_frames();
        self.position += frame_len as u64;
        match self.open.as_mut() {
            None => {
                self.pre_roll.extend(frame.iter().copied());
                let keep = ms_to_samples(self.config.pre_roll_ms as u64).max(frame_len * onset_frames);
                while self.pre_roll.len() > keep {
                    self.pre_roll.pop_front();
                }
                self.onset_run = if speech { self.onset_run + 1 } else { 0 };
                if self.onset_run >= onset_frames {
                    let samples: Vec<f32> = self.pre_roll.drain(..).collect();
                    let start_sample = self.position - samples.len() as u64;
                    let speech_end = samples.len();
                    // From the end, so each level but the first covers a whole frame.
                    let levels = samples.rchunks(frame_len).rev().map(level_db).collect();
                    self.open = Some(Open {
                        start_sample,
                        samples,
                        speech_end,
                        speech_frames: onset_frames,
                        silence_run: 0,
                        levels,
                    });
                    self.onset_run = 0;
                }
            }
            Some(open) => {
                open.samples.extend_from_slice(frame);
                open.levels.push(level_db(frame));
                if speech {
                    open.speech_frames += 1;
                    open.silence_run = 0;
                    open.speech_end = open.samples.len();
                } else {
                    open.silence_run += 1;
                }
                if open.silence_run * frame_len >= ms_to_samples(self.config.min_silence_ms as u64) {
                    let open = self.open.take().expect("open utterance");
                    if let Some(u) = self.close(open) {
                        closed.push(u);
                    }
                } else if open.samples.len() >= ms_to_samples(self.config.max_utterance_ms as u64) {
                    let open = self.open.take().expect("open utterance");
                    self.split_long(open, closed);
                }
            }
        }
    }

    /// Trim to speech plus post-roll; the cut-off silence becomes pre-roll for the next onset.
    fn close(&mut self, mut open: Open) -> Option<Utterance> {
        let end = (open.speech_end + ms_to_samples(self.config.post_roll_ms as u64)).min(open.samples.len());
        self.pre_roll = open.samples.drain(end..).collect();
        let keep = ms_to_samples(self.config.pre_roll_ms as u64);
        while self.pre_roll.len() > keep {
            self.pre_roll.pop_front();
        }
        if open.speech_frames * self.frame_len() < ms_to_samples(self.config.min_speech_ms as u64) {
            return None;
        }
        Some(Utterance { start_sample: open.start_sample, samples: open.samples })
    }

    /// Cut an over-long utterance at its quietest frame in the last third; the rest stays open.
    fn split_long(&mut self, open: Open, closed: &mut Vec<Utterance>) {
        let frames = open.levels.len();
        let from = frames * 2 / 3;
        let cut_frame =
            (from..frames).min_by(|&a, &b| open.levels[a].total_cmp(&open.levels[b])).unwrap_or(frames).max(1);
        // Levels count back from the end of the samples in whole frames.
        let cut = open.samples.len().saturating_sub((frames.max(cut_frame) - cut_frame) * self.frame_len());
        let mut samples = open.samples;
        let tail = samples.split_off(cut);
        let tail_levels = open.levels[cut_frame.min(frames)..].to_vec();
        closed.push(Utterance { start_sample: open.start_sample, samples });
        self.open = Some(Open {
            start_sample: open.start_sample + cut as u64,
            speech_end: tail.len(),
            speech_frames: tail_levels.len(),
            silence_run: 0,
            samples: tail,
            levels: tail_levels,
        });
    }
}

/// All utterances in a whole recording.
pub fn utterances(samples: &[f32], config: &VadConfig) -> Vec<Utterance> {
    let mut segmenter = Segmenter::new(config.clone());
    let mut out = segmenter.push(samples);
    out.extend(segmenter.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic "voice": a 200 Hz buzz with syllable-rate amplitude modulation.
    fn voiced(ms: u64) -> Vec<f32> {
        (0..ms_to_samples(ms))
            .map(|i| {
                let t = i as f32 / SAMPLE_RATE as f32;
                let syllables = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t).sin();
                0.2 * syllables * (2.0 * std::f32::consts::PI * 200.0 * t).sin()
            })
            .collect()
    }

    fn noise(ms: u64, rms: f32, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..ms_to_samples(ms))
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                // Uniform in [-1, 1) has RMS 1/sqrt(3).
                ((state >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * rms * 3f32.sqrt()
            })
            .collect()
    }

    #[test]
    fn pauses_split_utterances_at_the_right_times() {
        let mut audio = noise(1000, 0.001, 1);
        audio.extend(voiced(2000));
        audio.extend(noise(3000, 0.001, 2));
        audio.extend(voiced(1500));
        audio.extend(noise(1000, 0.001, 3));
        let found = utterances(&audio, &VadConfig::default());
        assert_eq!(found.len(), 2, "{:?}", found.iter().map(|u| (u.start_ms(), u.end_ms())).collect::<Vec<_>>());
        // Speech at 1000-3000 and 6000-7500 ms; pre/post-roll is 300 ms.
        assert!((650..=1000).contains(&found[0].start_ms()), "{}", found[0].start_ms());
        assert!((3000..=3400).contains(&found[0].end_ms()), "{}", found[0].end_ms());
        assert!((5650..=6000).contains(&found[1].start_ms()), "{}", found[1].start_ms());
        assert!((7500..=7900).contains(&found[1].end_ms()), "{}", found[1].end_ms());
    }

    #[test]
    fn silence_and_low_noise_have_no_speech() {
        assert!(utterances(&vec![0.0; ms_to_samples(8000)], &VadConfig::default()).is_empty());
        assert!(utterances(&noise(8000, 0.003, 7), &VadConfig::default()).is_empty());
        // Louder steady noise (a fan): the floor adapts; at most a short false start is allowed.
        let fan = utterances(&noise(8000, 0.02, 9), &VadConfig::default());
        assert!(fan.iter().all(|u| u.start_ms() < 2000), "{:?}", fan.iter().map(|u| u.start_ms()).collect::<Vec<_>>());
    }

    #[test]
    fn chunk_size_does_not_change_the_result() {
        let mut audio = voiced(1200);
        audio.extend(noise(2000, 0.001, 4));
        audio.extend(voiced(800));
        let whole = utterances(&audio, &VadConfig::default());
        let mut seg = Segmenter::new(VadConfig::default());
        let mut chunked = Vec::new();
        for chunk in audio.chunks(1234) {
            chunked.extend(seg.push(chunk));
        }
        chunked.extend(seg.finish());
        let spans = |v: &[Utterance]| v.iter().map(|u| (u.start_sample, u.samples.len())).collect::<Vec<_>>();
        assert_eq!(spans(&whole), spans(&chunked));
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].start_sample, 0, "speech at the very start of a stream is kept");
    }

    #[test]
    fn silero_hysteresis_opens_at_the_onset_and_closes_below_the_offset() {
        let mut h = Hysteresis { onset: 0.5, offset: 0.35, voiced: false };
        let probs = [0.45, 0.5, 0.4, 0.36, 0.34, 0.45, 0.49, 0.7, 0.1];
        let speech: Vec<bool> = probs.iter().map(|&p| h.next(p)).collect();
        assert_eq!(speech, [false, true, true, true, false, false, false, true, false]);
    }

    #[test]
    fn the_energy_detector_is_the_default() {
        let seg = Segmenter::new(VadConfig::default());
        assert_eq!((seg.detector(), seg.frame_len()), (DetectorKind::Energy, FRAME));
    }

    #[test]
    fn long_speech_is_cut_below_the_limit() {
        let config = VadConfig { max_utterance_ms: 5000, ..VadConfig::default() };
        let found = utterances(&voiced(12_000), &config);
        assert!(found.len() >= 3);
        assert!(found.iter().all(|u| u.samples.len() <= ms_to_samples(5000)));
        let total: usize = found.iter().map(|u| u.samples.len()).sum();
        assert_eq!(total, ms_to_samples(12_000), "no audio lost at the cuts");
    }
}
