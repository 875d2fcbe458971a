//! Microphone capture over cpal (ALSA on Linux, CoreAudio, WASAPI, AAudio).
//!
//! The device's callback only converts samples to f32 and pushes them into a lock-free ring
//! buffer: it never blocks and never allocates, so a slow consumer cannot make the device drop
//! audio behind our back (when the ring is full the newest samples are counted as lost instead).
//! Whoever reads the ring (the dictation worker) resamples, measures levels and transcribes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{SampleFormat, SizedSample};
use serde::Serialize;

/// Seconds of audio the ring buffer holds: room for the worker to be busy with a transcription.
const RING_SECONDS: usize = 8;
/// A device that delivers nothing for this long is gone: devices stream silence, never nothing
/// (ALSA's PulseAudio plugin reports no error when the server dies; it just stops).
const STALL: std::time::Duration = std::time::Duration::from_secs(2);
/// How long a new stream may take to deliver its first audio (a busy audio server is slow to
/// start one) before it counts as stalled.
const FIRST_AUDIO: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the microphone could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The system has no input device at all.
    #[error("no microphone found (no audio input device)")]
    NoDevice,
    /// No input device has the requested name.
    #[error("no input device named {name:?} (available: {available})")]
    NotFound {
        /// The name asked for.
        name: String,
        /// Names of the devices there are.
        available: String,
    },
    /// Another program holds the device.
    #[error("the microphone {0:?} is busy (used by another program)")]
    Busy(String),
    /// The OS refused access (privacy settings, audio group).
    #[error("access to the microphone {0:?} was denied")]
    Denied(String),
    /// The device went away while recording.
    #[error("the microphone {0:?} was disconnected")]
    Lost(String),
    /// The device stopped delivering audio without saying why (an audio server that died).
    #[error("the microphone {0:?} stopped delivering audio")]
    Stalled(String),
    /// Anything else the audio system reported.
    #[error("audio input: {0}")]
    Backend(String),
}

/// An audio input device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputDevice {
    /// Its name, as `DeviceChoice::Named` takes it.
    pub name: String,
    /// What the system calls it, for people.
    pub description: String,
    /// Whether it is the system's default input.
    pub is_default: bool,
    /// Channel counts it offers.
    pub channels: Vec<u16>,
    /// Lowest and highest sample rates it offers (Hz).
    pub sample_rates: (u32, u32),
}

/// Which input to open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The system's default input.
    #[default]
    Default,
    /// The device with this name (see [`input_devices`]).
    Named(String),
}

fn backend(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Backend(e.to_string())
}

/// The name a device is chosen by: the backend's id ("default", "pulse", "hw:1,0" on ALSA),
/// which stays the same across runs, unlike the position in the list.
fn device_name(device: &cpal::Device) -> String {
    device.id().map(|id| id.id().to_string()).unwrap_or_else(|_| device.to_string())
}

