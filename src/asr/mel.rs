//! Whisper's log-mel spectrogram, computed here instead of in whisper.cpp.
//!
//! whisper.cpp's FFT is a naive one (400 = 16 x 25 points, each 25-point part a plain DFT): it
//! was ~8% of a transcription in perf profiles. realfft's is several times faster. Everything else
//! follows whisper.cpp's `log_mel_spectrogram` step by step (reflection at the start, 30 s of
//! silence at the end, global max - 8 floor, `(x + 4) / 4`), so the encoder sees the same input.
//! The transcriber hands it over when whisper.cpp's first encoder pass begins; language
//! auto-detection runs before that, so with "auto" whisper.cpp still computes its own.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Samples per FFT frame (25 ms).
const N_FFT: usize = 400;
/// Samples between frames (10 ms).
const HOP: usize = 160;
/// Silence whisper.cpp appends to every input; its encoder reads into it.
const TAIL: usize = 16_000 * 30;
/// whisper.cpp's floor before the log (its value for an all-zero frame).
const FLOOR: f64 = 1e-10;

/// A log-mel spectrogram laid out as whisper.cpp keeps it: band-major, `n_len` frames per band.
pub(crate) struct Mel {
    /// `n_mel * n_len` values.
    pub data: Vec<f32>,
    /// Frames, the 30 s of appended silence included.
    pub n_len: usize,
    /// Mel bands.
    pub n_mel: usize,
    /// Frames whisper.cpp counts as audio (where its decoding loop stops).
    pub n_len_org: usize,
}

/// Computes whisper's log-mel spectrogram with a model's filter bank.
pub(crate) struct LogMel {
    fft: Arc<dyn RealToComplex<f32>>,
    hann: Vec<f32>,
    /// Per band: the first FFT bin it weighs and the weights of its non-zero span.
    bands: Vec<(usize, Vec<f32>)>,
}

impl LogMel {
    /// From a model file's filter bank: `n_mel` rows of `n_bins` weights.
    pub fn new(n_mel: usize, n_bins: usize, filters: &[f32]) -> Result<Self, String> {
        if n_bins != N_FFT / 2 + 1 || filters.len() != n_mel * n_bins || n_mel == 0 {
            return Err(format!("unsupported mel filter bank: {n_mel} x {n_bins}"));
        }
        let bands = filters
            .chunks(n_bins)
            .map(|row| {
                // Zero weights add nothing: keep only the span between the first and last non-zero.
                let first = row.iter().position(|w| *w != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|w| *w != 0.0).map_or(first, |i| i + 1);
                (first, row[first..last].to_vec())
            })
            .collect();
        // Periodic Hann, computed as whisper.cpp does (the cosine in single precision).
        let hann = (0..N_FFT)
            .map(|i| {
                let t = (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64) as f32;
                (0.5 * (1.0 - t.cos() as f64)) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        Ok(Self { fft, hann, bands })
    }

    /// The spectrogram of 16 kHz mono `samples` (at least 201 of them: whisper.cpp reflects
    /// 200 at the start).
    pub fn compute(&self, samples: &[f32]) -> Mel {
        let pad = N_FFT / 2;
        let n = samples.len().max(pad + 1);
        // The frames over the 30 s of silence are never transformed (see `audible`), so the
        // signal only needs to reach one frame past the audio.
        let mut padded = vec![0f32; n + pad + N_FFT];
        for (i, slot) in padded[..pad].iter_mut().enumerate() {
            *slot = samples.get(pad - i).copied().unwrap_or(0.0);
        }
        padded[pad..pad + samples.len()].copy_from_slice(samples);

        let n_mel = self.bands.len();
        let n_len = (n + TAIL + 2 * pad - N_FFT) / HOP;
        let n_len_org = 1 + (n + pad).saturating_sub(N_FFT) / HOP;
        // Frames past the audio hold only silence: whisper.cpp gives them the floor directly.
        let audible = ((n + pad) / HOP + 1).min(n_len);
        let mut data = vec![FLOOR.log10() as f32; n_mel * n_len];

        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; spectrum.len()];
        for i in 0..audible {
            let offset = i * HOP;
            for ((slot, w), x) in frame.iter_mut().zip(&self.hann).zip(&padded[offset..offset + N_FFT]) {
                *slot = w * x;
            }
            self.fft.process_with_scratch(&mut frame, &mut spectrum, &mut scratch).expect("buffers come from the plan");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            for (band, (first, weights)) in self.bands.iter().enumerate() {
                let sum: f64 = weights.iter().zip(&power[*first..]).map(|(w, p)| (w * p) as f64).sum();
                data[band * n_len + i] = sum.max(FLOOR).log10() as f32;
            }
        }

        let floor = data.iter().fold(f64::MIN, |m, &x| m.max(x as f64)) - 8.0;
        for x in &mut data {
            *x = ((((*x as f64).max(floor) as f32) as f64 + 4.0) / 4.0) as f32;
        }
        Mel { data, n_len, n_mel, n_len_org }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A triangular bank of `n_mel` bands over the 201 bins, like whisper's (not its exact values).
    fn bank(n_mel: usize) -> Vec<f32> {
        let bins = N_FFT / 2 + 1;
        let mut f = vec![0f32; n_mel * bins];
        let step = (bins - 1) as f32 / (n_mel + 1) as f32;
        for b in 0..n_mel {
            let (lo, mid, hi) = (b as f32 * step, (b + 1) as f32 * step, (b + 2) as f32 * step);
            for k in 0..bins {
                let x = k as f32;
                let w = if x > lo && x <= mid {
                    (x - lo) / (mid - lo)
                } else if x > mid && x < hi {
                    (hi - x) / (hi - mid)
                } else {
                    0.0
                };
                f[b * bins + k] = w;
            }
        }
        f
    }

    /// The same spectrogram the slow way: a direct DFT in f64 over whisper.cpp's padded signal.
    fn reference(samples: &[f32], filters: &[f32], n_mel: usize) -> (Vec<f64>, usize) {
        let pad = N_FFT / 2;
        let mut padded = vec![0f64; samples.len() + TAIL + 2 * pad];
        for i in 0..pad {
            padded[i] = samples[pad - i] as f64;
        }
        for (i, s) in samples.iter().enumerate() {
            padded[pad + i] = *s as f64;
        }
        let n_len = (padded.len() - N_FFT) / HOP;
        let bins = N_FFT / 2 + 1;
        let mut out = vec![FLOOR.log10(); n_mel * n_len];
        for i in 0..((samples.len() + pad) / HOP + 1).min(n_len) {
            let frame: Vec<f64> = (0..N_FFT)
                .map(|j| {
                    let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * j as f64 / N_FFT as f64).cos());
                    w * padded[i * HOP + j]
                })
                .collect();
            let power: Vec<f64> = (0..bins)
                .map(|k| {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (j, x) in frame.iter().enumerate() {
                        let t = 2.0 * std::f64::consts::PI * (k * j) as f64 / N_FFT as f64;
                        re += x * t.cos();
                        im -= x * t.sin();
                    }
                    re * re + im * im
                })
                .collect();
            for b in 0..n_mel {
                let sum: f64 = (0..bins).map(|k| power[k] * filters[b * bins + k] as f64).sum();
                out[b * n_len + i] = sum.max(FLOOR).log10();
            }
        }
        let floor = out.iter().cloned().fold(f64::MIN, f64::max) - 8.0;
        (out.into_iter().map(|x| (x.max(floor) + 4.0) / 4.0).collect(), n_len)
    }

