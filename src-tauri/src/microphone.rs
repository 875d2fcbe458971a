//! The microphone kept open between dictations, where the user asks for it (Settings, "Keep the
//! microphone open"): it holds the last `pre_roll_ms` of audio, so a word said as the key goes
//! down is not cut off. Off by default: an open device keeps the system's microphone indicator on.

use std::sync::{Mutex, MutexGuard};

use sotto::audio::capture::{DeviceChoice, OpenMicrophone};
use sotto::dictation::Feeder;
use sotto::store::Settings;

/// The open microphone, where the settings keep one.
#[derive(Default)]
pub struct Microphone {
    open: Mutex<Option<(Wanted, OpenMicrophone)>>,
}

/// What the settings ask of the open microphone.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    device: Option<String>,
    pre_roll_ms: u32,
}

impl Microphone {
    /// Open, reopen or close the microphone as `settings` say (`None`: locked, so closed).
    /// Blocks while a device opens: call it off the main thread.
    pub fn apply(&self, settings: Option<&Settings>) {
        let wanted = settings
            .filter(|s| s.keep_microphone_open)
            .map(|s| Wanted { device: s.microphone.clone(), pre_roll_ms: s.pre_roll_ms });
        let mut open = self.lock();
        if open.as_ref().map(|(w, _)| w) == wanted.as_ref() {
            return;
        }
        // The old device closes before another opens (some cannot be opened twice).
        *open = None;
        if let Some(wanted) = wanted {
            *open = Self::open(wanted);
        }
    }

    /// Whether a microphone is kept open.
    pub fn is_open(&self) -> bool {
        self.lock().is_some()
    }

    /// Hand the open microphone's audio, the pre-roll first, to `feeder` until its session ends.
    /// A microphone whose thread ended (its device lost for good) is opened again once; false
    /// where none is open.
    pub fn feed(&self, feeder: Feeder) -> bool {
        let mut open = self.lock();
        for _ in 0..2 {
            let Some((wanted, mic)) = open.as_ref() else { return false };
            let feeder = feeder.clone();
            if mic.listen(Box::new(move |samples, rate, channels| feeder.feed(samples, rate, channels).is_ok())).is_ok()
            {
                return true;
            }
            let wanted = wanted.clone();
            // As in `apply`: the dead device goes before it is opened again.
            *open = None;
            *open = Self::open(wanted);
        }
        false
    }

    fn open(wanted: Wanted) -> Option<(Wanted, OpenMicrophone)> {
        let choice = wanted.device.clone().map_or(DeviceChoice::Default, DeviceChoice::Named);
        match OpenMicrophone::open(&choice, wanted.pre_roll_ms) {
            Ok(mic) => {
                tracing::info!(
                    "microphone kept open: {} ({} ms kept from before a dictation)",
                    mic.name(),
                    wanted.pre_roll_ms
                );
                Some((wanted, mic))
            }
            Err(e) => {
                tracing::warn!("the microphone cannot be kept open: {e}");
                None
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<(Wanted, OpenMicrophone)>> {
        // A panic while the slot was held left it whole: the value is replaced in one store.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}
