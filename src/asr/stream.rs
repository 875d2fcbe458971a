use std::sync::Arc;
use std::time::Instant;

use whisper_rs::WhisperState;

use super::transcriber::PassMode;
use super::{AsrError, CancelToken, Job, Segment, TranscribeOptions, Transcriber};
use crate::audio::vad::{Segmenter, Utterance};
use crate::audio::{ms_to_samples, samples_to_ms};
use crate::text::wer;

/// Characters of previous text carried as context (about two sentences).
const CONTEXT_CHARS: usize = 200;
/// An utterance that starts within this time (ms) of the end of the one before is heard after
/// that one's end, whose words are then taken off again: alone, an utterance starts cold and
/// its first words suffer ("ask not" came out "As not", JFK's next "what your country can do
/// for you" "my country can do for you", LibriVox's "Unless to be" in room noise "on less to
/// be"; in that room the five clips went from 11.3 to 8.5% WER).
const LEND_GAP_MS: u64 = 3_000;
/// At most this much of the previous utterance is lent (its end). More made whisper repeat the
/// lent sentence (5 s: 19.7% WER on the room clips), which the stripping cannot always undo.
const LEND_MS: u64 = 3_000;
/// Partials may take at most this share of real time: a partial that cost `c` is followed by the
/// next only after `c * PARTIAL_BUDGET` of new audio, so a long utterance (whose partials cost
/// more as it grows) never makes the worker fall behind the microphone.
const PARTIAL_BUDGET: u32 = 3;
/// Silence after speech (ms) that brings a partial at once, off the budget: speech may have
/// ended, and that partial then usually is the final (push-to-talk: the key is released a little
/// after the last word; hands-free: the pause closes the utterance later).
const SPEECH_END_MS: u64 = 200;

/// Streaming behaviour on top of [`TranscribeOptions`].
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Re-transcribe the utterance in progress after this much new speech (ms) for live text;
    /// `None` gives final segments only (the cheapest, e.g. for files).
    pub partial_every_ms: Option<u64>,
    /// Size whisper's encoder window to each utterance (≥ 7.7 s) instead of 30 s: utterances
    /// are short, so this is most of the speed of the streaming path.
    pub fit_window: bool,
    /// Threads for finals and for the partial made at a pause (usually the final's text); `None`:
    /// the [`TranscribeOptions`]' threads, as other partials. By default every core: these come
    /// at a pause or after the key's release, when the speaker waits and the audio thread has
    /// next to nothing to do (partials of speech still going on keep to the options' threads).
    pub final_threads: Option<usize>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self { partial_every_ms: Some(1000), fit_window: true, final_threads: Some(super::transcriber::cores()) }
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

/// Incremental transcription: feed 16 kHz mono chunks, receive partial and final segments.
///
/// Owned (`Send + 'static`): it holds the model through an `Arc`, so it can live in an app's
/// state or on a worker thread. Voice-activity segmentation decides what reaches whisper.cpp:
/// each pause closes an utterance, which is final as soon as it is transcribed; silence is never
/// transcribed. An utterance is heard together with the end of the one before it (whose words
/// are then taken off again), which keeps its first words accurate without waiting for what
/// follows.
pub struct Stream {
    transcriber: Arc<Transcriber>,
    options: TranscribeOptions,
    stream: StreamOptions,
    language: &'static str,
    job: Job,
    /// Borrowed from the transcriber's pool; returned on drop.
    state: Option<WhisperState>,
    segmenter: Segmenter,
    /// The last partial of the open utterance: where it started, how many samples it covered,
    /// and its text (the final reuses it when nothing was said after it).
    partial: Option<(u64, usize, Segment)>,
    /// Samples of the open utterance to wait for before the next partial.
    partial_due: usize,
    /// Recent final text, given to whisper as context for the next utterance.
    context: String,
    /// The last final utterance with its words and the context before it, lent to the next one.
    previous: Option<Previous>,
    /// Cancelled by [`Hurry::now`]: a partial of speech still going on is given up and no more
    /// are made (a child of the job's token, so cancelling the job stops partials too).
    hurry: CancelToken,
}

/// Tells a [`Stream`] that its final is wanted now (the push-to-talk key was released): from
/// another thread, while the stream's owner may be inside a partial.
#[derive(Debug, Clone)]
pub struct Hurry(CancelToken);

