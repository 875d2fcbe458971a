//! The app's state, built once in `setup` and shared by every command: where things are, the
//! unlocked library, the speech model, the running dictation and the jobs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sotto::assistant::Assistant;
use sotto::dictation::Session;
use sotto::notes::Library;
use sotto::paths::Dirs;
use sotto::store::Settings;
use sotto::text::Embedder;
use zeroize::Zeroizing;

use crate::anywhere::Anywhere;
use crate::error::{AppError, AppResult};
use crate::imports::Lane;
use crate::jobs::Jobs;
use crate::microphone::Microphone;
use crate::speech::Speech;

/// Where the app keeps things, from its environment (the same variables as the CLI).
pub struct Config {
    /// The notes: `$SOTTO_DATA_DIR`, else the platform data dir.
    pub data_dir: PathBuf,
    /// Models and caches: `$SOTTO_MODELS_DIR` searched first, `$SOTTO_CACHE` as the cache root.
    pub dirs: Dirs,
    /// `$SOTTO_PASSPHRASE`: unlock at once, without the lock view (tests, kiosks).
    pub passphrase: Option<Zeroizing<String>>,
    /// `$SOTTO_IDLE_RELEASE_SECS`: how long models stay loaded unused, over the user's setting
    /// (tests, benchmarks).
    pub idle_release: Option<Duration>,
    /// `$SOTTO_MODEL_MIRROR`: a base URL tried first for every model file (`<base>/<file>`),
    /// before the manifest's own sources (an organisation's mirror, an offline test server).
    pub model_mirror: Option<String>,
}

impl Config {
    /// Read from the process environment.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let mut dirs = Dirs::platform();
        if let Some(d) = var("SOTTO_MODELS_DIR") {
            dirs.models = Some(PathBuf::from(d));
        }
        if let Some(d) = var("SOTTO_CACHE") {
            dirs.cache = PathBuf::from(d);
        }
        dirs.bundled = bundled_models();
        Config {
            data_dir: var("SOTTO_DATA_DIR").map(PathBuf::from).unwrap_or_else(sotto::paths::default_data_dir),
            dirs,
            passphrase: std::env::var("SOTTO_PASSPHRASE").ok().filter(|p| !p.is_empty()).map(Zeroizing::new),
            idle_release: std::env::var("SOTTO_IDLE_RELEASE_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .map(Duration::from_secs),
            model_mirror: std::env::var("SOTTO_MODEL_MIRROR").ok().filter(|m| !m.is_empty()),
        }
    }
}

/// The models an installed package ships (`/usr/bin/sotto-app` → `/usr/share/sotto/models`,
/// see `make deb`), where that directory exists.
fn bundled_models() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("share/sotto/models");
    dir.is_dir().then_some(dir)
}

/// Everything the commands share.
pub struct AppState {
    /// Where things are.
    pub config: Config,
    /// The speech model, loaded on first use.
    pub speech: Speech,
    /// Seconds models stay loaded unused (0: kept): the user's setting once unlocked.
    idle_release_secs: AtomicU64,
    /// Whether closing the window keeps the app running (the user's setting once unlocked).
    keep_running: AtomicBool,
    /// Whether the tray icon is up.
    tray: AtomicBool,
    /// Dictation into other apps: its shortcuts and recent texts.
    pub anywhere: Anywhere,
    /// The microphone kept open between dictations, where the settings ask for it.
    pub microphone: Microphone,
    /// Imports and downloads.
    pub jobs: Jobs,
    /// Held by the import being transcribed: imports run one at a time (whisper already uses
    /// the cores), in the order they were asked for.
    pub import_lane: Lane,
    library: RwLock<Option<Arc<Library>>>,
    /// The running dictation and its number (a session that ends by itself frees only its own slot).
    dictation: Mutex<Option<(u64, Session)>>,
    dictations: AtomicU64,
    /// Files to import once the library is unlocked (`sotto-app FILE…` before the passphrase).
    waiting_imports: Mutex<Vec<PathBuf>>,
    /// The voice-command assistant (with the embedder, where installed) and when it was last used.
    assistant: Mutex<Option<(Arc<Assistant>, Instant)>>,
}

impl AppState {
    /// A locked app.
    pub fn new(config: Config) -> Self {
        let speech = Speech::new(config.dirs.clone());
        let idle = config.idle_release.unwrap_or(Duration::from_secs(Settings::default().idle_release_secs.into()));
        AppState {
            config,
            speech,
            idle_release_secs: AtomicU64::new(idle.as_secs()),
            keep_running: AtomicBool::new(Settings::default().keep_running),
            tray: AtomicBool::new(false),
            anywhere: Anywhere::default(),
            microphone: Microphone::default(),
            jobs: Jobs::default(),
            import_lane: Lane::default(),
            library: RwLock::new(None),
            dictation: Mutex::new(None),
            dictations: AtomicU64::new(0),
            waiting_imports: Mutex::new(Vec::new()),
            assistant: Mutex::new(None),
        }
    }

