//! A real microphone path without a sound card: a private PulseAudio with a null sink `vsink`
//! whose monitor is remapped to a source `vmic`, the default source. ALSA's `default` device goes
//! through Pulse (Debian's libasound2-plugins), so cpal records whatever `paplay` plays into
//! `vsink`: real speech reaches Sotto the way a microphone's would.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The running virtual microphone of this test binary.
pub struct VirtualMic {
    runtime: PathBuf,
    /// One speaker at a time: two tests playing at once would mix their speech.
    speaker: Mutex<()>,
}

/// Start the daemon (once per test binary; a daemon left by an earlier run is ended first) and
/// point this process's PulseAudio clients at it. Panics with the reason if it cannot run here.
pub fn virtual_mic() -> &'static VirtualMic {
    static MIC: OnceLock<VirtualMic> = OnceLock::new();
    MIC.get_or_init(|| {
        let runtime = std::env::temp_dir().join("sotto-test-pulse");
        let _ = std::fs::create_dir_all(&runtime);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700));
        }
        let env = |c: &mut Command| {
            c.env("XDG_RUNTIME_DIR", &runtime).env_remove("PULSE_SERVER");
        };
        let mut kill = Command::new("pulseaudio");
        env(&mut kill);
        let _ = kill.arg("--kill").stderr(Stdio::null()).status();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut start = Command::new("pulseaudio");
        env(&mut start);
        let status = start
            .args([
                "-D",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=vsink rate=16000 channels=1",
                "--load=module-remap-source master=vsink.monitor source_name=vmic",
            ])
            .stderr(Stdio::null())
            .status()
            .expect("pulseaudio is installed (models/fetch-fixtures installs it)");
        assert!(status.success(), "pulseaudio did not start: {status}");
        let mic = VirtualMic { runtime, speaker: Mutex::new(()) };
        let ok = mic.pactl(&["set-default-source", "vmic"]);
        assert!(ok, "pactl set-default-source vmic failed");
        // SAFETY: set once, before any test of this binary opens an audio client (they all get
        // here first through this OnceLock), so no other thread reads the environment meanwhile.
        unsafe { std::env::set_var("PULSE_SERVER", mic.server()) };
        mic
    })
}

impl VirtualMic {
    /// `PULSE_SERVER` for child processes.
    pub fn server(&self) -> String {
        format!("unix:{}", self.runtime.join("pulse/native").display())
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl")
            .env("PULSE_SERVER", self.server())
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
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
    let spec = hound::WavSpec { channels: 1, sample_rate: 16_000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).expect("write wav");
    }
    w.finalize().expect("finish wav");
}

/// Room noise at 16 kHz: pink noise at about `level_db` dBFS RMS plus 50 Hz mains hum with its
/// harmonics 10 dB below it. Deterministic.
pub fn room_noise(samples: usize, level_db: f32, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    // Paul Kellet's pink filter over white noise.
    let (mut b0, mut b1, mut b2, mut b3, mut b4, mut b5, mut b6) = (0f32, 0f32, 0f32, 0f32, 0f32, 0f32, 0f32);
    let mut pink: Vec<f32> = (0..samples)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let white = (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0;
            b0 = 0.99886 * b0 + white * 0.0555179;
            b1 = 0.99332 * b1 + white * 0.0750759;
            b2 = 0.96900 * b2 + white * 0.1538520;
            b3 = 0.86650 * b3 + white * 0.3104856;
            b4 = 0.55000 * b4 + white * 0.5329522;
            b5 = -0.7616 * b5 - white * 0.0168980;
            let out = b0 + b1 + b2 + b3 + b4 + b5 + b6 + white * 0.5362;
            b6 = white * 0.115926;
            out
        })
        .collect();
    let rms = (pink.iter().map(|s| s * s).sum::<f32>() / samples.max(1) as f32).sqrt().max(1e-9);
    let target = 10f32.powf(level_db / 20.0);
    let hum = target * 10f32.powf(-10.0 / 20.0);
    for (i, s) in pink.iter_mut().enumerate() {
        let t = i as f32 / 16_000.0;
        let mains: f32 = [(50.0, 1.0), (100.0, 0.5), (150.0, 0.3)]
            .iter()
            .map(|(f, a)| a * (2.0 * std::f32::consts::PI * f * t).sin())
            .sum();
        *s = *s / rms * target + mains * hum / 1.2;
    }
    pink
}
