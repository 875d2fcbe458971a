//! `sotto dictate`: listen on the microphone and print live text.
//!
//! With `--json`, one object per line whose `"type"` is `ready` (the microphone's audio flows), `level`,
//! `partial`, `final` (both with `text`, `start_ms`, `end_ms`) or `saved` (with the note `id`).
//! Outside checks rely on this contract: keep it stable. Errors and device changes go to stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use sotto::asr::{TranscribeOptions, Transcriber};
use sotto::audio::capture::{DeviceChoice, input_devices};
use sotto::dictation::{Session, SessionConfig, SessionEvent, StopReason};

/// `sotto dictate` arguments.
#[derive(Args)]
pub struct DictateArgs {
    /// Microphone to listen to, by name (see --list-devices) [default: the system's default input].
    #[arg(long, value_name = "NAME")]
    device: Option<String>,
    /// List the audio input devices and exit.
    #[arg(long)]
    list_devices: bool,
    #[command(flatten)]
    recogniser: super::RecogniserArgs,
    /// One JSON object per line: ready, level, partial, final, saved.
    #[arg(long)]
    json: bool,
    /// Keep the dictation as a note, with its audio (encrypted; journaled as it is recorded, so
    /// a crash loses at most a second: the next run recovers it). Prints the note's id.
    #[arg(long)]
    save: bool,
    /// Stop by itself after this many seconds without speech.
    #[arg(long, value_name = "SECS")]
    until_silence: Option<f64>,
}

/// Run `sotto dictate` until SIGINT, SIGTERM or `--until-silence`.
pub fn run(args: DictateArgs, data_dir: &Path) -> Result<bool> {
    if args.list_devices {
        return list(args.json);
    }
    let model = crate::model_path(args.recogniser.model.clone())?;
    tracing::info!("model: {}", model.display());
    let transcriber = Arc::new(Transcriber::load(&model)?);
    // Unlocked before listening: a passphrase prompt must not run while speech goes unheard.
    let save_to = if args.save {
        let library = super::notes::open(data_dir, true)?;
        super::notes::recover(&library, Some(&transcriber));
        Some(Arc::new(library))
    } else {
        None
    };
    let config = SessionConfig {
        transcribe: TranscribeOptions { vad: super::dirs().live_vad()?, ..args.recogniser.options() },
        stop_after_silence_ms: args.until_silence.map(|s| (s.max(0.0) * 1000.0) as u64),
        save_to,
        ..SessionConfig::default()
    };
    // Registered before the microphone opens: a signal right after `ready` must not kill us.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("cannot handle signals")?;
    }
    let device = args.device.map_or(DeviceChoice::Default, DeviceChoice::Named);
    let (tx, events) = channel();
    let session = Session::listen(
        transcriber,
        config,
        device,
        Box::new(move |event| {
            let _ = tx.send(event);
        }),
    )?;
    let mut out = Printer { json: args.json, live: std::io::stdout().is_terminal() && !args.json, partial: false };
    let mut stopping = false;
    let reason = loop {
        if stop.load(Ordering::Relaxed) && !stopping {
            stopping = true;
            session.stop();
        }
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(SessionEvent::Stopped { reason, .. }) => break reason,
            Err(RecvTimeoutError::Disconnected) => break StopReason::Requested,
            Ok(event) => out.print(&event)?,
            Err(RecvTimeoutError::Timeout) => {}
        }
    };
    out.end()?;
    session.wait();
    // The microphone went away (already reported on stderr): what was heard was printed.
    Ok(reason != StopReason::InputLost)
}

fn list(json: bool) -> Result<bool> {
    let devices = input_devices()?;
    if json {
        println!("{}", serde_json::to_string(&devices)?);
        return Ok(true);
    }
    if devices.is_empty() {
        eprintln!("no audio input devices");
    }
    for d in devices {
        let channels = d.channels.iter().map(u16::to_string).collect::<Vec<_>>().join("/");
        println!(
            "{}{}  {} ({channels} ch, {}-{} Hz)",
            d.name,
            if d.is_default { " [default]" } else { "" },
            d.description,
            d.sample_rates.0,
            d.sample_rates.1
        );
    }
    Ok(true)
}

struct Printer {
    json: bool,
    /// A terminal: partials rewrite the current line.
    live: bool,
    /// A partial is on the current line.
    partial: bool,
}

impl Printer {
    fn print(&mut self, event: &SessionEvent) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        match event {
            SessionEvent::Error { message, .. } => self.note(&format!("sotto: error: {message}"))?,
            SessionEvent::DeviceChanged { device, reason } => {
                self.note(&format!("sotto: {reason}; now listening on {device}"))?
            }
            SessionEvent::Stopped { .. } => {}
            SessionEvent::Saved { id } if !self.json => self.note(&format!("saved as note {id}"))?,
            _ if self.json => {
                writeln!(stdout, "{}", serde_json::to_string(event)?)?;
                stdout.flush()?;
            }
            SessionEvent::Ready { device } => {
                eprintln!("listening on {} (Ctrl-C to stop)", device.as_deref().unwrap_or("the default input"))
            }
            SessionEvent::Partial(seg) if self.live => {
                write!(stdout, "\r\x1b[2K{}", seg.text)?;
                stdout.flush()?;
                self.partial = true;
            }
            SessionEvent::Final(seg) => {
                if self.partial {
                    write!(stdout, "\r\x1b[2K")?;
                    self.partial = false;
                }
                writeln!(stdout, "{}", seg.text)?;
                stdout.flush()?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A line on stderr that does not land in the middle of a partial.
    fn note(&mut self, line: &str) -> Result<()> {
        if self.partial {
            println!();
            self.partial = false;
        }
        eprintln!("{line}");
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        if self.partial {
            // The partial was never followed by a final (cancelled): leave it visible.
            println!();
        }
        Ok(())
    }
}
