//! Sotto's core: private, on-device speech recognition, voice notes and commands.
//!
//! Everything here runs locally; the desktop/mobile app, the CLI and the native bindings are
//! thin shells over this crate.

#![warn(missing_docs)]

pub mod asr;
pub mod audio;
pub mod cancel;
pub mod dictation;
pub mod export;
pub mod models;
pub mod notes;
pub mod paths;
pub mod recording;
pub mod store;
pub mod text;
pub mod vault;