    /// The unlocked library, or [`AppError::Locked`].
    pub fn library(&self) -> AppResult<Arc<Library>> {
        self.library.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or(AppError::Locked)
    }

    /// Whether the notes are unlocked.
    pub fn is_unlocked(&self) -> bool {
        self.library.read().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Keep `library` as the unlocked one (`None`: lock; a running dictation is cancelled).
    pub fn set_library(&self, library: Option<Arc<Library>>) {
        if library.is_none()
            && let Some(session) = self.take_dictation()
        {
            session.cancel();
        }
        *self.library.write().unwrap_or_else(|e| e.into_inner()) = library;
    }

    /// How long models stay loaded unused; `None`: kept.
    pub fn idle_release(&self) -> Option<Duration> {
        Some(self.idle_release_secs.load(Ordering::Relaxed)).filter(|&s| s > 0).map(Duration::from_secs)
    }

    /// Take up the user's settings that the app itself applies (the idle release, unless
    /// `$SOTTO_IDLE_RELEASE_SECS` overrides it).
    pub fn apply_settings(&self, settings: &Settings) {
        if self.config.idle_release.is_none() {
            self.idle_release_secs.store(settings.idle_release_secs.into(), Ordering::Relaxed);
        }
        self.keep_running.store(settings.keep_running, Ordering::Relaxed);
    }

    /// Whether closing the window hides it to the tray instead of quitting: the user's setting,
    /// where a tray icon is there to bring it back.
    pub fn keep_running(&self) -> bool {
        self.keep_running.load(Ordering::Relaxed) && self.tray.load(Ordering::Relaxed)
    }

    /// Whether the tray icon is up.
    pub fn set_tray(&self, up: bool) {
        self.tray.store(up, Ordering::Relaxed);
    }

    /// A number for the next dictation.
    pub fn next_dictation(&self) -> u64 {
        self.dictations.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Keep the running dictation; [`AppError::Busy`] if one runs already.
    pub fn set_dictation(&self, number: u64, session: Session) -> AppResult<()> {
        let mut slot = self.dictation.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(AppError::Busy);
        }
        *slot = Some((number, session));
        Ok(())
    }

    /// Dictation `number`, taken out of the state if it is still there.
    pub fn take_dictation_numbered(&self, number: u64) -> Option<Session> {
        let mut slot = self.dictation.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|(n, _)| *n == number) { slot.take().map(|(_, s)| s) } else { None }
    }

    /// Whether a dictation is running.
    pub fn dictating(&self) -> bool {
        self.dictation.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// The running dictation, taken out of the state.
    pub fn take_dictation(&self) -> Option<Session> {
        self.dictation.lock().unwrap_or_else(|e| e.into_inner()).take().map(|(_, s)| s)
    }

    /// The assistant, loaded on first use: the rules, and the embedder's nearest examples where
    /// the embedding model is installed.
    pub fn assistant(&self) -> Arc<Assistant> {
        let mut slot = self.assistant.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((a, used)) = slot.as_mut() {
            *used = Instant::now();
            return a.clone();
        }
        let loaded = self.config.dirs.embedder_files().and_then(|f| {
            let embedder = Embedder::load(&f.onnx, &f.tokenizer).and_then(Assistant::with_embedder);
            embedder.map_err(|e| tracing::warn!("voice commands without the embedder: {e}")).ok()
        });
        let assistant = Arc::new(loaded.unwrap_or_else(Assistant::rules_only));
        *slot = Some((assistant.clone(), Instant::now()));
        assistant
    }

    /// Drop the assistant's embedder if it was not used during `idle`.
    pub fn release_idle_assistant(&self, idle: Duration) -> bool {
        let mut slot = self.assistant.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|(_, used)| used.elapsed() >= idle) {
            *slot = None;
            return true;
        }
        false
    }

    /// Files waiting for the unlock.
    pub fn wait_to_import(&self, paths: Vec<PathBuf>) {
        self.waiting_imports.lock().unwrap_or_else(|e| e.into_inner()).extend(paths);
    }

    /// The files that waited for the unlock, taken.
    pub fn take_waiting_imports(&self) -> Vec<PathBuf> {
        std::mem::take(&mut *self.waiting_imports.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
