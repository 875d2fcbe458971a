use whisper_rs::WhisperState;

use super::{AsrError, Job, Segment, TranscribeOptions, Transcriber};
use crate::audio::vad::{Segmenter, Utterance};
use crate::audio::{ms_to_samples, samples_to_ms};

/// Characters of previous text carried as context (about two sentences).
const CONTEXT_CHARS: usize = 200;

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
/// utterance, which is transcribed once; silence is never transcribed.
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
        for utterance in self.segmenter.push(samples) {
            self.partial_at = 0;
            events.extend(self.finalize(&utterance)?);
        }
        if let (Some(every), Some((start, audio))) = (self.stream.partial_every_ms, self.segmenter.current())
            && audio.len() >= self.partial_at + ms_to_samples(every)
        {
            let audio = audio.to_vec();
            self.partial_at = audio.len();
            if let Some(seg) = self.transcribe_joined(start, &audio)? {
                events.push(StreamEvent::Partial(seg));
            }
        }
        Ok(events)
    }

    /// End of audio: close and transcribe the last utterance.
    pub fn finish(mut self) -> Result<Vec<StreamEvent>, AsrError> {
        match self.segmenter.finish() {
            Some(utterance) => self.finalize(&utterance),
            None => Ok(Vec::new()),
        }
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
