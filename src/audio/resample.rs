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
    fn rejects_zero_rate() {
        assert!(matches!(resample_mono(&[0.0; 10], 0, 16_000), Err(AudioError::SampleRate(0))));
    }
}
