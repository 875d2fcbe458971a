//! Short tones that tell a user who is not looking that dictation started, ended or was
//! cancelled, played on the default output device (the shells decide when, and whether).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::capture::{log_alsa, quiet_alsa};

/// Which tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// Listening: two notes going up.
    Start,
    /// Done, the text goes in: two notes going down.
    Stop,
    /// Cancelled, nothing goes in: one low note.
    Cancel,
}

/// Why a cue was not played.
#[derive(Debug, thiserror::Error)]
pub enum CueError {
    /// There is no output device.
    #[error("no sound output device")]
    NoDevice,
    /// The audio backend refused.
    #[error("sound output: {0}")]
    Backend(String),
}

/// Loudness of a cue's notes (full scale 1): clearly heard, never startling.
const AMPLITUDE: f32 = 0.2;
/// Fade in and out of each note, so it starts and ends without a click.
const FADE_MS: u32 = 8;
/// Silence before the notes: a stream's first moments can be lost while the output wakes up
/// (ALSA's PulseAudio plugin lost about half of each cue without it; Bluetooth sinks lose more).
const LEAD_IN_MS: u32 = 150;

/// The notes of `cue`: frequency (Hz) and length (ms).
fn notes(cue: Cue) -> &'static [(f32, u32)] {
    match cue {
        Cue::Start => &[(587.3, 70), (880.0, 90)],
        Cue::Stop => &[(880.0, 70), (587.3, 90)],
        Cue::Cancel => &[(392.0, 150)],
    }
}

/// `cue` as mono samples at `rate`.
pub fn samples(cue: Cue, rate: u32) -> Vec<f32> {
    let mut out = Vec::new();
    let fade = (rate * FADE_MS / 1000).max(1) as usize;
    for &(hz, ms) in notes(cue) {
        let n = (rate * ms / 1000) as usize;
        out.extend((0..n).map(|i| {
            let edge = i.min(n - 1 - i);
            let gain =
                if edge < fade { 0.5 - 0.5 * (std::f32::consts::PI * edge as f32 / fade as f32).cos() } else { 1.0 };
            AMPLITUDE * gain * (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin()
        }));
    }
    out
}

/// Play `cue` on the default output device; returns once it has been heard (its length and the
/// device's latency).
pub fn play(cue: Cue) -> Result<(), CueError> {
    let messages = quiet_alsa();
    let result = play_quietly(cue);
    log_alsa(messages);
    result
}

fn play_quietly(cue: Cue) -> Result<(), CueError> {
    let device = cpal::default_host().default_output_device().ok_or(CueError::NoDevice)?;
    let config = device.default_output_config().map_err(|e| CueError::Backend(e.to_string()))?;
    let rate = config.sample_rate();
    let mut tone = vec![0.0; (rate * LEAD_IN_MS / 1000) as usize];
    tone.extend(samples(cue, rate));
    let length = Duration::from_secs_f64(tone.len() as f64 / f64::from(rate));
    let tone = Arc::new(tone);
    let done = Arc::new(AtomicBool::new(false));
    // How far behind the callback the device plays (ALSA's PulseAudio plugin: up to seconds).
    let latency_us = Arc::new(AtomicU64::new(0));
    let (c, channels) = (config.config(), usize::from(config.channels()));
    let stream = match config.sample_format() {
        SampleFormat::F32 => build::<f32>(&device, &c, channels, tone, done.clone(), latency_us.clone()),
        SampleFormat::I16 => build::<i16>(&device, &c, channels, tone, done.clone(), latency_us.clone()),
        SampleFormat::I32 => build::<i32>(&device, &c, channels, tone, done.clone(), latency_us.clone()),
        SampleFormat::U16 => build::<u16>(&device, &c, channels, tone, done.clone(), latency_us.clone()),
        SampleFormat::U8 => build::<u8>(&device, &c, channels, tone, done.clone(), latency_us.clone()),
        SampleFormat::F64 => build::<f64>(&device, &c, channels, tone, done.clone(), latency_us.clone()),
        other => return Err(CueError::Backend(format!("unsupported sample format {other}"))),
    }?;
    stream.play().map_err(|e| CueError::Backend(e.to_string()))?;
    let began = Instant::now();
    while !done.load(Ordering::Relaxed) {
        if began.elapsed() > length + Duration::from_secs(2) {
            return Err(CueError::Backend("the output device never took the sound".into()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // The last samples are still in the device's buffer: closing now would cut them off.
    let latency = Duration::from_micros(latency_us.load(Ordering::Relaxed)).min(Duration::from_secs(3));
    std::thread::sleep(latency + Duration::from_millis(100));
    Ok(())
}

fn build<T: SizedSample + FromSample<f32>>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    channels: usize,
    tone: Arc<Vec<f32>>,
    done: Arc<AtomicBool>,
    latency_us: Arc<AtomicU64>,
) -> Result<cpal::Stream, CueError> {
    let mut at = 0;
    device
        .build_output_stream::<T, _, _>(
            *config,
            move |out: &mut [T], info: &cpal::OutputCallbackInfo| {
                let stamp = info.timestamp();
                let ahead = stamp.playback.duration_since(stamp.callback);
                latency_us.store(ahead.as_micros() as u64, Ordering::Relaxed);
                for frame in out.chunks_mut(channels.max(1)) {
                    let v = tone.get(at).copied().unwrap_or(0.0);
                    at += 1;
                    frame.fill(T::from_sample(v));
                }
                if at >= tone.len() {
                    done.store(true, Ordering::Relaxed);
                }
            },
            {
                // ALSA's PulseAudio plugin reports the same error on every period: once is enough.
                let mut told = false;
                move |e| {
                    if !std::mem::replace(&mut told, true) {
                        tracing::debug!("sound output: {e}");
                    }
                }
            },
            None,
        )
        .map_err(|e| CueError::Backend(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_are_short_soft_and_start_and_end_in_silence() {
        for cue in [Cue::Start, Cue::Stop, Cue::Cancel] {
            let s = samples(cue, 48_000);
            assert!((7_000..=8_000).contains(&s.len()), "{cue:?}: {} samples", s.len());
            let peak = s.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(peak > 0.15 && peak <= AMPLITUDE, "{cue:?}: peak {peak}");
            assert!(s[0].abs() < 1e-3 && s[s.len() - 1].abs() < 0.01, "{cue:?}: no click at the ends");
        }
        // Start goes up, stop goes down: the first note's zero crossings are fewer for start.
        let crossings = |s: &[f32]| s.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        let (start, stop) = (samples(Cue::Start, 48_000), samples(Cue::Stop, 48_000));
        assert!(crossings(&start[..3_000]) < crossings(&stop[..3_000]));
    }
}