impl Hurry {
    /// Give up the partial in progress, unless it started after the speech ended (then it
    /// covers all of it and becomes the final at no further cost), and make no more partials.
    pub fn now(&self) {
        self.0.cancel();
    }
}

struct Previous {
    utterance: Utterance,
    text: String,
    context: String,
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            self.transcriber.give_back(state);
        }
    }
}

impl Stream {
    /// Start a stream over `transcriber`; `job` cancels it and counts its work.
    pub fn new(
        transcriber: Arc<Transcriber>,
        options: TranscribeOptions,
        stream: StreamOptions,
        job: Job,
    ) -> Result<Self, AsrError> {
        let language = transcriber.language(&options)?;
        let state = transcriber.take_state()?;
        let hurry = job.cancel.child();
        Ok(Stream {
            hurry,
            segmenter: Segmenter::new(options.vad.clone()),
            transcriber,
            state: Some(state),
            options,
            stream,
            language,
            job,
            partial: None,
            partial_due: 0,
            context: String::new(),
            previous: None,
        })
    }

    /// Feed 16 kHz mono samples (any chunk size); what became known is appended to `events`.
    ///
    /// On an error, the events produced before it are in `events` all the same, and the stream
    /// goes on with the next utterance when fed again (only cancellation ends it).
    pub fn push(&mut self, samples: &[f32], events: &mut Vec<StreamEvent>) -> Result<(), AsrError> {
        if self.job.cancel.is_cancelled() {
            return Err(AsrError::Cancelled);
        }
        let mut first_error = None;
        for utterance in self.segmenter.push(samples) {
            if let Err(e) = self.finalize(utterance, events) {
                if matches!(e, AsrError::Cancelled) {
                    return Err(e);
                }
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        self.maybe_partial(events)
    }

    /// End of audio: close and transcribe the last utterance.
    pub fn finish(&mut self, events: &mut Vec<StreamEvent>) -> Result<(), AsrError> {
        match self.segmenter.finish() {
            Some(utterance) => self.finalize(utterance, events),
            None => Ok(()),
        }
    }

    /// A handle that asks for the final at once (see [`Hurry`]).
    pub fn hurry(&self) -> Hurry {
        Hurry(self.hurry.clone())
    }

    /// Whether speech is going on right now (an utterance is open).
    pub fn in_speech(&self) -> bool {
        self.segmenter.in_speech()
    }

    /// Live text for the open utterance, when enough new speech has come since the last one.
    fn maybe_partial(&mut self, events: &mut Vec<StreamEvent>) -> Result<(), AsrError> {
        let Some(every) = self.stream.partial_every_ms else { return Ok(()) };
        if self.hurry.is_cancelled() {
            return Ok(());
        }
        let Some((start, audio)) = self.segmenter.current() else { return Ok(()) };
        if self.partial.as_ref().is_some_and(|(s, _, _)| *s != start) {
            // A new utterance: its first partial comes after `every` of speech.
            self.partial = None;
            self.partial_due = 0;
        }
        let due = self.partial_due.max(ms_to_samples(every));
        let covered = self.partial.as_ref().map_or(0, |(_, n, _)| *n);
        let speech_end = self.segmenter.speech_end().unwrap_or(audio.len()) + ms_to_samples(SPEECH_END_MS);
        let paused = audio.len() >= speech_end && covered < speech_end;
        if audio.len() < covered + due && !paused {
            return Ok(());
        }
        let audio = audio.to_vec();
        let began = Instant::now();
        let context = self.context.clone();
        // A partial of speech still going on is given up when the final is wanted now; one
        // started after the speech ended is the final's text, so it runs to its end.
        let job = if paused { self.job.clone() } else { Job { cancel: self.hurry.clone(), ..self.job.clone() } };
        // That one is likely the final, in a pause: it gets the final's threads.
        let threads =
            if paused { self.stream.final_threads.unwrap_or(self.options.threads) } else { self.options.threads };
        let segment = match self.transcribe_joined(start, &audio, &context, &job, threads) {
            Err(AsrError::Cancelled) if !self.job.cancel.is_cancelled() => return Ok(()),
            other => other?,
        };
        let cost = ms_to_samples(began.elapsed().as_millis() as u64);
        self.partial_due = cost * PARTIAL_BUDGET as usize;
        if let Some(seg) = segment {
            self.partial = Some((start, audio.len(), seg.clone()));
            events.push(StreamEvent::Partial(seg));
        } else {
            self.partial = Some((start, audio.len(), Segment { start_ms: 0, end_ms: 0, text: String::new() }));
        }
        Ok(())
    }

    /// Transcribe a closed utterance into its final segment.
    fn finalize(&mut self, utterance: Utterance, events: &mut Vec<StreamEvent>) -> Result<(), AsrError> {
        tracing::debug!(
            "stream: utterance {}–{} ms closed",
            samples_to_ms(utterance.start_sample as usize),
            samples_to_ms(utterance.end_sample() as usize)
        );
        let partial = self.partial.take();
        self.partial_due = 0;
        let threads = self.stream.final_threads.unwrap_or(self.options.threads);
        let lend = self
            .previous
            .as_ref()
            .filter(|p| utterance.start_sample <= p.utterance.end_sample() + ms_to_samples(LEND_GAP_MS) as u64);
        let segment = match (lend, partial) {
            (Some(previous), _) => {
                let lent = tail(&previous.utterance, ms_to_samples(LEND_MS));
                // The words of the lent part: all of them, or the share of its length at the end.
                let words: Vec<&str> = previous.text.split_whitespace().collect();
                let share = lent.samples.len() as f64 / previous.utterance.samples.len().max(1) as f64;
                let lent_words = words[words.len() - (words.len() as f64 * share).ceil() as usize..].join(" ");
                let previous_context = previous.context.clone();
                match self.transcribe_lent(&lent, &lent_words, &utterance, &previous_context, threads)? {
                    Some(seg) => Some(seg),
                    // Nothing new was heard past the lent words: hear the utterance alone.
                    None => {
                        let context = self.context.clone();
                        let job = self.job.clone();
                        self.transcribe_joined(utterance.start_sample, &utterance.samples, &context, &job, threads)?
                    }
                }
            }
            // Nothing was said after the last partial: it already is the final's text. (The
            // utterance ends `post_roll` after its speech; the partial covered the speech and
            // some silence after it, and nothing past its end: a piece cut off long speech ends
            // before what a partial of the whole may have heard.)
            (None, Some((start, covered, seg)))
                if start == utterance.start_sample
                    && (self.speech_covered(&utterance)..=utterance.samples.len()).contains(&covered) =>
            {
                (!seg.text.is_empty()).then_some(seg)
            }
            _ => {
                let context = self.context.clone();
                let job = self.job.clone();
                self.transcribe_joined(utterance.start_sample, &utterance.samples, &context, &job, threads)?
            }
        };
        if let Some(mut seg) = segment {
            seg.text = without_repeats(&seg.text);
            let context = self.context.clone();
            self.remember(&seg.text);
            self.previous = Some(Previous { utterance, text: seg.text.clone(), context });
            events.push(StreamEvent::Final(seg));
        } else {
            tracing::debug!("stream: the utterance held no words");
        }
        Ok(())
    }

    /// Samples a partial must have covered to stand for `utterance`'s final: its speech and
    /// `SPEECH_END_MS` of the silence after it.
    fn speech_covered(&self, utterance: &Utterance) -> usize {
        let speech = utterance.samples.len().saturating_sub(ms_to_samples(self.options.vad.post_roll_ms as u64));
        (speech + ms_to_samples(SPEECH_END_MS)).min(utterance.samples.len())
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
    fn transcribe_joined(
        &mut self,
        start_sample: u64,
        audio: &[f32],
        context: &str,
        job: &Job,
        threads: usize,
    ) -> Result<Option<Segment>, AsrError> {
        let pieces = self.transcribe_pieces(audio, context, job, threads)?;
        Ok(joined_text(&pieces, samples_to_ms(start_sample as usize)))
    }

    /// whisper's segments for `audio`, times from its start (within its length), on `threads`.
    fn transcribe_pieces(
        &mut self,
        audio: &[f32],
        context: &str,
        job: &Job,
        threads: usize,
    ) -> Result<Vec<Segment>, AsrError> {
        let Some(state) = self.state.as_mut() else { return Err(AsrError::Whisper("no whisper state".into())) };
        let mut pieces: Vec<Segment> = Vec::new();
        let mut from = 0;
        // When whisper stops short of the end it would encode again with the same window;
        // going on from there with a window fitted to what is left costs less.
        loop {
            let heard = pieces.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
            let mut options = self.options.with_context(&format!("{context} {heard}"));
            options.fit_window |= self.stream.fit_window;
            options.threads = threads;
            let pass =
                self.transcriber.run_pass(state, &audio[from..], &options, self.language, job, PassMode::LIVE)?;
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
        let len = samples_to_ms(audio.len());
        for p in &mut pieces {
            p.start_ms = p.start_ms.min(len);
            p.end_ms = p.end_ms.clamp(p.start_ms, len);
        }
        Ok(pieces)
    }

    /// `utterance` heard after `lent` (the end of the previous one, whose words were `lent_words`),
    /// with the lent words taken off: whisper's segments that end in the lent audio go, and a
    /// segment reaching across the boundary loses the words that align with `lent_words`.
    fn transcribe_lent(
        &mut self,
        lent: &Utterance,
        lent_words: &str,
        utterance: &Utterance,
        context: &str,
        threads: usize,
    ) -> Result<Option<Segment>, AsrError> {
        /// Slack for whisper's segment times (ms), which are only roughly where words are.
        const SLACK: u64 = 300;
        let both = joined(lent, utterance);
        let boundary = samples_to_ms((utterance.start_sample - both.start_sample) as usize);
        let job = self.job.clone();
        let pieces = self.transcribe_pieces(&both.samples, context, &job, threads)?;
        let kept: Vec<Segment> = pieces.into_iter().filter(|p| p.end_ms > boundary + SLACK).collect();
        let straddles = kept.first().is_some_and(|p| p.start_ms + SLACK < boundary);
        let Some(mut seg) = joined_text(&kept, samples_to_ms(both.start_sample as usize)) else { return Ok(None) };
        if straddles {
            seg.text = strip_heard(lent_words, &seg.text);
        }
        if seg.text.is_empty() {
            return Ok(None);
        }
        seg.start_ms = utterance.start_ms();
        seg.end_ms = seg.end_ms.clamp(utterance.start_ms(), utterance.end_ms());
        Ok(Some(seg))
    }
}

/// `text` without what whisper said twice: a run of three words or more repeated right after
/// itself, and a trailing fragment that starts the sentence before it over. Tiny models loop on
/// short or noisy audio ("He might even have been made amiable himself." twice on LibriVox in
/// room noise; "And so my fellow Americans. And" when the decoder was stopped mid-loop), and
/// nobody dictates the same words twice in a row.
pub(crate) fn without_repeats(text: &str) -> String {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let norm: Vec<String> = tokens.iter().map(|t| wer::normalize(t).join(" ")).collect();
    let mut keep: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        keep.push(i);
        i += 1;
        // After each kept word: skip what repeats the run ending here, as often as it does.
        'skip: loop {
            let n = keep.len();
            for k in (3..=n.min(tokens.len() - i)).rev() {
                let run = keep[n - k..].iter().map(|&j| &norm[j]);
                if run.clone().eq(&norm[i..i + k]) && run.clone().any(|w| !w.is_empty()) {
                    i += k;
                    continue 'skip;
                }
            }
            break;
        }
    }
    // A trailing fragment (no end punctuation) that is the start of the sentence before it.
    let kept: Vec<&str> = keep.iter().map(|&j| tokens[j]).collect();
    let text = kept.join(" ");
    let sentences: Vec<&str> = text.split_inclusive(['.', '?', '!']).collect();
    if let [.., before, last] = sentences.as_slice()
        && !last.trim_end().ends_with(['.', '?', '!'])
    {
        let (b, l) = (wer::normalize(before), wer::normalize(last));
        if b.len() >= 3 && !l.is_empty() && l.len() < b.len() && b[..l.len()] == l[..] {
            return sentences[..sentences.len() - 1].concat().trim().to_string();
        }
    }
    text
}

/// `pieces` (times from `offset_ms`) as one segment, or `None` when no words were heard.
fn joined_text(pieces: &[Segment], offset_ms: u64) -> Option<Segment> {
    let text = pieces.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
    if text.trim().is_empty() {
        return None;
    }
    let start = pieces.first().map_or(0, |p| p.start_ms);
    let end = pieces.last().map_or(start, |p| p.end_ms).max(start);
    Some(Segment { start_ms: offset_ms + start, end_ms: offset_ms + end, text })
}

/// The last `max` samples of `u`, where they were in the stream.
fn tail(u: &Utterance, max: usize) -> Utterance {
    let skip = u.samples.len().saturating_sub(max);
    Utterance { start_sample: u.start_sample + skip as u64, samples: u.samples[skip..].to_vec() }
}

/// `heard` without the `lent` words it starts with: the transcript of an utterance heard
/// after the end of the one before. The cut is where the words before it are closest (in edit
/// distance) to `lent`, since whisper may hear them a little differently the second time, or
/// drop some; on a tie the earlier cut wins, so no word of the utterance is lost.
fn strip_heard(lent: &str, heard: &str) -> String {
    let lent = wer::normalize(lent);
    let tokens: Vec<&str> = heard.split_whitespace().collect();
    let words: Vec<Vec<String>> = tokens.iter().map(|t| wer::normalize(t)).collect();
    let mut best = (f32::INFINITY, 0);
    for cut in 0..=tokens.len() {
        let before: Vec<String> = words[..cut].iter().flatten().cloned().collect();
        let cost = alignment_cost(&lent, &before);
        if cost < best.0 - 1e-6 {
            best = (cost, cut);
        }
    }
    tokens[best.1..].join(" ")
}

/// Word edit distance where a word heard with a slightly different spelling ("american" for
/// "americans") costs its share of changed letters instead of a whole word.
fn alignment_cost(a: &[String], b: &[String]) -> f32 {
    let mut prev: Vec<f32> = (0..=b.len()).map(|j| j as f32).collect();
    let mut cur = vec![0.0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = (i + 1) as f32;
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + word_cost(x, y)).min(prev[j + 1] + 1.0).min(cur[j] + 1.0);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// 0 for the same word, the share of changed letters for a near spelling (up to a third), else 1.
fn word_cost(a: &str, b: &str) -> f32 {
    if a == b {
        return 0.0;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let share = prev[b.len()] as f32 / a.len().max(b.len()) as f32;
    if share <= 1.0 / 3.0 { share } else { 1.0 }
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

    #[test]
    fn the_lent_words_are_taken_off_again() {
        let prev = "And so my fellow Americans,";
        assert_eq!(strip_heard(prev, "And so my fellow Americans, ask not."), "ask not.");
        // Heard a little differently the second time.
        assert_eq!(strip_heard(prev, "and so my fellow american ask not"), "ask not");
        // Some lent words were not heard again.
        assert_eq!(strip_heard(prev, "fellow Americans, ask not."), "ask not.");
        assert_eq!(strip_heard("fellow Americans", "fellow Americans ask not"), "ask not");
        // Whisper dropped the lent words altogether.
        assert_eq!(strip_heard(prev, "Ask not."), "Ask not.");
        assert_eq!(strip_heard(prev, "And so my fellow Americans."), "");
    }

    #[test]
    fn a_sentence_said_twice_in_a_row_is_kept_once() {
        let twice =
            "Than he was. He might even have been made amiable himself. He might even have been made amiable himself.";
        assert_eq!(without_repeats(twice), "Than he was. He might even have been made amiable himself.");
        // Short repeats and repeats further apart are speech.
        assert_eq!(without_repeats("No. No. Yes, yes."), "No. No. Yes, yes.");
        assert_eq!(without_repeats("Call Ana now. Then go. Call Ana now."), "Call Ana now. Then go. Call Ana now.");
        assert_eq!(without_repeats("ask not"), "ask not");
        // Loops without punctuation, and a loop cut off by the decoder.
        assert_eq!(
            without_repeats("And so my fellow Americans And so my fellow Americans and so my fellow Americans"),
            "And so my fellow Americans"
        );
        assert_eq!(without_repeats("And so my fellow Americans. And"), "And so my fellow Americans.");
        assert_eq!(without_repeats("I said no. I said"), "I said no.");
        // A fragment that goes elsewhere is speech.
        assert_eq!(without_repeats("And so my fellow Americans. Ask"), "And so my fellow Americans. Ask");
        assert_eq!(without_repeats("Go home. Go"), "Go home. Go");
    }

    #[test]
    fn tail_keeps_the_end_in_place() {
        let u = Utterance { start_sample: 10, samples: (0..100).map(|i| i as f32).collect() };
        let t = tail(&u, 30);
        assert_eq!((t.start_sample, t.samples.len(), t.samples[0]), (80, 30, 70.0));
        assert_eq!(tail(&u, 500).samples.len(), 100);
    }
}
