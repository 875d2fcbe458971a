//! Speech-only transcription of a whole recording: voice-activity detection drops the silence,
//! the utterances are packed back to back into windows of at most ~28 s, and each window is
//! transcribed with an encoder window fitted to it. Times map back to the original recording.

use super::transcriber::PassMode;
use super::{AsrError, Job, Segment, TranscribeOptions, Transcriber};
use std::collections::VecDeque;

use crate::audio::vad::{self, Utterance};
use crate::audio::{SAMPLE_RATE, ms_to_samples};

/// Longest packed window: under whisper's 30 s so no utterance is cut at the window's edge.
const WINDOW_MS: u64 = 28_000;
/// Silence kept between packed utterances, so whisper still hears a sentence break.
const GAP_MS: u64 = 300;
/// How far a segment's end may run into the next piece and still count as late.
const SPILL_MS: u64 = 1_000;

/// A packed window and where each of its pieces came from.
struct Window {
    samples: Vec<f32>,
    /// (start in window, start in recording, length), in samples.
    pieces: Vec<(usize, u64, usize)>,
}

impl Window {
    /// Index of the piece holding window sample `at` (a gap belongs to the piece before it).
    fn piece_at(&self, at: usize) -> usize {
        self.pieces.iter().rposition(|(start, _, _)| *start <= at).unwrap_or(0)
    }

    /// Recording time (ms) of a window time (ms); a time in a gap clamps to the end of the piece before it.
    fn to_recording(&self, ms: u64) -> u64 {
        let at = ms_to_samples(ms);
        let (start, origin, len) = self.pieces[self.piece_at(at)];
        let offset = at.saturating_sub(start).min(len);
        (origin + offset as u64) * 1000 / SAMPLE_RATE as u64
    }

    /// A segment's span in the recording. whisper's end times run a little late; one that
    /// barely reaches into the next piece is taken back to the end of its own.
    fn span(&self, start_ms: u64, end_ms: u64) -> (u64, u64) {
        let (a, b) = (ms_to_samples(start_ms), ms_to_samples(end_ms.max(start_ms)));
        let (first, last) = (self.piece_at(a), self.piece_at(b));
        let start = self.to_recording(start_ms);
        let end = if last > first && b - self.pieces[last].0 < ms_to_samples(SPILL_MS) {
            let (s, _, len) = self.pieces[first];
            self.to_recording((s + len) as u64 * 1000 / SAMPLE_RATE as u64)
        } else {
            self.to_recording(end_ms.max(start_ms))
        };
        (start, end.max(start))
    }
}

impl Window {
    /// The audio from window time `ms` on, as utterances of the recording, in order.
    fn rest_from(&self, ms: u64) -> Vec<Utterance> {
        let at = ms_to_samples(ms);
        let mut rest = Vec::new();
        for &(start, origin, len) in &self.pieces {
            let skip = at.saturating_sub(start).min(len);
            if skip < len {
                let samples = self.samples[start + skip..start + len].to_vec();
                rest.push(Utterance { start_sample: origin + skip as u64, samples });
            }
        }
        rest
    }
}

/// Take utterances from the front of `queue` into one window of at most `WINDOW_MS`; an
/// utterance longer than that gets a window of its own (whisper.cpp then windows it itself).
fn pack_next(queue: &mut VecDeque<Utterance>) -> Window {
    let limit = ms_to_samples(WINDOW_MS);
    let gap = ms_to_samples(GAP_MS);
    let mut w = Window { samples: Vec::new(), pieces: Vec::new() };
    while let Some(u) = queue.front() {
        if !w.samples.is_empty() && w.samples.len() + gap + u.samples.len() > limit {
            break;
        }
        let u = queue.pop_front().expect("front exists");
        if !w.samples.is_empty() {
            w.samples.extend(std::iter::repeat_n(0.0, gap));
        }
        w.pieces.push((w.samples.len(), u.start_sample, u.samples.len()));
        w.samples.extend_from_slice(&u.samples);
    }
    w
}

