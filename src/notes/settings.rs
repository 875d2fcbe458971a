//! The app's settings, read and changed through the library (they live in its encrypted database).

use serde_json::Value;

use super::{Library, NotesError};
use crate::store::Settings;

impl Library {
    /// The saved settings (defaults for anything never set).
    pub fn settings(&self) -> Result<Settings, NotesError> {
        Ok(self.store().settings()?)
    }

    /// Set one setting from JSON, checked against its type and range; returns all settings now.
    pub fn set_setting(&self, key: &str, value: Value) -> Result<Settings, NotesError> {
        Ok(self.store().set_setting(key, value)?)
    }

    /// Save all settings at once (a bad field saves nothing).
    pub fn save_settings(&self, settings: &Settings) -> Result<(), NotesError> {
        Ok(self.store().save_settings(settings)?)
    }
}