    #[test]
    fn matches_a_direct_dft_of_whispers_padded_signal() {
        let n_mel = 16;
        let filters = bank(n_mel);
        let mel = LogMel::new(n_mel, N_FFT / 2 + 1, &filters).unwrap();
        // 0.3 s: a chirp over noise-like content, so every band and the reflection matter.
        let samples: Vec<f32> = (0..4_800)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.5 * (2.0 * std::f32::consts::PI * (300.0 + 4_000.0 * t) * t).sin()
                    + 0.1 * ((i * 7919 % 101) as f32 / 101.0 - 0.5)
            })
            .collect();
        let got = mel.compute(&samples);
        let (want, n_len) = reference(&samples, &filters, n_mel);
        assert_eq!((got.n_len, got.n_mel), (n_len, n_mel));
        assert_eq!(got.n_len, (4_800 + TAIL) / HOP, "30 s of silence follow the audio");
        assert_eq!(got.n_len_org, 1 + (4_800 + 200 - N_FFT) / HOP);
        let worst = got.data.iter().zip(&want).map(|(g, w)| (*g as f64 - w).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-4, "max deviation {worst}");
        // The silent tail sits at the floor: the loudest value minus 8 (in log10 units), rescaled.
        let top = want.iter().cloned().fold(f64::MIN, f64::max);
        let tail = got.data[got.n_len - 1] as f64;
        assert!((tail - ((top * 4.0 - 4.0 - 8.0) + 4.0) / 4.0).abs() < 1e-5, "tail {tail}, top {top}");
    }

    /// whisper.cpp's own FFT (whisper.cpp `fft`/`dft`: radix 2 down to odd sizes, then a direct
    /// DFT, with single-precision tables of 400 sines and cosines), ported operation for operation.
    fn whisper_fft(x: &[f32], cos: &[f32], sin: &[f32]) -> Vec<(f32, f32)> {
        let n = x.len();
        let step = N_FFT / n;
        if n == 1 {
            return vec![(x[0], 0.0)];
        }
        if n % 2 == 1 {
            return (0..n)
                .map(|k| {
                    let (mut re, mut im) = (0f32, 0f32);
                    for (j, v) in x.iter().enumerate() {
                        let idx = (k * j * step) % N_FFT;
                        re += v * cos[idx];
                        im -= v * sin[idx];
                    }
                    (re, im)
                })
                .collect();
        }
        let even: Vec<f32> = x.iter().step_by(2).copied().collect();
        let odd: Vec<f32> = x.iter().skip(1).step_by(2).copied().collect();
        let (e, o) = (whisper_fft(&even, cos, sin), whisper_fft(&odd, cos, sin));
        let mut out = vec![(0f32, 0f32); n];
        for k in 0..n / 2 {
            let (re, im) = (cos[k * step], -sin[k * step]);
            let (ro, io) = o[k];
            out[k] = (e[k].0 + re * ro - im * io, e[k].1 + re * io + im * ro);
            out[k + n / 2] = (e[k].0 - re * ro + im * io, e[k].1 - re * io - im * ro);
        }
        out
    }

    #[test]
    fn matches_whisper_cpps_own_spectrogram() {
        let n_mel = 80;
        let filters = bank(n_mel);
        let mel = LogMel::new(n_mel, N_FFT / 2 + 1, &filters).unwrap();
        let samples: Vec<f32> = (0..8_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin() * (1.0 + (7.0 * t).sin())
                    + 0.05 * ((i * 7919 % 211) as f32 / 211.0 - 0.5)
            })
            .collect();
        let got = mel.compute(&samples);

        // whisper.cpp's log_mel_spectrogram, as it computes it.
        let theta = |i: usize| 2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64;
        let cos: Vec<f32> = (0..N_FFT).map(|i| (theta(i) as f32).cos()).collect();
        let sin: Vec<f32> = (0..N_FFT).map(|i| (theta(i) as f32).sin()).collect();
        let pad = N_FFT / 2;
        let mut padded = vec![0f32; samples.len() + TAIL + 2 * pad];
        for i in 0..pad {
            padded[i] = samples[pad - i];
        }
        padded[pad..pad + samples.len()].copy_from_slice(&samples);
        let bins = N_FFT / 2 + 1;
        let mut want = vec![FLOOR.log10() as f32; n_mel * got.n_len];
        for i in 0..((samples.len() + pad) / HOP + 1).min(got.n_len) {
            let frame: Vec<f32> = (0..N_FFT).map(|j| mel.hann[j] * padded[i * HOP + j]).collect();
            let power: Vec<f32> = whisper_fft(&frame, &cos, &sin)[..bins].iter().map(|(r, m)| r * r + m * m).collect();
            for b in 0..n_mel {
                let sum: f64 = (0..bins).map(|k| (power[k] * filters[b * bins + k]) as f64).sum();
                want[b * got.n_len + i] = sum.max(FLOOR).log10() as f32;
            }
        }
        let top = want.iter().fold(f64::MIN, |m, &x| m.max(x as f64)) - 8.0;
        let want: Vec<f64> = want.iter().map(|&x| ((x as f64).max(top) + 4.0) / 4.0).collect();
        let worst = got.data.iter().zip(&want).map(|(g, w)| (*g as f64 - w).abs()).fold(0.0, f64::max);
        eprintln!("worst deviation from whisper.cpp's algorithm: {worst:e}");
        assert!(worst < 1e-5, "max deviation {worst}");
    }

    #[test]
    fn a_tone_lights_the_band_that_covers_it() {
        let n_mel = 10;
        let filters = bank(n_mel);
        let mel = LogMel::new(n_mel, N_FFT / 2 + 1, &filters).unwrap();
        // Bin 100 of 400 at 16 kHz is 4 kHz: the middle of the bank.
        let samples: Vec<f32> =
            (0..16_000).map(|i| (2.0 * std::f32::consts::PI * 4_000.0 * i as f32 / 16_000.0).sin()).collect();
        let m = mel.compute(&samples);
        let frame = 50;
        let loudest =
            (0..n_mel).max_by(|a, b| m.data[a * m.n_len + frame].total_cmp(&m.data[b * m.n_len + frame])).unwrap();
        let (first, weights) = &mel.bands[loudest];
        assert!((*first..first + weights.len()).contains(&100), "band {loudest} covers bins {first}..");
    }

    #[test]
    fn rejects_a_bank_for_another_fft_size() {
        assert!(LogMel::new(80, 257, &vec![0.0; 80 * 257]).is_err());
        assert!(LogMel::new(80, 201, &[0.0; 10]).is_err());
    }
}