impl Transcriber {
    /// Transcribe only the speech in `audio` (see the module docs); much faster on recordings
    /// with pauses, and silence can never turn into hallucinated text.
    pub fn transcribe_speech(
        &self,
        audio: &[f32],
        options: &TranscribeOptions,
        job: &Job,
    ) -> Result<Vec<Segment>, AsrError> {
        let language = self.language(options)?;
        let mut queue: VecDeque<Utterance> = vad::utterances(audio, &options.vad).into();
        let total: usize = queue.iter().map(|u| u.samples.len()).sum();
        let mut state = self.take_state()?;
        let mut segments = Vec::new();
        let mut context = String::new();
        let mut result = Ok(());
        while !queue.is_empty() {
            let window = pack_next(&mut queue);
            // Carry the previous window's last words, as whisper does inside one 30 s window.
            let mut opts = options.with_context(&context);
            opts.fit_window = true;
            let pass = match self.run_pass(&mut state, &window.samples, &opts, language, job, PassMode::WINDOW) {
                Ok(p) => p,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            tracing::debug!(
                window_ms = crate::audio::samples_to_ms(window.samples.len()),
                pieces = window.pieces.len(),
                stopped_at_ms = ?pass.stopped_at_ms,
                "speech window transcribed"
            );
            for p in pass.segments {
                let (start_ms, end_ms) = window.span(p.start_ms, p.end_ms);
                segments.push(Segment { start_ms, end_ms, text: p.text });
            }
            // Whisper stopped short of the window's end: the rest opens the next window, which
            // costs far less than whisper's own second pass over a window sized for all of it.
            if let Some(ms) = pass.stopped_at_ms {
                for u in window.rest_from(ms).into_iter().rev() {
                    queue.push_front(u);
                }
            }
            context = segments.iter().rev().take(3).rev().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
            if let Some(progress) = &job.on_progress {
                let left: usize = queue.iter().map(|u| u.samples.len()).sum();
                progress(((total - left.min(total)) * 100 / total.max(1)) as u8);
            }
        }
        self.give_back(state);
        result.map(|()| segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::samples_to_ms;

    fn utt(start_ms: u64, len_ms: u64) -> Utterance {
        Utterance { start_sample: ms_to_samples(start_ms) as u64, samples: vec![0.1; ms_to_samples(len_ms)] }
    }

    #[test]
    fn packs_utterances_into_windows_and_maps_times_back() {
        let mut queue: VecDeque<_> =
            vec![utt(1_000, 5_000), utt(10_000, 4_000), utt(20_000, 20_000), utt(45_000, 2_000)].into();
        let windows = [pack_next(&mut queue), pack_next(&mut queue)];
        assert!(queue.is_empty());
        assert_eq!(windows[0].pieces.len(), 2, "the 20 s utterance does not fit after 9.3 s");
        let w = &windows[0];
        assert_eq!(w.samples.len(), ms_to_samples(5_000 + GAP_MS + 4_000));
        assert_eq!(w.to_recording(0), 1_000);
        assert_eq!(w.to_recording(4_000), 5_000);
        // Inside the second piece: 5.3 s into the window is its start.
        assert_eq!(w.to_recording(5_300 + 1_000), 11_000);
        assert_eq!(samples_to_ms(windows[1].samples.len()), 20_000 + GAP_MS + 2_000);
        assert_eq!(windows[1].to_recording(20_300 + 500), 45_500);
        // An end that spills 200 ms into the next piece belongs to the first piece.
        assert_eq!(w.span(1_000, 5_300 + 200), (2_000, 6_000));
        // One that runs well into it spans both.
        assert_eq!(w.span(1_000, 5_300 + 2_000), (2_000, 12_000));
    }

    #[test]
    fn the_rest_of_a_window_keeps_its_recording_times() {
        let mut queue: VecDeque<_> = vec![utt(1_000, 5_000), utt(10_000, 4_000)].into();
        let w = pack_next(&mut queue);
        // Stopped inside the first piece: its tail and the whole second piece remain.
        let rest = w.rest_from(3_000);
        assert_eq!(rest.len(), 2);
        assert_eq!(
            (samples_to_ms(rest[0].start_sample as usize), samples_to_ms(rest[0].samples.len())),
            (4_000, 2_000)
        );
        assert_eq!(
            (samples_to_ms(rest[1].start_sample as usize), samples_to_ms(rest[1].samples.len())),
            (10_000, 4_000)
        );
        // Stopped in the gap: only the second piece.
        let rest = w.rest_from(5_100);
        assert_eq!(rest.len(), 1);
        assert_eq!(samples_to_ms(rest[0].start_sample as usize), 10_000);
        // Stopped at the very end: nothing left.
        assert!(w.rest_from(9_300).is_empty());
    }
}
