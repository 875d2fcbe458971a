//! Text: normalisation and word error rate for judging transcripts.

pub mod wer;
