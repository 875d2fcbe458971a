//! `sotto settings …`: the app's settings, kept in the encrypted notes database.

use std::path::Path;

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

/// Read and change settings.
#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Print one setting (strings bare, the rest as JSON), or all as `key = value` lines.
    Get {
        /// The setting [default: all].
        key: Option<String>,
        /// Print JSON (all settings: one object).
        #[arg(long)]
        json: bool,
    },
    /// Set a setting: VALUE is JSON (500, null, "x") or else taken as a string (dark).
    Set {
        /// The setting.
        key: String,
        /// The value.
        value: String,
    },
}

/// Run a `settings` subcommand.
pub fn run(command: SettingsCommand, dir: &Path) -> Result<bool> {
    let lib = super::notes::open(dir, false)?;
    match command {
        SettingsCommand::Get { key: Some(key), json } => match lib.settings()?.get(&key)? {
            Value::String(s) if !json => println!("{s}"),
            value => println!("{value}"),
        },
        SettingsCommand::Get { key: None, json: true } => println!("{}", serde_json::to_string(&lib.settings()?)?),
        SettingsCommand::Get { key: None, json: false } => {
            let settings = lib.settings()?;
            for key in sotto::store::Settings::keys() {
                println!("{key} = {}", settings.get(&key)?);
            }
        }
        SettingsCommand::Set { key, value } => {
            // `set theme dark` must not need shell-quoted JSON quotes.
            let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
            lib.set_setting(&key, value)?;
        }
    }
    Ok(true)
}
