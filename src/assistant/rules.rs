//! The rules: what a command sounds like at its start ("remind me", "take a note", "search my
//! notes for", "cancel the reminder about"), and where its slot begins. Only clear cues fire, so
//! ordinary dictation that mentions a time, a note or a search is left alone.

use super::Intent;
use super::words::Word;

/// Words before a command that do not change it: "hey Sotto, please remind me…".
const LEAD: &[&str] = &[
    "hey sotto",
    "ok sotto",
    "okay sotto",
    "sotto",
    "hey",
    "okay",
    "ok",
    "so",
    "please",
    "can you",
    "could you",
    "would you",
    "will you",
    "can you please",
    "could you please",
    "i want you to",
    "i'd like you to",
    "go ahead and",
    "quickly",
];

/// Cues of each intent; in a pattern, "a|an" is either word and "my?" may be left out. The
/// slot is what follows the cue.
const CUES: &[(Intent, &[&str])] = &[
    (
        Intent::CreateReminder,
        &[
            "remind me",
            "remind us",
            "set|create|add|make|schedule a|an? reminder",
            "set up a reminder",
            "new reminder",
            "reminder",
            "don't|dont let me forget",
            "do not let me forget",
            "i|i'd need|want|like a reminder",
            "give|send me a reminder",
            "ping|nudge|alert me",
        ],
    ),
    (
        Intent::CancelReminder,
        &[
            "cancel|delete|remove|clear|drop|scrap|dismiss|forget the|my|that? reminder|reminders",
            "never mind the|my|that? reminder",
            "don't|dont remind me about|to",
            "do not remind me about|to",
            "i don't|dont need the|my|that? reminder",
            "no need for the|my|that? reminder",
        ],
    ),
    (
        Intent::ListReminders,
        &[
            "what are|were my? reminders",
            "what's|whats on my reminder|reminders list?",
            "what is on my reminder|reminders list?",
            "what reminders do i have",
            "what reminders",
            "list|show|read|give me? all? my|the? reminders",
            "do i have any reminders",
            "any reminders",
        ],
    ),
    (
        Intent::SearchNotes,
        &[
            "search|find|check my|the? notes|note for|about|on|with|mentioning?",
            "search|look for|through? my|the? notes|note for|about|on?",
            "look in|through my notes for|about?",
            "look up my|the|any? notes|note about|on|for|from|with|mentioning?",
            "find|show|get me? the|my|any? notes|note about|on|from|with|mentioning?",
            "pull up the|my|any? notes|note about|on|from|with|mentioning?",
            "what did i say|write|note|record|dictate about",
            "what have i said|written|noted about",
            "do i have any? notes|note about|on",
        ],
    ),
    (
        Intent::CreateNote,
        &[
            "take|make|create|add|save|start|write|new a|an? note|memo",
            "note to self",
            "jot|note this? down",
            "write this down",
            "write down that|a",
            "take this down",
            "save this as a note",
        ],
    ),
];

/// Searches said as "search for X in my notes": a verb, then the query, then this tail.
const TAILED: &[&str] = &["search for?", "find", "look for", "look up"];
const TAIL: &[&str] = &["in my notes", "in notes", "among my notes"];

/// Words that join a cue to its slot and are not part of it: "remind me *to* call Ana".
const JOINERS: &[&str] = &["to", "that", "about", "for", "of", "saying", "called", "on"];

/// A rule that fired: the intent and the words its slot starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cue {
    /// What the utterance asks.
    pub intent: Intent,
    /// The first word after the cue and its joiner.
    pub slot: usize,
}

/// The rule `words` match, if any.
pub fn cue(words: &[Word]) -> Option<Cue> {
    let w: Vec<&str> = words.iter().map(|w| w.norm.as_str()).collect();
    let start = skip_lead(&w, 0);
    cue_at(&w, start).or_else(|| {
        // "In ten minutes, remind me to…", "tomorrow at 9 remind me…": the time said first.
        let after = super::when::leading(words, start)?;
        cue_at(&w, skip_lead(&w, after)).filter(|c| c.intent == Intent::CreateReminder)
    })
}