/// alsa-lib prints its complaints (e.g. about cards a plugin probes for) straight to stderr; on
/// this thread they go to the debug log instead, where `sotto -vv` shows them.
#[cfg(target_os = "linux")]
pub(crate) fn quiet_alsa() -> Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>> {
    alsa::Output::local_error_handler().ok()
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn quiet_alsa() -> Option<()> {
    None
}

#[cfg(target_os = "linux")]
pub(crate) fn log_alsa(messages: Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>>) {
    if let Some(out) = messages {
        let text = out.borrow().to_string();
        if !text.trim().is_empty() {
            tracing::debug!("alsa: {}", text.trim());
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn log_alsa(_: Option<()>) {}

/// The input devices there are, the default first.
pub fn input_devices() -> Result<Vec<InputDevice>, CaptureError> {
    let messages = quiet_alsa();
    let devices = list_devices();
    log_alsa(messages);
    devices
}

fn list_devices() -> Result<Vec<InputDevice>, CaptureError> {
    let host = cpal::default_host();
    let default = host.default_input_device().map(|d| device_name(&d));
    let mut out = Vec::new();
    for device in host.input_devices().map_err(backend)? {
        let name = device_name(&device);
        let Ok(configs) = device.supported_input_configs() else { continue };
        let (mut channels, mut low, mut high) = (Vec::new(), u32::MAX, 0);
        for c in configs {
            if !channels.contains(&c.channels()) {
                channels.push(c.channels());
            }
            low = low.min(c.min_sample_rate());
            high = high.max(c.max_sample_rate());
        }
        if channels.is_empty() {
            continue;
        }
        channels.sort_unstable();
        let is_default = default.as_deref() == Some(name.as_str());
        let description = device.to_string();
        out.push(InputDevice { name, description, is_default, channels, sample_rates: (low, high) });
    }
    out.sort_by_key(|d| !d.is_default);
    Ok(out)
}

/// An open microphone: samples flow into a ring buffer until it is dropped.
pub struct Capture {
    /// Kept alive for as long as the capture runs (dropping it closes the device).
    _stream: cpal::Stream,
    ring: rtrb::Consumer<f32>,
    errors: Receiver<CaptureError>,
    lost: Arc<AtomicU64>,
    /// When the stream started, and when samples last arrived (for [`STALL`]).
    started: std::time::Instant,
    last_data: Option<std::time::Instant>,
    name: String,
    sample_rate: u32,
    channels: u16,
}

impl Capture {
    /// Open `choice` in its default format and start recording.
    pub fn open(choice: &DeviceChoice) -> Result<Self, CaptureError> {
        let messages = quiet_alsa();
        let capture = Self::open_quietly(choice);
        log_alsa(messages);
        capture
    }

    fn open_quietly(choice: &DeviceChoice) -> Result<Self, CaptureError> {
        let host = cpal::default_host();
        let device = match choice {
            DeviceChoice::Default => host.default_input_device().ok_or(CaptureError::NoDevice)?,
            DeviceChoice::Named(name) => {
                let mut devices = host.input_devices().map_err(backend)?;
                match devices.find(|d| device_name(d) == *name) {
                    Some(d) => d,
                    None => {
                        // Names only: probing each device's formats opens it, and some ALSA
                        // plugins (JACK) print to stderr when their server is not running.
                        let available =
                            host.input_devices().map_err(backend)?.map(|d| device_name(&d)).collect::<Vec<_>>();
                        if available.is_empty() {
                            return Err(CaptureError::NoDevice);
                        }
                        return Err(CaptureError::NotFound { name: name.clone(), available: available.join(", ") });
                    }
                }
            }
        };
        let name = device_name(&device);
        let config = device.default_input_config().map_err(|e| open_error(&name, e))?;
        let (sample_rate, channels) = (config.sample_rate(), config.channels());
        let (producer, ring) = rtrb::RingBuffer::new(sample_rate as usize * channels as usize * RING_SECONDS);
        let (tx, errors) = channel();
        let lost = Arc::new(AtomicU64::new(0));
        let stream = match config.sample_format() {
            SampleFormat::F32 => build::<f32>(&device, &config.config(), producer, tx, lost.clone(), &name),
            SampleFormat::I16 => build::<i16>(&device, &config.config(), producer, tx, lost.clone(), &name),
            SampleFormat::I32 => build::<i32>(&device, &config.config(), producer, tx, lost.clone(), &name),
            SampleFormat::U16 => build::<u16>(&device, &config.config(), producer, tx, lost.clone(), &name),
            SampleFormat::U8 => build::<u8>(&device, &config.config(), producer, tx, lost.clone(), &name),
            SampleFormat::F64 => build::<f64>(&device, &config.config(), producer, tx, lost.clone(), &name),
            other => return Err(CaptureError::Backend(format!("{name}: unsupported sample format {other}"))),
        }?;
        stream.play().map_err(|e| open_error(&name, e))?;
        let started = std::time::Instant::now();
        Ok(Self { _stream: stream, ring, errors, lost, started, last_data: None, name, sample_rate, channels })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rate the device delivers (Hz).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Interleaved channels the device delivers.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Move every sample recorded so far (interleaved f32) into `out`; returns how many.
    pub fn read(&mut self, out: &mut Vec<f32>) -> usize {
        let n = self.ring.slots();
        if n == 0 {
            return 0;
        }
        self.last_data = Some(std::time::Instant::now());
        let Ok(chunk) = self.ring.read_chunk(n) else { return 0 };
        let (a, b) = chunk.as_slices();
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        chunk.commit_all();
        n
    }

    /// A fault the device reported since the last call (e.g. it was unplugged), or its silence
    /// for longer than a device ever is silent, if any.
    pub fn fault(&self) -> Option<CaptureError> {
        self.errors.try_iter().next().or_else(|| {
            let stalled = match self.last_data {
                Some(at) => at.elapsed() > STALL,
                None => self.started.elapsed() > FIRST_AUDIO,
            };
            stalled.then(|| CaptureError::Stalled(self.name.clone()))
        })
    }

    /// Let go of a stream that faulted without closing it: closing a device whose audio server
    /// died can block for good (ALSA's PulseAudio plugin: its thread waits on the server's
    /// lock); the process reclaims it when it exits.
    pub fn abandon(self) {
        std::mem::forget(self);
    }

    /// Time since the stream was started.
    pub fn running_for(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// Samples dropped because nobody read the ring in time.
    pub fn lost_samples(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

fn open_error(name: &str, e: cpal::Error) -> CaptureError {
    match e.kind() {
        cpal::ErrorKind::DeviceBusy => CaptureError::Busy(name.into()),
        cpal::ErrorKind::PermissionDenied => CaptureError::Denied(name.into()),
        cpal::ErrorKind::DeviceNotAvailable => CaptureError::Lost(name.into()),
        _ => CaptureError::Backend(format!("{name}: {e}")),
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut producer: rtrb::Producer<f32>,
    faults: Sender<CaptureError>,
    lost: Arc<AtomicU64>,
    name: &str,
) -> Result<cpal::Stream, CaptureError>
where
    T: SizedSample,
    f32: cpal::FromSample<T>,
{
    let label = name.to_string();
    let data = move |samples: &[T], _: &cpal::InputCallbackInfo| {
        // Real-time thread: no locks, no allocation; what does not fit is counted as lost.
        let n = samples.len().min(producer.slots());
        if let Ok(mut chunk) = producer.write_chunk_uninit(n) {
            let (a, b) = chunk.as_mut_slices();
            for (slot, s) in a.iter_mut().chain(b.iter_mut()).zip(samples) {
                slot.write(<f32 as cpal::FromSample<T>>::from_sample_(*s));
            }
            // SAFETY: every one of the n slots was written just above.
            unsafe { chunk.commit_all() };
        }
        if n < samples.len() {
            lost.fetch_add((samples.len() - n) as u64, Ordering::Relaxed);
        }
    };
    let error = move |e: cpal::Error| {
        let fault = match e.kind() {
            cpal::ErrorKind::DeviceNotAvailable => CaptureError::Lost(label.clone()),
            // A reroute of the default device: the stream goes on.
            cpal::ErrorKind::DeviceChanged => return,
            _ => CaptureError::Backend(format!("{label}: {e}")),
        };
        let _ = faults.send(fault);
    };
    device.build_input_stream::<T, _, _>(*config, data, error, None).map_err(|e| open_error(name, e))
}

/// A microphone kept open between dictations, so the first word is never clipped: it keeps the
/// last `pre_roll_ms` of audio while nobody listens, and a listener gets that first. Off by
/// default in the shells, because it keeps the device (and its privacy indicator) on.
pub struct OpenMicrophone {
    control: Sender<Listener>,
    name: String,
    sample_rate: u32,
    channels: u16,
    worker: Option<std::thread::JoinHandle<()>>,
}

/// Receives interleaved audio (samples, rate, channels); returns false to stop listening.
pub type Listener = Box<dyn FnMut(&[f32], u32, u16) -> bool + Send + 'static>;

impl OpenMicrophone {
    /// Open `choice` and start keeping the last `pre_roll_ms` of audio.
    pub fn open(choice: &DeviceChoice, pre_roll_ms: u32) -> Result<Self, CaptureError> {
        let (control, requests) = channel::<Listener>();
        let (opened_tx, opened) = channel();
        let choice = choice.clone();
        // The device is opened and read on one thread (cpal streams are not `Send` everywhere).
        let worker = std::thread::Builder::new()
            .name("sotto-microphone".into())
            .spawn(move || {
                let mut capture = match Capture::open(&choice) {
                    Ok(c) => {
                        let _ = opened_tx.send(Ok((c.name().to_string(), c.sample_rate(), c.channels())));
                        c
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                let keep = capture.sample_rate() as usize * capture.channels() as usize * pre_roll_ms as usize / 1000;
                let (rate, channels) = (capture.sample_rate(), capture.channels());
                let mut pre_roll = std::collections::VecDeque::with_capacity(keep + 4096);
                let mut listener: Option<Listener> = None;
                let mut buf = Vec::new();
                loop {
                    match requests.recv_timeout(std::time::Duration::from_millis(20)) {
                        Ok(mut new) => {
                            // The listener hears the pre-roll first, then live audio.
                            let (a, b) = pre_roll.as_slices();
                            let held = [a, b].concat();
                            pre_roll.clear();
                            listener = new(&held, rate, channels).then_some(new);
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    }
                    buf.clear();
                    capture.read(&mut buf);
                    if let Some(fault) = capture.fault() {
                        tracing::warn!("{fault}");
                        match Capture::open(&DeviceChoice::Default) {
                            Ok(c) if c.sample_rate() == rate && c.channels() == channels => {
                                std::mem::replace(&mut capture, c).abandon()
                            }
                            _ => {
                                capture.abandon();
                                return;
                            }
                        }
                    }
                    match listener.as_mut() {
                        Some(l) => {
                            if !l(&buf, rate, channels) {
                                listener = None;
                            }
                        }
                        None => {
                            pre_roll.extend(buf.iter().copied());
                            let excess = pre_roll.len().saturating_sub(keep);
                            pre_roll.drain(..excess);
                        }
                    }
                }
            })
            .map_err(backend)?;
        match opened.recv() {
            Ok(Ok((name, sample_rate, channels))) => {
                Ok(Self { control, name, sample_rate, channels, worker: Some(worker) })
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CaptureError::Backend("the microphone thread ended".into())),
        }
    }

    /// Hand the audio, pre-roll first, to `listener` until it returns false.
    pub fn listen(&self, listener: Listener) -> Result<(), CaptureError> {
        self.control.send(listener).map_err(|_| CaptureError::Lost(self.name.clone()))
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's rate (Hz) and interleaved channels.
    pub fn format(&self) -> (u32, u16) {
        (self.sample_rate, self.channels)
    }
}

impl Drop for OpenMicrophone {
    fn drop(&mut self) {
        // Closing the control channel ends the thread, which closes the device.
        let (dead, _) = channel();
        self.control = dead;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
