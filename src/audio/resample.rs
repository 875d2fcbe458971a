use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::AudioError;

/// Highest input rate accepted: beyond any real recording, and it bounds FFT sizes.
const MAX_RATE: u32 = 384_000;

/// Resample mono `samples` from `from_rate` to `to_rate` with rubato's band-limited FFT resampler.
pub fn resample_mono(samples: &[f32], from_rate: u32, to_rate: u32) -> Result<Vec<f32>, AudioError> {
    for rate in [from_rate, to_rate] {
        if rate == 0 || rate > MAX_RATE {
            return Err(AudioError::SampleRate(rate));
        }
    }
    if from_rate == to_rate || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut resampler = Fft::<f32>::new(from_rate as usize, to_rate as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| AudioError::Resample(e.to_string()))?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| AudioError::Resample(e.to_string()))?;
    let output = resampler.process_all(&input, samples.len(), None).map_err(|e| AudioError::Resample(e.to_string()))?;
    Ok(output.take_data())
}

/// Input frames per resampler call: 20 ms at 48 kHz. Short, so live audio is not held back
/// long; the FFT resampler's own delay (a few ms) is trimmed from the output.
const STREAM_CHUNK: usize = 1024;

/// Streaming conversion of interleaved audio at any rate and channel count to mono at
/// [`SAMPLE_RATE`](super::SAMPLE_RATE): feed chunks of any size as they arrive, get what is
/// ready. Channels are averaged; the resampler is rubato's band-limited FFT one, chunk by chunk.
pub struct StreamResampler {
    from_rate: u32,
    to_rate: u32,
    channels: usize,
    resampler: Option<Fft<f32>>,
    /// Mono input not yet resampled.
    pending: Vec<f32>,
    /// One call's output.
    scratch: Vec<f32>,
    /// Output frames still to drop: the resampler's delay.
    delay: usize,
    /// Mono input frames taken in, and output frames given out (for the exact length at the end).
    consumed: u64,
    produced: u64,
}

impl StreamResampler {
    /// A converter from `from_rate` Hz with `channels` interleaved channels to mono `to_rate` Hz.
    pub fn new(from_rate: u32, channels: u16, to_rate: u32) -> Result<Self, AudioError> {
        for rate in [from_rate, to_rate] {
            if rate == 0 || rate > MAX_RATE {
                return Err(AudioError::SampleRate(rate));
            }
        }
        if channels == 0 {
            return Err(AudioError::Resample("no channels".into()));
        }
        let resampler = if from_rate == to_rate {
            None
        } else {
            Some(
                Fft::<f32>::new(from_rate as usize, to_rate as usize, STREAM_CHUNK, 1, FixedSync::Input)
                    .map_err(|e| AudioError::Resample(e.to_string()))?,
            )
        };
        let delay = resampler.as_ref().map_or(0, |r| r.output_delay());
        let scratch = vec![0.0; resampler.as_ref().map_or(0, |r| r.output_frames_max())];
        Ok(Self {
            from_rate,
            to_rate,
            channels: channels as usize,
            resampler,
            pending: Vec::with_capacity(STREAM_CHUNK * 2),
            scratch,
            delay,
            consumed: 0,
            produced: 0,
        })
    }

    /// Convert `interleaved` (whole frames; a trailing partial frame is dropped), appending the
    /// mono output that is ready to `out`.
    pub fn push(&mut self, interleaved: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        let channels = self.channels;
        let mono = interleaved.chunks_exact(channels).map(|f| f.iter().sum::<f32>() / channels as f32);
        if self.resampler.is_none() {
            out.extend(mono);
            return Ok(());
        }
        self.pending.extend(mono);
        self.run(out, false)
    }

