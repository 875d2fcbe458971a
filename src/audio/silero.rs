//! Silero VAD v6 (MIT, PyPI `silero-vad`) on tract: a speech probability for every 32 ms of
//! 16 kHz audio.
//!
//! The model is the package's `silero_vad_16k_sequence.onnx`: the other exports branch on the
//! sample rate with an ONNX `If`, this one has a plain graph that takes a whole block of frames
//! per call. Each row of its input is 64 samples of left context followed by 512 new samples;
//! the LSTM state (`h`, `c`) and the context are carried from call to call, so audio can be fed
//! in any chunk size and gives the same probabilities as one call over the whole recording.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::*;

use super::AudioError;

/// File name of the model in the models directory.
pub const MODEL_FILE: &str = "silero_vad_16k_sequence.onnx";
/// New samples per frame: 32 ms at 16 kHz.
pub const FRAME: usize = 512;
/// Samples of the previous frame the model sees before each frame.
pub const CONTEXT: usize = 64;
/// Width of the LSTM state.
const STATE: usize = 128;
/// Frames per model call at most: a whole recording in one call would need its whole framed
/// copy in memory at once (an hour is ~260 MB); 512 frames (16 s) is what silero's own
/// sequence front-end uses.
const MAX_FRAMES_PER_CALL: usize = 512;

/// The loaded model: an optimised tract plan, shared by every stream (`Send + Sync`).
pub struct SileroModel {
    plan: Arc<TypedRunnableModel>,
    path: PathBuf,
}

impl fmt::Debug for SileroModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The plan's own Debug prints the whole graph.
        f.debug_struct("SileroModel").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SileroModel {
    /// Load and optimise `silero_vad_16k_sequence.onnx`; a missing, empty, corrupt or different
    /// model is an error, checked by running one frame of silence.
    pub fn load(path: &Path) -> Result<Self, AudioError> {
        let bytes = std::fs::read(path).map_err(|source| AudioError::Io { path: path.to_path_buf(), source })?;
        if bytes.is_empty() {
            return Err(AudioError::Empty { path: path.to_path_buf() });
        }
        let invalid = |detail: String| AudioError::VadModel { path: path.to_path_buf(), detail };
        let model = tract_onnx::onnx().model_for_read(&mut bytes.as_slice()).map_err(|e| invalid(one_line(&e)))?;
        let names: Vec<&str> = model.inputs.iter().map(|o| model.node(o.node).name.as_str()).collect();
        if names != ["input", "h", "c"] || model.outputs.len() != 3 {
            return Err(invalid(format!(
                "not Silero's 16 kHz sequence model (inputs {names:?}, {} outputs; expected input, h, c and 3)",
                model.outputs.len()
            )));
        }
        let frames = model.sym("frames");
        model.symbols.add_assertion("frames >= 1").map_err(|e| invalid(one_line(&e)))?;
        let row = TDim::Val((CONTEXT + FRAME) as i64);
        let state = [TDim::Val(1), TDim::Val(1), TDim::Val(STATE as i64)];
        let plan = model
            .with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), [frames.to_dim(), row]))
            .and_then(|m| m.with_input_fact(1, InferenceFact::dt_shape(f32::datum_type(), state.clone())))
            .and_then(|m| m.with_input_fact(2, InferenceFact::dt_shape(f32::datum_type(), state)))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| invalid(one_line(&e)))?;
        let loaded = Self { plan, path: path.to_path_buf() };
        // A graph with the right names can still have the wrong shapes or weights: run it once.
        let probe = loaded.probabilities(&[0.0; FRAME]).map_err(|e| invalid(e.to_string()))?;
        if probe.len() != 1 || !(0.0..=1.0).contains(&probe[0]) {
            return Err(invalid(format!("one frame of silence gave {probe:?}, not one probability")));
        }
        Ok(loaded)
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Probabilities of a whole recording: one per 512 samples, the last frame zero-padded (as
    /// silero's `get_speech_timestamps` does).
    pub fn probabilities(&self, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        let mut stream = SileroState::default();
        let mut probs = stream.push(&self.plan, samples)?;
        probs.extend(stream.flush(&self.plan)?);
        Ok(probs)
    }
}

/// Streaming state over one audio stream: feed 16 kHz samples in any chunk size, get the
/// probability of every frame completed so far.
pub struct SileroStream {
    model: Arc<SileroModel>,
    state: SileroState,
}

impl fmt::Debug for SileroStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SileroStream")
            .field("model", &self.model)
            .field("pending", &self.state.pending.len())
            .finish_non_exhaustive()
    }
}

impl SileroStream {
    /// A stream that starts from silence (zero state and context), as silero's own front-end does.
    pub fn new(model: Arc<SileroModel>) -> Self {
        Self { model, state: SileroState::default() }
    }

