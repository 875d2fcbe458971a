//! Subcommands of the `sotto` binary beyond transcription.

pub mod models;
pub mod notes;
