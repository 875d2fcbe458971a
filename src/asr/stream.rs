use whisper_rs::WhisperState;

use super::{AsrError, Job, Segment, TranscribeOptions, Transcriber};
use crate::audio::vad::{Segmenter, Utterance};
use crate::audio::{ms_to_samples, samples_to_ms};

/// Characters of previous text carried as context (about two sentences).
const CONTEXT_CHARS: usize = 200;
/// Utterances shorter than this (pre- and post-roll included) wait for the next one and are
/// transcribed with it: alone, a word or two is often misheard ("ask not" came out "As not").
const SHORT_MS: usize = 2_000;
/// A held utterance is finalised alone once this much silence has followed it.
const HOLD_MS: usize = 3_000;

/// Streaming behaviour on top of [`TranscribeOptions`].
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Re-transcribe the utterance in progress after this much new speech (ms) for live text;
    /// `None` gives final segments only (the cheapest, e.g. for files).
    pub partial_every_ms: Option<u64>,
    /// Size whisper's encoder window to each utterance (≥ 7.7 s) instead of 30 s: utterances
    /// are short, so this is most of the speed of the streaming path.
    pub fit_window: bool,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self { partial_every_ms: Some(1000), fit_window: true }
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            self.transcriber.give_back(state);
        }
    }
}

/// What a stream reports as audio arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// Live text of the utterance still being spoken; superseded by later partials and the final.
    Partial(Segment),
    /// A closed utterance (a pause or the end of the stream ended it); never changes again.
    Final(Segment),
}

/// Incremental transcription: feed audio chunks, receive partial and final segments.
///
/// Voice-activity segmentation decides what reaches whisper.cpp: each pause closes an
/// utterance, which is transcribed once; silence is never transcribed. An utterance under 2 s
/// waits for the next one (up to 3 s of silence) and is transcribed with it, as one final.
pub struct Stream<'t> {
    transcriber: &'t Transcriber,
    options: TranscribeOptions,
    stream: StreamOptions,
    language: &'static str,
    job: Job,
    /// Borrowed from the transcriber's pool; returned on drop.
    state: Option<WhisperState>,
    segmenter: Segmenter,
    /// Samples in the open utterance when its last partial was made.
    partial_at: usize,
    /// Recent final text, given to whisper as context for the next utterance.
    context: String,
    /// A short utterance waiting to be transcribed with the next one.
    held: Option<Utterance>,
    /// Samples pushed so far.
    pushed: u64,
}

impl Transcriber {
    /// Start a stream; `job` cancels it and sees progress of each utterance.
    pub fn stream(&self, options: TranscribeOptions, stream: StreamOptions, job: Job) -> Result<Stream<'_>, AsrError> {
        let language = self.language(&options)?;
        Ok(Stream {
            transcriber: self,
            segmenter: Segmenter::new(options.vad.clone()),
            state: Some(self.take_state()?),
            options,
            stream,
            language,
            job,
            partial_at: 0,
            context: String::new(),
            held: None,
            pushed: 0,
        })
    }
}

