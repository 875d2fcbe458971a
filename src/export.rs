//! Transcript and note output formats: plain text, SubRip, WebVTT, JSON and Markdown.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::asr::Segment;
use crate::store::Note;

/// A transcript output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, one segment per line.
    Txt,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// `[{"start_ms":…, "end_ms":…, "text":…}]`.
    Json,
}

/// Render segments in `format`; the result ends with a newline unless it is empty text.
pub fn render(segments: &[Segment], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Txt => {
            for s in segments {
                let _ = writeln!(out, "{}", s.text);
            }
        }
        Format::Srt => {
            for (i, s) in segments.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}\n{} --> {}\n{}\n",
                    i + 1,
                    timestamp(s.start_ms, ','),
                    timestamp(s.end_ms, ','),
                    s.text
                );
            }
        }
        Format::Vtt => {
            out.push_str("WEBVTT\n\n");
            for s in segments {
                let _ = writeln!(out, "{} --> {}\n{}\n", timestamp(s.start_ms, '.'), timestamp(s.end_ms, '.'), s.text);
            }
        }
        Format::Json => {
            out = serde_json::to_string(segments).expect("segments serialise");
            out.push('\n');
        }
    }
    out
}

/// How a whole note is exported (the app's Export menu, `sotto export --format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum NoteFormat {
    /// Markdown: title, text, timed segments.
    #[default]
    Md,
    /// The text alone.
    Txt,
    /// SubRip subtitles of the segments (a typed note is one cue).
    Srt,
    /// WebVTT subtitles of the segments (a typed note is one cue).
    Vtt,
    /// The whole note as JSON.
    Json,
}

impl NoteFormat {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            NoteFormat::Md => "md",
            NoteFormat::Txt => "txt",
            NoteFormat::Srt => "srt",
            NoteFormat::Vtt => "vtt",
            NoteFormat::Json => "json",
        }
    }
}

/// A note in `format`, ending with a newline.
pub fn note(note: &Note, format: NoteFormat) -> String {
    let typed;
    let segments = if note.segments.is_empty() {
        typed = [Segment { start_ms: 0, end_ms: 0, text: note.body.trim().to_string() }];
        &typed[..]
    } else {
        &note.segments[..]
    };
    match format {
        NoteFormat::Md => markdown(note),
        NoteFormat::Txt => format!("{}\n", note.body.trim_end()),
        NoteFormat::Srt => render(segments, Format::Srt),
        NoteFormat::Vtt => render(segments, Format::Vtt),
        // A note always serialises (strings and integers only).
        NoteFormat::Json => format!("{}\n", serde_json::to_string_pretty(note).unwrap_or_default()),
    }
}

/// A note as Markdown: its title as a heading, its text, then its timed segments, if any.
pub fn markdown(note: &Note) -> String {
    let mut out = format!("# {}\n\n{}\n", note.title, note.body.trim_end());
    if !note.segments.is_empty() {
        out.push_str("\n## Segments\n\n");
        for s in &note.segments {
            let _ = writeln!(
                out,
                "- [{:02}:{:02}.{:03}] {}",
                s.start_ms / 60_000,
                s.start_ms / 1000 % 60,
                s.start_ms % 1000,
                s.text
            );
        }
    }
    out
}

/// `HH:MM:SS,mmm` (SubRip) or `HH:MM:SS.mmm` (WebVTT).
fn timestamp(ms: u64, separator: char) -> String {
    format!("{:02}:{:02}:{:02}{separator}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs() -> Vec<Segment> {
        vec![
            Segment { start_ms: 0, end_ms: 1500, text: "Hello there.".into() },
            Segment { start_ms: 3_723_004, end_ms: 3_725_000, text: "Later.".into() },
        ]
    }

    #[test]
    fn subtitles() {
        assert_eq!(
            render(&segs(), Format::Srt),
            "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n01:02:03,004 --> 01:02:05,000\nLater.\n\n"
        );
        assert!(render(&segs(), Format::Vtt).starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n"));
    }

    #[test]
    fn json_and_text() {
        assert_eq!(
            render(&segs()[..1], Format::Json),
            "[{\"start_ms\":0,\"end_ms\":1500,\"text\":\"Hello there.\"}]\n"
        );
        assert_eq!(render(&segs(), Format::Txt), "Hello there.\nLater.\n");
        assert_eq!(render(&[], Format::Json), "[]\n");
    }

    #[test]
    fn markdown_lists_segments_with_times() {
        let note = Note {
            id: 1,
            created_at: 0,
            updated_at: 0,
            title: "Hello there.".into(),
            body: "Hello there. Later.\n".into(),
            source: crate::store::Source::Audio,
            segments: segs(),
            tags: Vec::new(),
        };
        assert_eq!(
            markdown(&note),
            "# Hello there.\n\nHello there. Later.\n\n## Segments\n\n- [00:00.000] Hello there.\n- [62:03.004] Later.\n"
        );
        let typed = Note { segments: Vec::new(), ..note };
        assert_eq!(markdown(&typed), "# Hello there.\n\nHello there. Later.\n");
    }

    #[test]
    fn a_typed_note_exports_as_one_cue_and_every_format_ends_with_a_newline() {
        let typed = Note {
            id: 2,
            created_at: 0,
            updated_at: 0,
            title: "Milk".into(),
            body: "Buy milk.\n".into(),
            source: crate::store::Source::Text,
            segments: Vec::new(),
            tags: Vec::new(),
        };
        assert_eq!(note(&typed, NoteFormat::Srt), "1\n00:00:00,000 --> 00:00:00,000\nBuy milk.\n\n");
        assert_eq!(note(&typed, NoteFormat::Txt), "Buy milk.\n");
        let json: serde_json::Value = serde_json::from_str(&note(&typed, NoteFormat::Json)).unwrap();
        assert_eq!(json["body"], "Buy milk.\n");
        for f in [NoteFormat::Md, NoteFormat::Txt, NoteFormat::Srt, NoteFormat::Vtt, NoteFormat::Json] {
            assert!(note(&typed, f).ends_with('\n'), "{f:?}");
        }
    }
}