/// The rule `w` matches with its cue at `start`.
fn cue_at(w: &[&str], start: usize) -> Option<Cue> {
    for (intent, patterns) in CUES {
        for pattern in *patterns {
            let Some(end) = matches(pattern, w, start) else { continue };
            if !fits(*intent, w, end) {
                continue;
            }
            let slot = if w.get(end).is_some_and(|x| JOINERS.contains(x)) { end + 1 } else { end };
            return Some(Cue { intent: *intent, slot });
        }
    }
    let tailed = TAIL.iter().any(|t| {
        let t: Vec<&str> = t.split(' ').collect();
        w.len() > start + t.len() && w[w.len() - t.len()..] == t[..]
    });
    if tailed {
        let slot = TAILED.iter().find_map(|p| matches(p, w, start))?;
        return Some(Cue { intent: Intent::SearchNotes, slot });
    }
    None
}

/// Whether what follows the cue suits the intent ("remind me why…" is a question, not a
/// reminder; a list of reminders takes no further words except a day).
fn fits(intent: Intent, w: &[&str], end: usize) -> bool {
    let next = w.get(end).copied();
    match intent {
        Intent::CreateReminder => {
            !matches!(next, Some("why" | "what" | "how" | "who" | "where" | "which" | "whether" | "if" | "when"))
        }
        Intent::ListReminders => w[end..].iter().all(|x| {
            matches!(
                *x,
                "today" | "tomorrow" | "for" | "this" | "week" | "please" | "now" | "pending" | "do" | "i" | "have"
            )
        }),
        Intent::CreateNote | Intent::SearchNotes | Intent::CancelReminder => next.is_some(),
        Intent::None => false,
    }
}

/// Where `w` starts after the lead-in words from `i`.
fn skip_lead(w: &[&str], mut i: usize) -> usize {
    'again: loop {
        for lead in LEAD {
            let words: Vec<&str> = lead.split(' ').collect();
            if w.len() > i + words.len() && w[i..i + words.len()] == words[..] {
                i += words.len();
                continue 'again;
            }
        }
        return i;
    }
}

/// Where `pattern` ends if it matches `w` from `i`.
fn matches(pattern: &str, w: &[&str], i: usize) -> Option<usize> {
    let tokens: Vec<&str> = pattern.split(' ').collect();
    match_from(&tokens, w, i)
}

fn match_from(tokens: &[&str], w: &[&str], i: usize) -> Option<usize> {
    let Some((first, rest)) = tokens.split_first() else { return Some(i) };
    let (alts, optional) = match first.strip_suffix('?') {
        Some(t) => (t, true),
        None => (*first, false),
    };
    if let Some(word) = w.get(i)
        && alts.split('|').any(|a| a == *word)
        && let Some(end) = match_from(rest, w, i + 1)
    {
        return Some(end);
    }
    if optional { match_from(rest, w, i) } else { None }
}

#[cfg(test)]
mod tests {
    use super::super::words::words;
    use super::*;

    fn intent(text: &str) -> Option<Intent> {
        cue(&words(text)).map(|c| c.intent)
    }

    #[test]
    fn cues_fire_at_the_start_only() {
        assert_eq!(intent("Remind me to call Ana at 5"), Some(Intent::CreateReminder));
        assert_eq!(intent("Hey Sotto, please remind me to call Ana"), Some(Intent::CreateReminder));
        assert_eq!(intent("I reminded him to call me at 5"), None);
        assert_eq!(intent("Remind me why we chose this vendor"), None);
        assert_eq!(intent("Take a note: the boiler needs service"), Some(Intent::CreateNote));
        assert_eq!(intent("Search my notes for the boiler"), Some(Intent::SearchNotes));
        assert_eq!(intent("What did I say about the boiler?"), Some(Intent::SearchNotes));
        assert_eq!(intent("What are my reminders?"), Some(Intent::ListReminders));
        assert_eq!(intent("What are my reminders about the budget doing here"), None);
        assert_eq!(intent("Cancel the reminder about Ana"), Some(Intent::CancelReminder));
        assert_eq!(intent("Cancel the meeting at 5"), None);
        assert_eq!(intent("In ten minutes, remind me to check the oven"), Some(Intent::CreateReminder));
        assert_eq!(intent("Tomorrow at 9 remind me to call Ana"), Some(Intent::CreateReminder));
        assert_eq!(intent("At 5 we met and I reminded him to call"), None);
        assert_eq!(intent("Tomorrow take a note of the milk"), None);
        assert_eq!(intent("Look up notes on Kubernetes"), Some(Intent::SearchNotes));
    }

    #[test]
    fn the_slot_starts_after_the_joiner() {
        let w = words("remind me to call Ana");
        assert_eq!(cue(&w).map(|c| w[c.slot].norm.clone()), Some("call".to_string()));
        let w = words("search my notes for boiler");
        assert_eq!(cue(&w).map(|c| w[c.slot].norm.clone()), Some("boiler".to_string()));
    }
}
