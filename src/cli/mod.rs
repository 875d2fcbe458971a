//! Subcommands of the `sotto` binary beyond transcription.

pub mod dictate;
pub mod models;
pub mod notes;