    /// End of input: flush what the resampler still holds, so the output has the full length.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        if self.resampler.is_none() {
            return Ok(());
        }
        self.run(out, true)
    }

    fn run(&mut self, out: &mut Vec<f32>, flush: bool) -> Result<(), AudioError> {
        let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
        let Some(resampler) = self.resampler.as_mut() else { return Ok(()) };
        let expected = |consumed: u64| consumed * self.to_rate as u64 / self.from_rate as u64;
        let mut from = 0;
        loop {
            let need = resampler.input_frames_next();
            let available = self.pending.len() - from;
            let partial = if available >= need {
                None
            } else if flush && self.produced < expected(self.consumed) {
                Some(available)
            } else {
                break;
            };
            let frames = partial.unwrap_or(need);
            let input = InterleavedSlice::new(&self.pending[from..], 1, available.max(frames)).map_err(|e| err(&e))?;
            let len = self.scratch.len();
            let mut output = rubato::audioadapter_buffers::direct::InterleavedSlice::new_mut(&mut self.scratch, 1, len)
                .map_err(|e| err(&e))?;
            let indexing = rubato::Indexing {
                input_offset: 0,
                output_offset: 0,
                partial_len: partial,
                active_channels_mask: None,
            };
            let (_, written) =
                resampler.process_into_buffer(&input, &mut output, Some(&indexing)).map_err(|e| err(&e))?;
            from += frames;
            self.consumed += frames as u64;
            let skip = self.delay.min(written);
            self.delay -= skip;
            let mut ready = &self.scratch[skip..written];
            if flush {
                let room = expected(self.consumed).saturating_sub(self.produced) as usize;
                ready = &ready[..ready.len().min(room)];
            }
            out.extend_from_slice(ready);
            self.produced += ready.len() as u64;
            if partial.is_some() {
                // Padding went in after the real input: count only what was real.
                self.consumed -= (frames - available) as u64;
                if available == 0 && written == 0 {
                    break;
                }
            }
        }
        self.pending.drain(..from.min(self.pending.len()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n).map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5).collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn keeps_length_and_tone() {
        let out = resample_mono(&sine(440.0, 48_000, 1.0), 48_000, 16_000).unwrap();
        assert!((out.len() as i64 - 16_000).abs() <= 2, "len {}", out.len());
        // A 440 Hz tone at amplitude 0.5 has RMS 0.354 and must survive.
        assert!((rms(&out[1000..15000]) - 0.3536).abs() < 0.01);
    }

    #[test]
    fn removes_content_above_new_nyquist() {
        // 12 kHz is above 8 kHz Nyquist: a naive decimator would alias it to 4 kHz.
        let out = resample_mono(&sine(12_000.0, 48_000, 1.0), 48_000, 16_000).unwrap();
        assert!(rms(&out[1000..15000]) < 0.01, "aliasing energy {}", rms(&out));
    }

    #[test]
    fn handles_odd_rates() {
        let out = resample_mono(&sine(300.0, 22_050, 0.5), 22_050, 16_000).unwrap();
        assert!((out.len() as i64 - 8_000).abs() <= 2, "len {}", out.len());
        let out = resample_mono(&sine(300.0, 8_000, 0.5), 8_000, 16_000).unwrap();
        assert!((out.len() as i64 - 8_000).abs() <= 2, "len {}", out.len());
    }

    #[test]
    fn streaming_in_small_chunks_matches_the_whole_buffer() {
        // 48 kHz stereo in 10 ms chunks, as a microphone delivers it; left and right differ.
        let left = sine(440.0, 48_000, 1.0);
        let right = sine(300.0, 48_000, 1.0);
        let stereo: Vec<f32> = left.iter().zip(&right).flat_map(|(l, r)| [*l, *r]).collect();
        let mono: Vec<f32> = left.iter().zip(&right).map(|(l, r)| (l + r) / 2.0).collect();
        let whole = resample_mono(&mono, 48_000, 16_000).unwrap();
        let mut stream = StreamResampler::new(48_000, 2, 16_000).unwrap();
        let mut out = Vec::new();
        for chunk in stereo.chunks(960) {
            stream.push(chunk, &mut out).unwrap();
        }
        assert!(out.len() > 15_000, "output follows the input: {}", out.len());
        stream.finish(&mut out).unwrap();
        assert!((out.len() as i64 - 16_000).abs() <= 2, "len {}", out.len());
        // Same signal, sample for sample, away from the edges.
        let diff = out[500..15_000].iter().zip(&whole[500..15_000]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 0.01, "max difference {diff}");
        // Same rate: a pass-through that still mixes down.
        let mut same = StreamResampler::new(16_000, 2, 16_000).unwrap();
        let mut out = Vec::new();
        same.push(&[0.5, 0.1, 0.2, 0.2], &mut out).unwrap();
        assert_eq!(out, vec![0.3, 0.2]);
        assert!(StreamResampler::new(0, 1, 16_000).is_err());
        assert!(StreamResampler::new(48_000, 0, 16_000).is_err());
    }

    #[test]
    fn rejects_zero_rate() {
        assert!(matches!(resample_mono(&[0.0; 10], 0, 16_000), Err(AudioError::SampleRate(0))));
    }
}
