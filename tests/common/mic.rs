//! A real microphone path without a sound card: a private PulseAudio with a null sink `vsink`
//! whose monitor is remapped to a source `vmic`, the default source. ALSA's `default` device goes
//! through Pulse (Debian's libasound2-plugins), so cpal records whatever `paplay` plays into
//! `vsink`: real speech reaches Sotto the way a microphone's would. What the app itself plays (its
//! cues) goes to a second null sink, `speakers`, the default one: never into the microphone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// A private PulseAudio daemon with the virtual microphone, in its own runtime dir.
pub struct Daemon {
    runtime: PathBuf,
}

impl Daemon {
    /// Start one in `runtime` (a daemon left there by an earlier run is ended first).
    pub fn start(runtime: &Path) -> Daemon {
        let _ = std::fs::create_dir_all(runtime);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(runtime, std::fs::Permissions::from_mode(0o700));
        }
        let daemon = Daemon { runtime: runtime.to_path_buf() };
        daemon.kill();
        let status = Command::new("pulseaudio")
            .env("XDG_RUNTIME_DIR", runtime)
            .env_remove("PULSE_SERVER")
            .args([
                "-D",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=vsink rate=16000 channels=1",
                "--load=module-remap-source master=vsink.monitor source_name=vmic",
                "--load=module-null-sink sink_name=speakers rate=16000 channels=1",
            ])
            .stderr(Stdio::null())
            .status()
            .expect("pulseaudio is installed (models/fetch-fixtures installs it)");
        assert!(status.success(), "pulseaudio did not start: {status}");
        let ok = Command::new("pactl")
            .env("PULSE_SERVER", daemon.server())
            .args(["set-default-source", "vmic"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pactl set-default-source vmic failed");
        let ok = Command::new("pactl")
            .env("PULSE_SERVER", daemon.server())
            .args(["set-default-sink", "speakers"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pactl set-default-sink speakers failed");
        daemon
    }

    /// `PULSE_SERVER` for its clients.
    pub fn server(&self) -> String {
        format!("unix:{}", self.runtime.join("pulse/native").display())
    }

    /// End the daemon: to its clients, the microphone vanishes.
    pub fn kill(&self) {
        let _ = Command::new("pulseaudio")
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env_remove("PULSE_SERVER")
            .arg("--kill")
            .stderr(Stdio::null())
            .status();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// The running virtual microphone of this test binary.
pub struct VirtualMic {
    daemon: Daemon,
    /// One speaker at a time: two tests playing at once would mix their speech.
    speaker: Mutex<()>,
}

/// Start the daemon (once per test binary) and point this process's PulseAudio clients at it.
pub fn virtual_mic() -> &'static VirtualMic {
    static MIC: OnceLock<VirtualMic> = OnceLock::new();
    MIC.get_or_init(|| {
        let mic = VirtualMic {
            daemon: Daemon::start(&std::env::temp_dir().join("sotto-test-pulse")),
            speaker: Mutex::new(()),
        };
        // SAFETY: set once, before any test of this binary opens an audio client (they all get
        // here first through this OnceLock), so no other thread reads the environment meanwhile.
        unsafe { std::env::set_var("PULSE_SERVER", mic.server()) };
        mic
    })
}

impl VirtualMic {
    /// `PULSE_SERVER` for child processes.
    pub fn server(&self) -> String {
        self.daemon.server()
    }

    /// Hold the speaker: no other test plays until the guard is dropped.
    pub fn speaker(&self) -> MutexGuard<'_, ()> {
        self.speaker.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Play a WAV file into the microphone, in real time; returns when it has been played.
    pub fn play(&self, wav: &Path) {
        let status = Command::new("paplay")
            .env("PULSE_SERVER", self.server())
            .arg("--device=vsink")
            .arg(wav)
            .status()
            .expect("paplay is installed");
        assert!(status.success(), "paplay {} failed", wav.display());
    }
}

/// Write 16 kHz mono samples as a 16-bit WAV.
pub fn write_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).expect("write wav");
    }
    w.finalize().expect("finish wav");
}
