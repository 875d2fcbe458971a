//! Audio in: microphone capture, file decoding, resampling to 16 kHz mono, voice-activity
//! segmentation (energy or Silero VAD).

pub mod capture;
pub mod cue;
mod decode;
mod error;
mod resample;
pub mod silero;
pub mod vad;

pub use decode::{DecodeInfo, Decoded, decode_file, decode_to_16k, load_file};
pub use error::AudioError;
pub use resample::{StreamResampler, resample_mono};
pub use silero::{SileroModel, SileroStream};

/// The sample rate every model in Sotto consumes.
pub const SAMPLE_RATE: u32 = 16_000;

/// Milliseconds of audio in `samples` at [`SAMPLE_RATE`].
pub fn samples_to_ms(samples: usize) -> u64 {
    samples as u64 * 1000 / SAMPLE_RATE as u64
}

/// Number of samples at [`SAMPLE_RATE`] in `ms` milliseconds.
pub fn ms_to_samples(ms: u64) -> usize {
    (ms * SAMPLE_RATE as u64 / 1000) as usize
}
