//! Commands worded in ways the rules miss ("I need to remember to call the plumber at 10"),
//! found by meaning: the utterance's MiniLM embedding against labelled examples. The nearest
//! example's intent is taken only when it is close (the threshold) and closer than any plain
//! dictation example (the margin). Calibrated on `tests/data/commands.tsv`: the dictation line
//! most like a command there ("I'll call Ana at 5 pm", like "I already called Ana, no need to
//! remind me") scored 0.81, so the threshold is 0.85; MiniLM tells commands from dictation
//! poorly, so the rules do nearly all the work and this catches close paraphrases only.

use super::Intent;
use super::words::Word;
use crate::text::{EmbedError, Embedder, cosine};

/// Cosine similarity an example must reach.
pub const THRESHOLD: f32 = 0.85;
/// How much closer than the nearest dictation example it must be.
pub const MARGIN: f32 = 0.1;

/// Labelled examples: commands without a rule's cue, and dictation that sounds like commands.
const EXAMPLES: &[(Intent, &str)] = &[
    (Intent::CreateReminder, "I need to remember to call the plumber tomorrow at 10"),
    (Intent::CreateReminder, "make sure I don't forget to pay the rent on Friday"),
    (Intent::CreateReminder, "tell me to take my pills at 8 pm"),
    (Intent::CreateReminder, "let me know in an hour to check the oven"),
    (Intent::CreateReminder, "wake me up at 7 to go running"),
    (Intent::CreateReminder, "I have to send the invoice tomorrow morning, remind me"),
    (Intent::CreateReminder, "at 6 I should pick up the kids, can you remind me"),
    (Intent::CreateReminder, "put a reminder in for the dentist next Monday at noon"),
    (Intent::CreateNote, "write this in my notes: the wifi password is on the router"),
    (Intent::CreateNote, "save to my notes that the spare key is under the mat"),
    (Intent::CreateNote, "add to my notes the book Ana recommended"),
    (Intent::CreateNote, "put in my notes an idea for the garden"),
    (Intent::CreateNote, "record a note that the car needs new tyres"),
    (Intent::SearchNotes, "anything in my notes about the boiler"),
    (Intent::SearchNotes, "have I written anything about the budget"),
    (Intent::SearchNotes, "where did I put the notes on the conference"),
    (Intent::SearchNotes, "bring up what I noted about the trip"),
    (Intent::SearchNotes, "which of my notes mention Ana"),
    (Intent::ListReminders, "what do I have to remember today"),
    (Intent::ListReminders, "which reminders are coming up"),
    (Intent::ListReminders, "tell me my reminders"),
    (Intent::ListReminders, "what am I supposed to do later"),
    (Intent::CancelReminder, "I already called Ana, no need to remind me"),
    (Intent::CancelReminder, "stop reminding me about the dentist"),
    (Intent::CancelReminder, "take the plumber off my reminders"),
    (Intent::CancelReminder, "get rid of the reminder for the rent"),
    (Intent::None, "I need to call the plumber tomorrow at 10"),
    (Intent::None, "don't forget the meeting is on Friday"),
    (Intent::None, "the pills are on the kitchen table"),
    (Intent::None, "we should remember to book the hotel"),
    (Intent::None, "she reminded me that the rent is due on Friday"),
    (Intent::None, "my notes from the lecture are incomplete"),
    (Intent::None, "I searched everywhere for my keys"),
    (Intent::None, "the reminder came too late yesterday"),
    (Intent::None, "let me know what you think about the draft"),
    (Intent::None, "please send me the report by 5 pm"),
    (Intent::None, "the train leaves at half past six tomorrow"),
    (Intent::None, "I wrote a note to the teacher about the trip"),
    (Intent::None, "can you pick up some milk on the way home"),
    (Intent::None, "what do you want to do this weekend"),
    (Intent::None, "dear Ana, thank you for your letter"),
    (Intent::None, "the meeting was moved to next Monday at noon"),
];

/// The examples with their embeddings.
pub struct Examples {
    embedder: Embedder,
    vectors: Vec<(Intent, Vec<f32>)>,
}

impl Examples {
    /// Embed the examples (once, when the assistant is made).
    pub fn new(embedder: Embedder) -> Result<Self, EmbedError> {
        let texts: Vec<&str> = EXAMPLES.iter().map(|(_, t)| *t).collect();
        let vectors = embedder.embed(&texts)?;
        Ok(Examples { vectors: EXAMPLES.iter().map(|(i, _)| *i).zip(vectors).collect(), embedder })
    }

    /// The embedder (also for matching reminders by meaning).
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The command `text` is, with its similarity, when an example is close enough.
    pub fn nearest(&self, text: &str) -> Option<(Intent, f32)> {
        let v = self.embedder.embed(&[text]).ok()?.pop()?;
        let mut best = (Intent::None, f32::MIN);
        let mut dictation = f32::MIN;
        for (intent, e) in &self.vectors {
            let s = cosine(&v, e);
            if *intent == Intent::None {
                dictation = dictation.max(s);
            } else if s > best.1 {
                best = (*intent, s);
            }
        }
        tracing::debug!("assistant: nearest {} at {:.3}, dictation at {dictation:.3}", best.0, best.1);
        (best.1 >= THRESHOLD && best.1 - dictation >= MARGIN).then_some(best)
    }
}

/// Where the slot of a command found by meaning starts: after the last joining word among the
/// first eight ("I need to remember *to* call…", "anything in my notes *about* the boiler").
pub fn slot_start(w: &[Word]) -> usize {
    const JOIN: &[&str] = &["to", "that", "about", "on", "for", "mention", "notes:"];
    w.iter().take(8).rposition(|x| JOIN.contains(&x.norm.as_str())).map_or(0, |i| i + 1)
}
