//! `sotto reminder …`: reminders from the command line (voice commands make them in the app).

use std::path::Path;

use anyhow::{Result, bail};
use clap::Subcommand;
use sotto::store::{NewReminder, Reminder, ReminderState, now};

/// Manage reminders. WHEN is seconds since the Unix epoch, `now`, or `+N` with a unit: `+90s`,
/// `+10m`, `+2h`, `+1d`.
#[derive(Subcommand)]
pub enum ReminderCommand {
    /// Save a reminder; prints its id.
    Add {
        /// What to be reminded of.
        text: String,
        /// When it is due.
        #[arg(long, value_name = "WHEN", value_parser = parse_when)]
        at: i64,
        /// The note it belongs to.
        #[arg(long, value_name = "ID")]
        note: Option<i64>,
    },
    /// List pending reminders, soonest first.
    List {
        /// Only those due now.
        #[arg(long, conflicts_with = "all")]
        due: bool,
        /// Done and cancelled ones too.
        #[arg(long)]
        all: bool,
        /// Print [{"id", "due_at", "text", "state", "note_id", "created_at"}].
        #[arg(long)]
        json: bool,
    },
    /// List pending reminders due now, most overdue first (`list --due`).
    Due {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark a reminder done.
    Done {
        /// Reminder id.
        id: i64,
    },
    /// Move a reminder to a later time: `snooze 4 10m` (from now), or `--until WHEN`.
    Snooze {
        /// Reminder id.
        id: i64,
        /// How long from now: 90s, 10m, 2h, 1d.
        #[arg(value_name = "DURATION", value_parser = parse_duration, required_unless_present = "until")]
        duration: Option<i64>,
        /// The new due time instead.
        #[arg(long, value_name = "WHEN", value_parser = parse_when, conflicts_with = "duration")]
        until: Option<i64>,
    },
    /// Cancel a reminder.
    Cancel {
        /// Reminder id.
        id: i64,
    },
}

/// Run a `reminder` subcommand.
pub fn run(command: ReminderCommand, dir: &Path) -> Result<bool> {
    let command = match command {
        ReminderCommand::Due { json } => ReminderCommand::List { due: true, all: false, json },
        c => c,
    };
    let lib = super::notes::open(dir, false)?;
    match command {
        ReminderCommand::Add { text, at, note } => {
            println!("{}", lib.add_reminder(&NewReminder { due_at: at, text, note_id: note })?);
        }
        ReminderCommand::Due { .. } => unreachable!("made a list above"),
        ReminderCommand::List { due, all, json } => {
            let list = if due {
                lib.due_reminders(now())?
            } else {
                lib.reminders(if all { None } else { Some(ReminderState::Pending) })?
            };
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                for r in list {
                    print_line(&r);
                }
            }
        }
        ReminderCommand::Done { id } => {
            lib.complete_reminder(id)?;
        }
        ReminderCommand::Snooze { id, duration, until } => {
            lib.snooze_reminder(id, until.or(duration).expect("clap requires one"))?;
        }
        ReminderCommand::Cancel { id } => {
            lib.cancel_reminder(id)?;
        }
    }
    Ok(true)
}

fn print_line(r: &Reminder) {
    let note = r.note_id.map(|n| format!("  (note {n})")).unwrap_or_default();
    println!("{:>6}  {:<9} {:>12}  {}{note}", r.id, r.state, r.due_at, r.text);
}

/// DURATION from now: `10m`, `2h`, `+1d`.
fn parse_duration(s: &str) -> Result<i64> {
    parse_when(&format!("+{}", s.trim().trim_start_matches('+')))
}

/// WHEN: seconds since the epoch, `now`, or `+N` followed by s, m, h or d.
fn parse_when(s: &str) -> Result<i64> {
    let s = s.trim();
    if s == "now" {
        return Ok(now());
    }
    if let Some(rel) = s.strip_prefix('+') {
        let split = rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len());
        let (n, unit) = rel.split_at(split);
        let unit = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => bail!("unknown unit {unit:?} (use s, m, h or d)"),
        };
        let n: i64 = n.parse().map_err(|_| anyhow::anyhow!("{s:?} is not +N with a unit, e.g. +10m"))?;
        return n
            .checked_mul(unit)
            .and_then(|d| now().checked_add(d))
            .ok_or_else(|| anyhow::anyhow!("{s:?} is too far"));
    }
    s.parse().map_err(|_| anyhow::anyhow!("{s:?} is neither seconds since the epoch, now, nor +N[smhd]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_is_absolute_or_relative() {
        assert_eq!(parse_when("1700000000").unwrap(), 1_700_000_000);
        let t = now();
        assert!((parse_when("+10m").unwrap() - (t + 600)).abs() <= 1);
        assert!((parse_when("+2d").unwrap() - (t + 172_800)).abs() <= 1);
        assert!((parse_when("now").unwrap() - t).abs() <= 1);
        for bad in ["tomorrow", "+", "+5y", "+99999999999999999999d", ""] {
            assert!(parse_when(bad).is_err(), "{bad}");
        }
    }
}