    /// Consume samples; returns one probability per frame completed within them (a partial
    /// frame waits for the next call).
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        self.state.push(&self.model.plan, samples)
    }

    /// End of stream: the probability of the last, zero-padded partial frame, if any.
    pub fn flush(&mut self) -> Option<Result<f32, AudioError>> {
        self.state.flush(&self.model.plan).transpose()
    }

    /// Forget the audio so far (a new recording on the same stream).
    pub fn reset(&mut self) {
        self.state = SileroState::default();
    }
}

/// What is carried between calls: LSTM state, left context and an incomplete frame.
struct SileroState {
    h: Tensor,
    c: Tensor,
    context: [f32; CONTEXT],
    pending: Vec<f32>,
    /// tract's run state, kept so that a live stream's small calls reuse its buffers: a fresh
    /// one per call made 100 ms chunks ~4x slower per second of audio than whole recordings.
    runner: Option<TypedSimpleState>,
}

impl Default for SileroState {
    fn default() -> Self {
        let zeros = || Tensor::zero::<f32>(&[1, 1, STATE]).expect("a small zero tensor");
        Self { h: zeros(), c: zeros(), context: [0.0; CONTEXT], pending: Vec::with_capacity(FRAME), runner: None }
    }
}

impl SileroState {
    fn push(&mut self, plan: &Arc<TypedRunnableModel>, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        let mut probs = Vec::with_capacity((self.pending.len() + samples.len()) / FRAME);
        let mut rest = samples;
        if !self.pending.is_empty() {
            let take = (FRAME - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() < FRAME {
                return Ok(probs);
            }
            let frame = std::mem::take(&mut self.pending);
            probs.extend(self.run(plan, &frame)?);
            self.pending = frame;
            self.pending.clear();
        }
        let whole = rest.len() / FRAME * FRAME;
        for block in rest[..whole].chunks(FRAME * MAX_FRAMES_PER_CALL) {
            probs.extend(self.run(plan, block)?);
        }
        self.pending.extend_from_slice(&rest[whole..]);
        Ok(probs)
    }

    fn flush(&mut self, plan: &Arc<TypedRunnableModel>) -> Result<Option<f32>, AudioError> {
        if self.pending.is_empty() {
            return Ok(None);
        }
        let mut frame = std::mem::take(&mut self.pending);
        frame.resize(FRAME, 0.0);
        Ok(self.run(plan, &frame)?.first().copied())
    }

    /// One model call over whole frames; advances state and context.
    fn run(&mut self, plan: &Arc<TypedRunnableModel>, frames: &[f32]) -> Result<Vec<f32>, AudioError> {
        debug_assert!(!frames.is_empty() && frames.len().is_multiple_of(FRAME));
        let rows = frames.len() / FRAME;
        let mut input = Vec::with_capacity(rows * (CONTEXT + FRAME));
        for frame in frames.chunks_exact(FRAME) {
            input.extend_from_slice(&self.context);
            input.extend_from_slice(frame);
            self.context.copy_from_slice(&frame[FRAME - CONTEXT..]);
        }
        let failed = |e: &dyn fmt::Display| AudioError::VadRun(one_line(e));
        let input = Tensor::from_shape(&[rows, CONTEXT + FRAME], &input).map_err(|e| failed(&e))?;
        let runner = match &mut self.runner {
            Some(runner) => runner,
            None => self.runner.insert(plan.spawn().map_err(|e| failed(&e))?),
        };
        let outputs = runner
            .run(tvec![input.into_tvalue(), self.h.clone().into_tvalue(), self.c.clone().into_tvalue()])
            .map_err(|e| failed(&e))?;
        let probs: Vec<f32> =
            outputs[0].to_plain_array_view::<f32>().map_err(|e| failed(&e))?.iter().copied().collect();
        if probs.len() != rows {
            return Err(failed(&format!("{} probabilities for {rows} frames", probs.len())));
        }
        self.h = outputs[1].clone().into_tensor();
        self.c = outputs[2].clone().into_tensor();
        Ok(probs)
    }
}

/// tract's errors carry a chain of causes over several lines; one line reads better in a log.
fn one_line(e: &dyn fmt::Display) -> String {
    format!("{e:#}").lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture made by `models/fetch-fixtures`; fails loudly when it was never fetched.
    fn model() -> Arc<SileroModel> {
        static MODEL: std::sync::OnceLock<Arc<SileroModel>> = std::sync::OnceLock::new();
        MODEL
            .get_or_init(|| {
                let cache = std::env::var_os("SOTTO_CACHE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| dirs::home_dir().expect("home dir").join(".cache/sotto"));
                let path = cache.join("models").join(MODEL_FILE);
                assert!(path.is_file(), "missing {} — run `make fixtures` first", path.display());
                Arc::new(SileroModel::load(&path).expect("the fixture loads"))
            })
            .clone()
    }

    /// The JFK clip (16 kHz mono).
    fn jfk() -> Vec<f32> {
        let cache = std::env::var_os("SOTTO_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| dirs::home_dir().expect("home dir").join(".cache/sotto"));
        crate::audio::load_file(&cache.join("fixtures/jfk.wav")).expect("jfk.wav decodes")
    }

    #[test]
    fn the_model_is_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<SileroModel>();
        fn movable<T: Send>() {}
        movable::<SileroStream>();
    }

    #[test]
    fn speech_scores_high_and_silence_low() {
        let model = model();
        let silence = model.probabilities(&vec![0.0; 16_000]).unwrap();
        assert_eq!(silence.len(), 32, "one probability per 512 samples, the last one padded");
        assert!(silence.iter().all(|&p| p < 0.1), "{silence:?}");
        let speech = model.probabilities(&jfk()).unwrap();
        let voiced = speech.iter().filter(|&&p| p >= 0.5).count();
        // JFK: 11 s with short pauses between the phrases; most of it is speech.
        assert!(voiced * 2 > speech.len(), "{voiced} of {} frames", speech.len());
    }

    #[test]
    fn streaming_in_odd_chunks_gives_the_whole_call_probabilities() {
        let model = model();
        let audio = jfk();
        let whole = model.probabilities(&audio).unwrap();
        let mut stream = SileroStream::new(model.clone());
        let mut streamed = Vec::new();
        for chunk in audio.chunks(1000) {
            streamed.extend(stream.push(chunk).unwrap());
        }
        streamed.extend(stream.flush().transpose().unwrap());
        assert_eq!(whole.len(), streamed.len());
        let worst = whole.iter().zip(&streamed).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        // One frame per call vs 344 in one: the same math, summed in another order at most.
        assert!(worst < 1e-4, "largest difference {worst}");
        // After a reset the stream starts over from silence.
        stream.reset();
        let first = stream.push(&audio[..FRAME]).unwrap();
        assert!(first.len() == 1 && (first[0] - whole[0]).abs() < 1e-4, "{first:?} vs {}", whole[0]);
    }

    #[test]
    fn missing_empty_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.onnx");
        assert!(matches!(SileroModel::load(&missing), Err(AudioError::Io { .. })));
        let empty = dir.path().join("empty.onnx");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(SileroModel::load(&empty), Err(AudioError::Empty { .. })));
        let junk = dir.path().join("junk.onnx");
        std::fs::write(&junk, b"not a protobuf at all \xff\xff\xff").unwrap();
        let err = SileroModel::load(&junk).unwrap_err();
        assert!(matches!(err, AudioError::VadModel { .. }), "{err:?}");
        // The real file cut in half: parses no further than the cut.
        let bytes = std::fs::read(model().path()).unwrap();
        let cut = dir.path().join("cut.onnx");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = SileroModel::load(&cut).unwrap_err();
        assert!(matches!(err, AudioError::VadModel { .. }), "{err:?}");
        assert!(!err.to_string().contains('\n'), "one-line error: {err}");
        // A valid ONNX graph that is not Silero's.
        let other = model().path().with_file_name("all-MiniLM-L6-v2-int8.onnx");
        assert!(other.is_file(), "missing {} — run `make fixtures` first", other.display());
        let err = SileroModel::load(&other).unwrap_err();
        assert!(err.to_string().contains("not Silero"), "{err}");
    }

    #[test]
    fn damaged_bytes_are_errors_or_a_working_model_never_a_panic() {
        let bytes = std::fs::read(model().path()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.onnx");
        let mut state = 12345u64;
        let mut errors = 0;
        for i in 0..100 {
            let mut damaged = bytes.clone();
            // Half in the graph's header and node list, half anywhere (mostly weights).
            let span = if i % 2 == 0 { 4000 } else { damaged.len() };
            for _ in 0..1 + i % 8 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                damaged[(state >> 33) as usize % span] ^= (state >> 20) as u8 | 1;
            }
            std::fs::write(&path, &damaged).unwrap();
            match std::panic::catch_unwind(|| SileroModel::load(&path)) {
                Err(_) => panic!("damage {i} made the loader panic"),
                Ok(Err(_)) => errors += 1,
                // Flipped weights can still make a runnable model; its output stays probabilities.
                Ok(Ok(m)) => {
                    assert!(m.probabilities(&[0.1; FRAME * 3]).unwrap().iter().all(|p| (0.0..=1.0).contains(p)))
                }
            }
        }
        assert!(errors > 10, "only {errors} of 100 damaged files were refused");
    }
}
