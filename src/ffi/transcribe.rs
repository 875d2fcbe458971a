//! Transcription of a whole file or buffer.

use std::path::Path;
use std::sync::Arc;

use super::SottoError;
use crate::asr::{self, TranscribeOptions};
use crate::audio::vad::VadConfig;
use crate::audio::{SAMPLE_RATE, SileroModel, StreamResampler, load_file};

/// A piece of transcript with its time span in the audio.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Segment {
    /// Start, in milliseconds from the beginning of the audio.
    pub start_ms: u64,
    /// End, in milliseconds from the beginning of the audio.
    pub end_ms: u64,
    /// The words, trimmed.
    pub text: String,
}

impl From<asr::Segment> for Segment {
    fn from(s: asr::Segment) -> Self {
        Segment { start_ms: s.start_ms, end_ms: s.end_ms, text: s.text }
    }
}

/// A loaded whisper.cpp model, shared by transcriptions and dictation sessions (thread-safe).
#[derive(uniffi::Object)]
pub struct Transcriber {
    pub(crate) model: Arc<asr::Transcriber>,
    /// Silero VAD: speech found by it rather than by loudness, where the model is installed.
    pub(crate) silero: Option<Arc<SileroModel>>,
}

#[uniffi::export]
impl Transcriber {
    /// Load a ggml whisper model, and the Silero VAD model if a path is given (recommended:
    /// pauses are found reliably in noise).
    #[uniffi::constructor]
    pub fn new(model_path: String, vad_model_path: Option<String>) -> Result<Arc<Self>, SottoError> {
        let silero = vad_model_path.map(|p| SileroModel::load(Path::new(&p)).map(Arc::new)).transpose()?;
        let model = Arc::new(asr::Transcriber::load(Path::new(&model_path))?);
        Ok(Arc::new(Transcriber { model, silero }))
    }

    /// The model's size name ("tiny", "base", …) and whether it is English-only.
    pub fn describe(&self) -> String {
        let info = self.model.info();
        let languages = if info.is_multilingual() { "multilingual" } else { "English only" };
        format!("whisper {} ({languages})", info.size_name())
    }

    /// Transcribe an audio file (WAV, FLAC, MP3, Ogg, M4A…); `language` is an ISO 639-1 code,
    /// "auto", or none for the model's default.
    pub fn transcribe_file(&self, path: String, language: Option<String>) -> Result<Vec<Segment>, SottoError> {
        let audio = load_file(Path::new(&path))?;
        self.run(&audio, language)
    }

    /// Transcribe interleaved samples (-1..1) at any rate and channel count.
    pub fn transcribe_pcm(
        &self,
        samples: Vec<f32>,
        sample_rate: u32,
        channels: u16,
        language: Option<String>,
    ) -> Result<Vec<Segment>, SottoError> {
        let audio = to_16k_mono(&samples, sample_rate, channels)?;
        self.run(&audio, language)
    }
}

impl Transcriber {
    /// Options for this model: the Silero VAD when loaded, `language` when given.
    pub(crate) fn options(&self, language: Option<String>) -> TranscribeOptions {
        let vad = self.silero.clone().map(VadConfig::with_silero).unwrap_or_default();
        TranscribeOptions { language, vad, ..TranscribeOptions::default() }
    }

    fn run(&self, audio: &[f32], language: Option<String>) -> Result<Vec<Segment>, SottoError> {
        let segments = self.model.transcribe(audio, &self.options(language))?;
        Ok(segments.into_iter().map(Segment::from).collect())
    }
}

/// Check a caller's audio format; the session and the buffer transcription take the same.
pub(crate) fn check_format(samples: usize, sample_rate: u32, channels: u16) -> Result<(), SottoError> {
    if !(4_000..=384_000).contains(&sample_rate) {
        return Err(SottoError::invalid(format!("sample rate {sample_rate} Hz is not 4000 to 384000 Hz")));
    }
    if channels == 0 || channels > 32 {
        return Err(SottoError::invalid(format!("{channels} channels: give 1 to 32")));
    }
    if !samples.is_multiple_of(channels as usize) {
        return Err(SottoError::invalid(format!("{samples} samples do not split into {channels} channels")));
    }
    Ok(())
}

fn to_16k_mono(samples: &[f32], sample_rate: u32, channels: u16) -> Result<Vec<f32>, SottoError> {
    check_format(samples.len(), sample_rate, channels)?;
    if samples.is_empty() {
        return Err(SottoError::Audio { detail: "no samples".into() });
    }
    let mut resampler = StreamResampler::new(sample_rate, channels, SAMPLE_RATE)?;
    let mut out = Vec::with_capacity(samples.len() * SAMPLE_RATE as usize / sample_rate as usize + 1);
    resampler.push(samples, &mut out)?;
    resampler.finish(&mut out)?;
    Ok(out)
}