impl Stream<'_> {
    /// Feed 16 kHz mono samples (any chunk size); returns what became known.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<StreamEvent>, AsrError> {
        if self.job.cancel.is_cancelled() {
            return Err(AsrError::Cancelled);
        }
        let mut events = Vec::new();
        self.pushed += samples.len() as u64;
        for utterance in self.segmenter.push(samples) {
            self.partial_at = 0;
            let utterance = self.with_held(utterance, &mut events)?;
            if utterance.samples.len() < ms_to_samples(SHORT_MS as u64) {
                self.held = Some(utterance);
            } else {
                events.extend(self.finalize(&utterance)?);
            }
        }
        if let Some(held) = &self.held
            && !self.segmenter.in_speech()
            && self.pushed >= held.end_sample() + ms_to_samples(HOLD_MS as u64) as u64
        {
            let held = self.held.take().expect("checked");
            events.extend(self.finalize(&held)?);
        }
        if let (Some(every), Some((start, audio))) = (self.stream.partial_every_ms, self.segmenter.current())
            && audio.len() >= self.partial_at + ms_to_samples(every)
        {
            self.partial_at = audio.len();
            let current = Utterance { start_sample: start, samples: audio.to_vec() };
            // The live text includes a held utterance, which is not final yet either.
            let shown = match &self.held {
                Some(held) => joined(held, &current),
                None => current,
            };
            if let Some(seg) = self.transcribe_joined(shown.start_sample, &shown.samples)? {
                events.push(StreamEvent::Partial(seg));
            }
        }
        Ok(events)
    }

    /// End of audio: close and transcribe the last utterance.
    pub fn finish(mut self) -> Result<Vec<StreamEvent>, AsrError> {
        let mut events = Vec::new();
        let last = match self.segmenter.finish() {
            Some(utterance) => Some(self.with_held(utterance, &mut events)?),
            None => self.held.take(),
        };
        if let Some(utterance) = last {
            events.extend(self.finalize(&utterance)?);
        }
        Ok(events)
    }

    /// `utterance` with the held one in front of it (the real silence between them kept, so
    /// times stay true); a held one too far back is finalised alone first, into `events`.
    fn with_held(&mut self, utterance: Utterance, events: &mut Vec<StreamEvent>) -> Result<Utterance, AsrError> {
        let Some(held) = self.held.take() else { return Ok(utterance) };
        if utterance.start_sample > held.end_sample() + ms_to_samples(HOLD_MS as u64) as u64 {
            events.extend(self.finalize(&held)?);
            return Ok(utterance);
        }
        Ok(joined(&held, &utterance))
    }

    fn finalize(&mut self, utterance: &Utterance) -> Result<Vec<StreamEvent>, AsrError> {
        let segment = self.transcribe_joined(utterance.start_sample, &utterance.samples)?;
        if let Some(seg) = &segment {
            self.remember(&seg.text);
        }
        Ok(segment.map(StreamEvent::Final).into_iter().collect())
    }

    /// Keep the last few sentences: whisper conditions on previous text inside a 30 s window,
    /// and utterances cut at pauses would otherwise each start cold.
    fn remember(&mut self, text: &str) {
        self.context.push(' ');
        self.context.push_str(text);
        let excess = self.context.len().saturating_sub(CONTEXT_CHARS);
        if excess > 0 {
            let cut = self.context.char_indices().map(|(i, _)| i).find(|&i| i >= excess).unwrap_or(0);
            self.context.drain(..cut);
        }
    }

    /// One segment for the whole utterance: dictation wants a pause to mean one piece of text.
    fn transcribe_joined(&mut self, start_sample: u64, audio: &[f32]) -> Result<Option<Segment>, AsrError> {
        let state = self.state.as_mut().expect("the state lives until drop");
        let mut pieces: Vec<Segment> = Vec::new();
        let mut from = 0;
        // When whisper stops short of the end it would encode again with the same window;
        // going on from there with a window fitted to what is left costs less.
        loop {
            let heard = pieces.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
            let mut options = self.options.with_context(&format!("{} {heard}", self.context));
            options.fit_window |= self.stream.fit_window;
            let pass = self.transcriber.run_pass(state, &audio[from..], &options, self.language, &self.job, true)?;
            let base = samples_to_ms(from);
            pieces.extend(pass.segments.into_iter().map(|p| Segment {
                start_ms: base + p.start_ms,
                end_ms: base + p.end_ms,
                text: p.text,
            }));
            match pass.stopped_at_ms.map(ms_to_samples) {
                Some(at) if at > 0 && from + at < audio.len() => from += at,
                _ => break,
            }
        }
        let text = pieces.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Ok(None);
        }
        let offset = samples_to_ms(start_sample as usize);
        let len = samples_to_ms(audio.len());
        let start = pieces.first().map_or(0, |p| p.start_ms).min(len);
        let end = pieces.last().map_or(len, |p| p.end_ms).clamp(start, len);
        Ok(Some(Segment { start_ms: offset + start, end_ms: offset + end, text }))
    }
}

/// `a`, the silence between, then `b`: one stretch of the stream, every sample where it was
/// (their pre- and post-roll may overlap; the overlap is taken once).
fn joined(a: &Utterance, b: &Utterance) -> Utterance {
    let gap = b.start_sample.saturating_sub(a.end_sample()) as usize;
    let overlap = a.end_sample().saturating_sub(b.start_sample) as usize;
    let mut samples = Vec::with_capacity(a.samples.len() + gap + b.samples.len());
    samples.extend_from_slice(&a.samples);
    samples.resize(a.samples.len() + gap, 0.0);
    samples.extend_from_slice(&b.samples[overlap.min(b.samples.len())..]);
    Utterance { start_sample: a.start_sample, samples }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_keeps_every_sample_at_its_place() {
        let a = Utterance { start_sample: 100, samples: vec![1.0; 50] };
        let b = Utterance { start_sample: 170, samples: vec![2.0; 30] };
        let j = joined(&a, &b);
        assert_eq!(j.start_sample, 100);
        assert_eq!(j.samples.len(), 100, "a, 20 of silence, b");
        assert!(j.samples[50..70].iter().all(|x| *x == 0.0) && j.samples[70] == 2.0);
        // b's pre-roll reaching back into a's post-roll is taken once.
        let b = Utterance { start_sample: 140, samples: vec![2.0; 30] };
        let j = joined(&a, &b);
        assert_eq!(j.samples.len(), 70);
        assert_eq!((j.samples[49], j.samples[50]), (1.0, 2.0));
    }
}
