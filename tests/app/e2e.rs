//! The real app, end to end: its release binary driven through tauri-driver and
//! WebKitWebDriver under Xvfb (`make test` runs this file under `xvfb-run`), with a temporary
//! data dir, the fixture speech model and embedder, real speech files and a real microphone
//! path (a private PulseAudio whose virtual source plays real speech). Screenshots of every view
//! go to `$SOTTO_CACHE/artifacts/app/` (kept, not committed).
#![cfg(target_os = "linux")]

#[path = "../common/mic.rs"]
#[allow(dead_code)]
mod mic;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const PASSPHRASE: &str = "correct horse battery staple";

fn cache() -> PathBuf {
    std::env::var_os("SOTTO_CACHE").map(PathBuf::from).unwrap_or_else(|| dirs_home().join(".cache/sotto"))
}

fn dirs_home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

fn fixture(name: &str) -> PathBuf {
    let path = cache().join("fixtures").join(name);
    assert!(path.exists(), "missing fixture {} — run `make fixtures`", path.display());
    path
}

/// The app cargo built for this test run (`make test` runs it in the release profile).
fn app_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sotto-app"))
}

fn tool(name: &str) -> PathBuf {
    let candidates = [dirs_home().join(".cargo/bin").join(name), PathBuf::from("/usr/bin").join(name)];
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("{name} is missing: `make test` installs it (tauri-driver: cargo install; WebKitWebDriver: webkit2gtk-driver)")
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One app at a time: two would compete for the cores and the screen.
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One run of the app under tauri-driver; the driver (and so the app) ends when dropped.
struct App {
    client: Client,
    driver: Child,
    shots: PathBuf,
    /// The app's log (and tauri-driver's): `$SOTTO_CACHE/artifacts/app/<test>.log`.
    log: PathBuf,
}

impl App {
    async fn launch(data: &Path, args: &[&Path], passphrase: Option<&str>, pulse: Option<&str>) -> App {
        Self::launch_with(data, args, passphrase, pulse, &[]).await
    }

    /// [`App::launch`] with more environment variables for the app.
    async fn launch_with(
        data: &Path,
        args: &[&Path],
        passphrase: Option<&str>,
        pulse: Option<&str>,
        env: &[(&str, &str)],
    ) -> App {
        assert!(std::env::var_os("DISPLAY").is_some(), "no X display: run under xvfb-run (make test does)");
        let shots = cache().join("artifacts/app");
        std::fs::create_dir_all(&shots).unwrap();
        // Named for the test: the test's body runs on its own thread, which libtest names.
        let test = std::thread::current().name().unwrap_or("app").rsplit("::").next().unwrap_or("app").to_string();
        let log = shots.join(format!("{test}.log"));
        // A test's first launch starts its log afresh; a restart in the same test adds to it.
        static STARTED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
        let fresh = {
            let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = !started.contains(&log);
            if fresh {
                started.push(log.clone());
            }
            fresh
        };
        let mut log_file =
            std::fs::OpenOptions::new().create(true).write(true).append(!fresh).truncate(fresh).open(&log).unwrap();
        let _ = writeln!(log_file, "--- launch {}", app_binary().display());
        let (port, native_port) = (free_port(), free_port());
        let mut driver = Command::new(tool("tauri-driver"));
        driver
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(tool("WebKitWebDriver"))
            .env("SOTTO_DATA_DIR", data)
            .env("SOTTO_MODELS_DIR", cache().join("models"))
            .env("SOTTO_CACHE", cache())
            .env_remove("SOTTO_PASSPHRASE")
            // What the app did, for a failure's message (times and sizes; never what was said).
            .env("SOTTO_LOG", "warn,sotto=debug,sotto_app=debug")
            .stdout(Stdio::null())
            .stderr(log_file.try_clone().unwrap());
        if let Some(p) = passphrase {
            driver.env("SOTTO_PASSPHRASE", p);
        }
        if let Some(server) = pulse {
            driver.env("PULSE_SERVER", server);
        }
        driver.envs(env.iter().copied());
        // Its own process group: `quit` ends the driver, WebKitWebDriver and the app together.
        std::os::unix::process::CommandExt::process_group(&mut driver, 0);
        let driver = driver.spawn().expect("tauri-driver starts");
        let args: Vec<String> = args.iter().map(|a| a.display().to_string()).collect();
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": app_binary(), "args": args },
        });
        let caps = caps.as_object().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("no WebDriver session with the app: {e}"),
            }
        };
        App { client, driver, shots, log }
    }

    async fn wait(&self, css: &str) -> Element {
        self.wait_for(css, Duration::from_secs(60)).await
    }

    async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        match self.client.wait().at_most(timeout).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                self.shot("failure").await;
                panic!("{css} never appeared: {e}\n{}", self.log_tail());
            }
        }
    }

    /// Wait until `check` holds, re-reading the page every 200 ms.
    async fn until<F, Fut>(&self, what: &str, timeout: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        while !check().await {
            if Instant::now() > deadline {
                self.shot("failure").await;
                panic!("timed out waiting for {what}\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The end of the app's log, for a failure's message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "the app's log ({}), last lines:\n{}",
            self.log.display(),
            lines[lines.len().saturating_sub(60)..].join("\n")
        )
    }

    async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.all(css).await {
            if let Ok(Some(v)) = e.attr(attr).await {
                out.push(v);
            }
        }
        out
    }

    /// A screenshot after the next frame (one taken at once can show the previous frame).
    async fn shot(&self, name: &str) {
        tokio::time::sleep(Duration::from_millis(150)).await;
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
        }
    }

    async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        // tauri-driver leaves its WebKitWebDriver running when killed: end the whole group.
        let _ = Command::new("kill").args(["--", &format!("-{}", self.driver.id())]).status();
        let _ = self.driver.wait();
    }
}

/// Job rows in `state` whose text contains `label`.
async fn jobs_in(app: &App, state: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in app.all(&format!("[data-testid=job-item][data-state={state}]")).await {
        out.push(e.text().await.unwrap_or_default());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_import_search_edit_delete_and_restart() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let jfk = fixture("jfk.wav");
    let austen = fixture("librivox/sense_and_sensibility_01_austen_64kb-0870.wav");
    let not_audio = data.path().join("shopping.txt");
    std::fs::write(&not_audio, "milk, eggs, bread\n").unwrap();
    let notes_dir = data.path().join("notes");

    // First run: the files from the command line wait for the new passphrase.
    let app = App::launch(&notes_dir, &[&jfk, &austen, &not_audio], None, None).await;
    app.wait("[data-testid=unlock-input]").await;
    app.shot("lock-new").await;
    app.type_into("[data-testid=unlock-input]", PASSPHRASE).await;
    app.type_into("[data-testid=unlock-confirm]", PASSPHRASE).await;
    app.click("[data-testid=unlock-submit]").await;
    let key = app.wait("[data-testid=recovery-key]").await.text().await.unwrap();
    let groups: Vec<&str> = key.split('-').map(str::trim).collect();
    assert_eq!(groups.len(), 8, "the recovery key is shown once, in 8 groups: {key:?}");
    app.shot("recovery-key").await;
    app.click("[data-testid=recovery-done]").await;

    // The two speech files become notes; the text file fails in place and the app goes on.
    app.until("the imports to finish", Duration::from_secs(120), || async {
        jobs_in(&app, "done").await.len() == 2 && jobs_in(&app, "failed").await.len() == 1
    })
    .await;
    let failed = jobs_in(&app, "failed").await.join("\n");
    assert!(failed.contains("shopping.txt"), "{failed}");
    app.shot("imports").await;

    app.click("[data-testid=nav-notes]").await;
    app.until("two notes", Duration::from_secs(10), || async { app.all("[data-testid=note-item]").await.len() == 2 })
        .await;
    app.shot("notes").await;
    // Open the JFK note: the list is newest first, so find it by its text.
    let mut jfk_id = None;
    for item in app.all("[data-testid=note-item]").await {
        if item.text().await.unwrap_or_default().to_lowercase().contains("fellow americans") {
            jfk_id = item.attr("data-note-id").await.unwrap();
            item.click().await.unwrap();
        }
    }
    let jfk_id = jfk_id.expect("a note titled with JFK's words");
    let body = app.wait("[data-testid=note-body]").await.prop("value").await.unwrap().unwrap_or_default();
    assert!(body.to_lowercase().contains("ask not what your country can do for you"), "{body}");
    let starts = app.attrs("[data-testid=segment]", "data-start-ms").await;
    assert!(!starts.is_empty() && starts[0] == "0", "timed segments: {starts:?}");
    app.shot("note-detail").await;

    // Play from the last segment: the recording is decrypted by the core and played.
    app.all("[data-testid=segment]").await.last().unwrap().click().await.unwrap();
    app.until("the player to play", Duration::from_secs(10), || async {
        app.attrs("[data-testid=player]", "data-state").await.first().is_some_and(|s| s == "playing")
    })
    .await;

    // Search by meaning: a paraphrase sharing no word with either note finds JFK's first.
    app.click("[data-testid=nav-search]").await;
    app.type_into("[data-testid=search-input]", "duty towards the nation").await;
    app.until("meaning search results", Duration::from_secs(10), || async {
        app.attrs("[data-testid=search-result]", "data-note-id").await.first() == Some(&jfk_id)
    })
    .await;
    app.shot("search").await;

    // Rename it; a keyword search finds the new title.
    app.click(&format!("[data-testid=search-result][data-note-id='{jfk_id}']")).await;
    app.type_into("[data-testid=note-title]", "Inaugural address 1961").await;
    app.click("[data-testid=note-body]").await; // saves on blur
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.click("[data-testid=nav-search]").await;
    app.type_into("[data-testid=search-input]", "inaugural").await;
    app.until("the renamed note first", Duration::from_secs(10), || async {
        let Some(first) = app.all("[data-testid=search-result]").await.into_iter().next() else { return false };
        first.attr("data-note-id").await.ok().flatten().as_ref() == Some(&jfk_id)
            && first.text().await.unwrap_or_default().contains("Inaugural address 1961")
    })
    .await;

    // Delete it, with confirmation.
    app.click("[data-testid=search-result]").await;
    app.click("[data-testid=note-delete]").await;
    app.click("[data-testid=confirm-yes]").await;
    app.until("the note to go", Duration::from_secs(10), || async {
        !app.attrs("[data-testid=note-item]", "data-note-id").await.contains(&jfk_id)
            && !app.all("[data-testid=note-item]").await.is_empty()
    })
    .await;

    // The models view lists the variants, the installed default among them.
    app.click("[data-testid=nav-models]").await;
    app.until("model rows", Duration::from_secs(10), || async {
        app.attrs("[data-testid=model-row]", "data-model-id").await.iter().any(|m| m == "whisper-tiny.en/f16")
    })
    .await;
    app.shot("models").await;
    app.click("[data-testid=nav-settings]").await;
    app.shot("settings").await;
    // Every view at desktop and phone width, light and dark (looked at; none wider than the screen).
    for (width, height) in [(1280, 800), (360, 740)] {
        app.client.set_window_size(width, height).await.unwrap();
        for _theme in 0..2 {
            app.click("[data-testid=theme-toggle]").await;
            let theme =
                app.client.execute("return document.documentElement.dataset.theme ?? ''", vec![]).await.unwrap();
            let theme = theme.as_str().unwrap_or("toggled").to_string();
            for view in ["dictate", "notes", "search", "models", "settings"] {
                app.click(&format!("[data-testid=nav-{view}]")).await;
                app.shot(&format!("{view}-{width}x{height}-{theme}")).await;
                // Phones: nothing wider than the screen (no sideways scrolling on any view).
                let widths = app
                    .client
                    .execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![])
                    .await
                    .unwrap();
                let (content, screen) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
                assert!(content <= screen, "{view} at {width} px: content {content} px wide, screen {screen} px");
            }
        }
    }
    app.quit().await;

    // After a restart (unlocked by $SOTTO_PASSPHRASE) the deleted note is still gone.
    let app = App::launch(&notes_dir, &[], Some(PASSPHRASE), None).await;
    app.wait("[data-testid=note-item]").await;
    let ids = app.attrs("[data-testid=note-item]", "data-note-id").await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(!ids.contains(&jfk_id), "deleted note {jfk_id} came back: {ids:?}");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dictation_through_the_virtual_microphone_becomes_a_note() {
    let _one = ONE_APP.lock().await;
    let mic = mic::Daemon::start(&std::env::temp_dir().join("sotto-app-test-pulse"));
    let data = tempfile::tempdir().unwrap();
    let app = App::launch(data.path(), &[], Some(PASSPHRASE), Some(&mic.server())).await;
    let player = speak_into_dictation(&app, &mic, fixture("jfk.wav")).await;
    let mut saw_partial = false;
    // The meter as the speech plays (ms since play, level 0–100): on a failure, it tells
    // whether the speech reached the app.
    let (playing, mut levels) = (Instant::now(), Vec::new());
    let deadline = playing + Duration::from_secs(30);
    while !player.is_finished() && Instant::now() < deadline {
        if !app.all("[data-testid=live-text] .partial").await.is_empty() {
            saw_partial = true;
        }
        if let Some(level) = app.attrs("[data-testid=level-meter]", "data-level").await.pop() {
            levels.push((playing.elapsed().as_millis(), level));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(player.await.unwrap().unwrap().success(), "paplay played the speech");
    eprintln!("level meter while playing (ms, level): {levels:?}");
    app.shot("dictate-live").await;
    // A speaker stops after the last word, not on it: the audio server's buffers still hold the
    // end of the speech when paplay returns.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    app.click("[data-testid=record-button]").await; // stop: pending speech becomes final
    app.until("the session to end", Duration::from_secs(60), || async {
        app.attrs("[data-testid=record-button]", "data-state").await.first().is_some_and(|s| s == "idle")
    })
    .await;
    let finals = app.wait("[data-testid=live-text] .final").await.text().await.unwrap_or_default();
    let text = finals.to_lowercase();
    assert!(
        text.contains("fellow americans") && text.contains("what you can do for your country"),
        "the final text is JFK's: {finals:?}\n{}",
        app.log_tail()
    );
    assert!(app.all("[data-testid=live-text] .partial").await.is_empty(), "no partial is left after the end");
    assert!(saw_partial, "live partial text appeared while speaking");
    app.shot("dictate-final").await;
    app.click("[data-testid=save-note]").await;
    app.click("[data-testid=nav-notes]").await;
    app.until("the dictated note", Duration::from_secs(10), || async {
        let mut texts = String::new();
        for item in app.all("[data-testid=note-item]").await {
            texts.push_str(&item.text().await.unwrap_or_default().to_lowercase());
        }
        texts.contains("fellow americans")
    })
    .await;
    app.quit().await;
    mic.kill();
}

/// Start dictating on the Dictate view and, once the session says the microphone is open
/// ("ready": "Listening on <device>"), play `wav` into it; returns the player.
async fn speak_into_dictation(
    app: &App,
    mic: &mic::Daemon,
    wav: PathBuf,
) -> tokio::task::JoinHandle<std::io::Result<std::process::ExitStatus>> {
    app.click("[data-testid=nav-dictate]").await;
    app.click("[data-testid=record-button]").await;
    app.until("the microphone to open", Duration::from_secs(20), || async {
        let text = app.client.execute("return document.body.innerText", vec![]).await.ok();
        text.and_then(|t| t.as_str().map(|t| t.contains("Listening on"))).unwrap_or(false)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = mic.server();
    tokio::task::spawn_blocking(move || {
        Command::new("paplay").env("PULSE_SERVER", server).arg("--device=vsink").arg(wav).status()
    })
}

/// A long speech file: every LibriVox clip of the fixtures, joined, over and over until it lasts
/// `seconds` (16 kHz mono, as the clips are).
fn long_speech(path: &Path, seconds: u32) {
    let dir = fixture("librivox");
    let mut clips: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    clips.sort();
    assert!(!clips.is_empty(), "no LibriVox clips in {}", dir.display());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = hound::WavWriter::create(path, spec).unwrap();
    let mut written = 0u64;
    'fill: loop {
        for clip in &clips {
            let mut reader = hound::WavReader::open(clip).unwrap();
            assert_eq!((reader.spec().sample_rate, reader.spec().channels), (16_000, 1), "{}", clip.display());
            for s in reader.samples::<i16>() {
                out.write_sample(s.unwrap()).unwrap();
                written += 1;
            }
            if written >= u64::from(seconds) * 16_000 {
                break 'fill;
            }
        }
    }
    out.finalize().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_answers_while_a_long_import_runs() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let long = data.path().join("long-reading.wav");
    // Long enough that its transcription outlasts everything below on a fast machine.
    long_speech(&long, 1800);
    let jfk = fixture("jfk.wav");
    let app = App::launch(&data.path().join("notes"), &[&jfk, &long], Some(PASSPHRASE), None).await;
    // JFK first (imports run in order), then the long one runs.
    app.until("the long import to run", Duration::from_secs(60), || async {
        jobs_in(&app, "done").await.len() == 1 && jobs_in(&app, "running").await.len() == 1
    })
    .await;
    // The label's text is cut with an ellipsis, which WebKit's WebDriver leaves out: its title.
    let running = app.attrs("[data-testid=job-item][data-state=running] .label", "title").await;
    assert_eq!(running, ["long-reading.wav"]);
    app.wait("[data-testid=job-item][data-state=running] [data-testid=job-progress]").await;

    // Every view opens, and search answers as the user types, while the core transcribes.
    let answers = Duration::from_secs(5);
    app.click("[data-testid=nav-notes]").await;
    app.wait_for("[data-testid=note-item]", answers).await;
    app.click("[data-testid=nav-search]").await;
    app.type_into("[data-testid=search-input]", "fellow americans").await;
    app.wait_for("[data-testid=search-result]", answers).await;
    let typed = app.wait("[data-testid=search-input]").await.prop("value").await.unwrap();
    assert_eq!(typed.as_deref(), Some("fellow americans"), "every key landed");
    app.click("[data-testid=nav-models]").await;
    app.wait_for("[data-testid=model-row]", answers).await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=nav-dictate]").await;
    app.wait_for("[data-testid=record-button]", answers).await;
    app.shot("long-import").await;
    let running = jobs_in(&app, "running").await;
    assert_eq!(running.len(), 1, "the import outlasted the check (else it proved nothing): {running:?}");

    // Cancel it: it ends as cancelled, and no half-made note is left.
    app.click("[data-testid=job-item][data-state=running] [data-testid=job-cancel]").await;
    app.until("the import to be cancelled", Duration::from_secs(30), || async {
        jobs_in(&app, "cancelled").await.len() == 1
    })
    .await;
    app.click("[data-testid=nav-notes]").await;
    app.until("the notes list", Duration::from_secs(10), || async {
        app.all("[data-testid=note-item]").await.len() == 1
    })
    .await;
    app.quit().await;
}

/// A model mirror on 127.0.0.1: serves `size` bytes (not the real model: its checksum cannot
/// match) for any path, honours `Range` (resumed downloads), at `rate` bytes per second (0: as
/// fast as it can).
struct Mirror {
    port: u16,
    rate: Arc<AtomicU64>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Mirror {
    fn start(size: u64, rate: u64) -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rate = Arc::new(AtomicU64::new(rate));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (served_rate, log) = (rate.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (rate, log) = (served_rate.clone(), log.clone());
                std::thread::spawn(move || Self::serve(stream, size, &rate, &log));
            }
        });
        Mirror { port, rate, requests }
    }

    fn serve(mut stream: TcpStream, size: u64, rate: &AtomicU64, log: &Mutex<Vec<String>>) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_string();
        log.lock().unwrap().push(head.lines().next().unwrap_or_default().to_string());
        let from: u64 = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("range: bytes=").map(|r| r.trim().to_string()))
            .and_then(|r| r.trim_end_matches('-').parse().ok())
            .unwrap_or(0);
        let status = if from > 0 {
            format!("206 Partial Content\r\nContent-Range: bytes {from}-{}/{size}", size - 1)
        } else {
            "200 OK".to_string()
        };
        let header = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            size - from
        );
        if stream.write_all(header.as_bytes()).is_err() {
            return;
        }
        let chunk = [0x5au8; 16 * 1024];
        let mut at = from;
        while at < size {
            let n = chunk.len().min((size - at) as usize);
            if stream.write_all(&chunk[..n]).is_err() {
                return; // the client hung up (a cancel)
            }
            at += n as u64;
            let rate = rate.load(Ordering::Relaxed);
            if rate > 0 {
                std::thread::sleep(Duration::from_secs_f64(n as f64 / rate as f64));
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/models", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_download_shows_progress_cancels_resumes_and_refuses_a_bad_checksum() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let models = data.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    // whisper-tiny.en/q5_1: 32,166,155 bytes in the manifest, not made by the fixtures.
    let (row, file, size) = ("whisper-tiny.en/q5_1", "ggml-tiny.en-q5_1.bin", 32_166_155);
    let mirror = Mirror::start(size, 2_000_000);
    let env = [("SOTTO_MODEL_MIRROR", mirror.url()), ("SOTTO_MODELS_DIR", models.display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::launch_with(&data.path().join("notes"), &[], Some(PASSPHRASE), None, &env).await;
    let row = format!("[data-testid=model-row][data-model-id='{row}']");
    let row_css = row.as_str();
    app.click("[data-testid=nav-models]").await;
    app.click(&format!("{row} [data-testid=model-download]")).await;

    // Progress with amount, rate and time left, then Cancel.
    app.until("download progress with a rate and time left", Duration::from_secs(30), || async {
        let Some(row) = app.all(&row).await.into_iter().next() else { return false };
        let text = row.text().await.unwrap_or_default();
        !app.all(&format!("{row_css} [data-testid=model-progress]")).await.is_empty()
            && text.contains("/s")
            && text.contains("left")
    })
    .await;
    app.shot("model-download").await;
    app.click(&format!("{row} [data-testid=model-cancel]")).await;
    app.wait(&format!("{row} [data-testid=model-download]")).await;
    assert_eq!(jobs_in(&app, "cancelled").await.len(), 1);
    assert!(!models.join(file).exists(), "a cancelled download installs nothing");

    // Again, at full speed: it resumes where it stopped, and the bytes (not the real model)
    // fail the manifest's checksum; the error shows in the row and nothing is installed.
    mirror.rate.store(0, Ordering::Relaxed);
    app.click(&format!("{row} [data-testid=model-download]")).await;
    app.until("the checksum error in the row", Duration::from_secs(60), || async {
        let text = app.wait(&row).await.text().await.unwrap_or_default();
        text.contains("checksum mismatch") && text.contains("Not installed")
    })
    .await;
    assert!(!models.join(file).exists(), "a file that fails its checksum is not installed");
    let requests = mirror.requests.lock().unwrap().clone();
    assert!(requests.len() >= 2 && requests.iter().all(|r| r.contains(file)), "{requests:?}");
    app.shot("model-download-failed").await;
    app.quit().await;
}

/// Whether the app's log has `text` since its last launch.
fn log_says(app: &App, text: &str) -> bool {
    let log = std::fs::read_to_string(&app.log).unwrap_or_default();
    log.rsplit("--- launch ").next().unwrap_or_default().contains(text)
}

/// `sotto-app --toggle` from another process, as a desktop's own shortcut runs it: it hands the
/// toggle to the running app over the session bus `bus` and exits.
fn toggle_command(bus: &str, data: &Path, env: &[(&str, &str)]) {
    let ok = Command::new(app_binary())
        .arg("--toggle")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("SOTTO_DATA_DIR", data)
        .envs(env.iter().copied())
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "sotto-app --toggle hands over and exits");
}

/// The spoken command the dictation tests say, and its WAV, made in `dir`.
fn milk(dir: &Path) -> (&'static str, PathBuf) {
    let said = "Remind me in twenty minutes to buy some milk.";
    let wav = dir.join("milk.wav");
    spoken(&wav, said);
    (said, wav)
}

/// `text` spoken by espeak-ng (Debian) as a 16 kHz WAV, to play into the virtual microphone.
fn spoken(path: &Path, text: &str) {
    let raw = path.with_extension("22k.wav");
    let ok = Command::new("espeak-ng").args(["-v", "en-us", "-s", "150", "-w"]).arg(&raw).arg(text).status();
    assert!(ok.is_ok_and(|s| s.success()), "espeak-ng (models/fetch-fixtures installs it)");
    let samples = sotto::audio::load_file(&raw).unwrap();
    mic::write_wav(path, &samples);
}

/// A private session bus with dunst, a real notification service, on the test's X display.
/// Its context menu (`dunstctl context`) runs `pick` as its dmenu: the script gets the
/// notifications' actions on stdin and prints the one to invoke.
struct Notifications {
    bus: String,
    /// The bus daemon forked itself away: ended by its pid.
    bus_pid: u32,
    dunst: Child,
}

impl Notifications {
    fn start(dir: &Path, pick: &str) -> Notifications {
        // The config also where a dunst the bus starts by itself looks for it: should ours die,
        // D-Bus activation starts another, which without it would run the system's dmenu and
        // wait for a keyboard forever (seen once in CI, with `dunstctl context` blocked on it).
        let config = dir.join("xdg");
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .env("XDG_CONFIG_HOME", &config)
            .output()
            .expect("dbus-daemon (models/fetch-fixtures installs it)");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let bus = lines.next().expect("the bus address").to_string();
        let pid: u32 = lines.next().and_then(|p| p.trim().parse().ok()).expect("the bus pid");
        let script = dir.join("pick.sh");
        std::fs::write(&script, format!("#!/bin/sh\ngrep -m1 -- '{pick}'\n")).unwrap();
        let _ = Command::new("chmod").arg("+x").arg(&script).status();
        let rc = config.join("dunst/dunstrc");
        std::fs::create_dir_all(rc.parent().unwrap()).unwrap();
        std::fs::write(&rc, format!("[global]\n    dmenu = {}\n", script.display())).unwrap();
        let dunst = Command::new("dunst")
            .arg("-config")
            .arg(&rc)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst (models/fetch-fixtures installs it)");
        std::thread::sleep(Duration::from_millis(500));
        Notifications { bus, bus_pid: pid, dunst }
    }

    fn ctl(&self, args: &[&str]) -> String {
        let out = Command::new("dunstctl").args(args).env("DBUS_SESSION_BUS_ADDRESS", &self.bus).output().unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        let _ = self.dunst.kill();
        let _ = self.dunst.wait();
        let _ = Command::new("kill").arg(self.bus_pid.to_string()).status();
    }
}

/// A reminder that fell due while Sotto was closed fires at the start (late) and is snoozed; a
/// spoken command through the microphone becomes a reminder, shown with its time and undo, and
/// is then done in the Reminders view.
#[tokio::test(flavor = "multi_thread")]
async fn reminders_fire_late_at_start_and_a_spoken_command_makes_one() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    {
        let lib = sotto::notes::Library::open(data.path(), PASSPHRASE, None).unwrap();
        let an_hour_ago = jiff::Timestamp::now().as_second() - 3600;
        lib.add_reminder(&sotto::store::NewReminder {
            due_at: an_hour_ago,
            text: "pay the rent".into(),
            note_id: None,
        })
        .unwrap();
    }
    let mic = mic::Daemon::start(&std::env::temp_dir().join("sotto-app-test-pulse"));
    let notifications = Notifications::start(data.path(), "Snooze");
    let app = App::launch_with(
        data.path(),
        &[],
        Some(PASSPHRASE),
        Some(&mic.server()),
        &[("DBUS_SESSION_BUS_ADDRESS", &notifications.bus)],
    )
    .await;

    // Late: in the banner on whatever view is open, and a notification on the desktop.
    let banner = app.wait("[data-testid=due-reminder]").await;
    assert!(banner.text().await.unwrap().contains("pay the rent"));
    app.until("the late reminder's notification", Duration::from_secs(10), || async {
        notifications.ctl(&["count", "displayed"]).trim() == "1"
    })
    .await;
    assert!(log_says(&app, "due, late"), "{}", app.log_tail());
    // The notification plugin's page script asks its permission as the page loads: never an
    // error on screen (it was, before the page was allowed to ask).
    let errors = app.all("[data-testid=error]").await;
    assert!(errors.is_empty(), "an error on screen: {:?}", errors.first().map(|_| "see reminder-due.png"));
    app.shot("reminder-due").await;
    // Its Snooze button, chosen from dunst's menu of the notification's actions.
    notifications.ctl(&["context"]);
    app.until("the snoozed reminder to leave the banner", Duration::from_secs(15), || async {
        app.all("[data-testid=due-reminder]").await.is_empty()
    })
    .await;
    assert!(log_says(&app, "snooze from the notification"), "{}", app.log_tail());

    // A spoken command, through the microphone.
    let (_, wav) = milk(data.path());
    let played = speak_into_dictation(&app, &mic, wav).await;
    assert!(played.await.unwrap().unwrap().success());
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    app.click("[data-testid=record-button]").await;
    let command = app.wait("[data-testid=command]").await.text().await.unwrap();
    assert!(command.contains("Reminder: buy some milk — today") || command.contains("— tomorrow"), "{command}");
    assert!(app.all("[data-testid=undo-command]").await.len() == 1, "the command offers its undo");
    app.shot("dictate-command").await;

    // In the Reminders view: the milk upcoming, the rent snoozed; done moves the milk down.
    app.click("[data-testid=nav-reminders]").await;
    let upcoming = app.wait("[data-testid=reminders-upcoming]").await.text().await.unwrap();
    assert!(upcoming.contains("buy some milk") && upcoming.contains("pay the rent"), "{upcoming}");
    app.shot("reminders").await;
    app.client
        .find(Locator::XPath(
            "//*[@data-testid='reminder'][contains(., 'buy some milk')]//button[normalize-space(.)='Done']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.until("the milk reminder to be done", Duration::from_secs(10), || async {
        let settled = app.all("[data-testid=reminders-settled]").await;
        match settled.first() {
            Some(e) => e.text().await.unwrap_or_default().contains("buy some milk"),
            None => false,
        }
    })
    .await;
    app.quit().await;
    mic.kill();
    let lib = sotto::notes::Library::open(data.path(), PASSPHRASE, None).unwrap();
    let all = lib.reminders(None).unwrap();
    let milk = all.iter().find(|r| r.text == "buy some milk").expect("the spoken reminder was stored");
    assert_eq!(milk.state, sotto::store::ReminderState::Done);
    let rent = all.iter().find(|r| r.text == "pay the rent").unwrap();
    assert!(rent.due_at > jiff::Timestamp::now().as_second(), "snoozed into the future");
}

/// What the X server says of the app's window titled `name`, through python3-xlib: `close` sends it what a
/// window manager sends on a click of its close button (WM_DELETE_WINDOW); `state` prints
/// whether it is on screen ("viewable") or hidden ("unmapped").
fn x_window(name: &str, action: &str) -> String {
    const SCRIPT: &str = r#"
import sys
from Xlib import X, display, protocol
d = display.Display()
def walk(w):
    for c in w.query_tree().children:
        if c.get_wm_name() == sys.argv[2]:
            yield c
        yield from walk(c)
windows = list(walk(d.screen().root))
if not windows:
    print("none"); sys.exit(0)
w = windows[0]
if sys.argv[1] == "close":
    proto, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
    ev = protocol.event.ClientMessage(window=w, client_type=proto, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
    w.send_event(ev, event_mask=X.NoEventMask)
    d.flush()
    print("sent")
else:
    print("viewable" if any(x.get_attributes().map_state == X.IsViewable for x in windows) else "unmapped")
"#;
    // Debian's Python, which has the Debian package (not a pyenv one earlier on PATH).
    let out = Command::new("/usr/bin/python3").args(["-c", SCRIPT, action, name]).output().expect("python3-xlib");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Closing the window keeps Sotto running in the tray, where a reminder still fires; a second
/// launch shows the window again. Starting at login writes and removes the desktop's login
/// entry (with `--minimized`).
#[tokio::test(flavor = "multi_thread")]
async fn closing_the_window_keeps_sotto_running_and_start_at_login_is_a_login_entry() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let notifications = Notifications::start(data.path(), "Done");
    let bus = notifications.bus.clone();
    let home_dir = home.path().to_str().unwrap().to_string();
    let env = [("DBUS_SESSION_BUS_ADDRESS", bus.as_str()), ("HOME", home_dir.as_str())];
    let app = App::launch_with(data.path(), &[], Some(PASSPHRASE), None, &env).await;
    app.wait("[data-testid=nav-settings]").await;

    // Start at login: the XDG autostart entry, written and removed.
    app.click("[data-testid=nav-settings]").await;
    let entry = home.path().join(".config/autostart/Sotto.desktop");
    app.click("[data-testid=start-at-login]").await;
    app.until("the login entry", Duration::from_secs(10), || async { entry.exists() }).await;
    let desktop = std::fs::read_to_string(&entry).unwrap();
    assert!(desktop.contains("sotto-app") && desktop.contains("--minimized"), "{desktop}");
    app.click("[data-testid=start-at-login]").await;
    app.until("the login entry to go", Duration::from_secs(10), || async { !entry.exists() }).await;

    // Closed, the window hides; the app still runs its reminder clock.
    assert_eq!(x_window("Sotto", "state"), "viewable");
    assert_eq!(x_window("Sotto", "close"), "sent");
    app.until("the window to hide", Duration::from_secs(10), || async { x_window("Sotto", "state") == "unmapped" })
        .await;
    {
        let lib = sotto::notes::Library::open(data.path(), PASSPHRASE, None).unwrap();
        let now = jiff::Timestamp::now().as_second();
        lib.add_reminder(&sotto::store::NewReminder { due_at: now, text: "stretch".into(), note_id: None }).unwrap();
    }
    app.until("the reminder's notification while hidden", Duration::from_secs(15), || async {
        notifications.ctl(&["count", "displayed"]).trim() == "1"
    })
    .await;
    // Done from the notification, with the window still hidden.
    notifications.ctl(&["context"]);
    app.until("the reminder done from the notification", Duration::from_secs(10), || async {
        log_says(&app, "done from the notification")
    })
    .await;
    assert_eq!(x_window("Sotto", "state"), "unmapped");

    // A second launch hands over to the running app, which shows its window.
    let second = Command::new(app_binary())
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .env("HOME", &home_dir)
        .env("SOTTO_DATA_DIR", data.path())
        .status()
        .unwrap();
    assert!(second.success(), "the second instance exits at once");
    app.until("the window to come back", Duration::from_secs(10), || async {
        x_window("Sotto", "state") == "viewable"
    })
    .await;
    app.quit().await;
    let lib = sotto::notes::Library::open(data.path(), PASSPHRASE, None).unwrap();
    let stretch = lib.reminders(None).unwrap().into_iter().find(|r| r.text == "stretch").unwrap();
    assert_eq!(stretch.state, sotto::store::ReminderState::Done);
}

/// A Tk text entry (tests/app/entry.py) that has the keyboard focus and writes its content to
/// a file whenever it changes: the "other app" that dictation types into.
struct Entry {
    child: Child,
    file: PathBuf,
}

impl Entry {
    /// A GTK entry on the Wayland compositor `sway` (the compositor focuses it).
    fn open_wayland(dir: &Path, sway: &Sway) -> Entry {
        let file = dir.join("wayland-entry.txt");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/app/gtk_entry.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(&file)
            .env("XDG_RUNTIME_DIR", &sway.runtime)
            .env("WAYLAND_DISPLAY", &sway.display)
            .env("GDK_BACKEND", "wayland")
            .spawn()
            .expect("python3-gi and gir1.2-gtk-3.0 (models/fetch-fixtures installs them)");
        let since = Instant::now();
        while !file.exists() {
            assert!(since.elapsed() < Duration::from_secs(20), "the Wayland entry window never came up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Entry { child, file }
    }

    fn open(dir: &Path) -> Entry {
        let (file, ready) = (dir.join("entry.txt"), dir.join("entry.ready"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/app/entry.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(&file)
            .arg(&ready)
            .spawn()
            .expect("python3-tk (models/fetch-fixtures installs it)");
        let since = Instant::now();
        while !ready.exists() {
            assert!(since.elapsed() < Duration::from_secs(20), "the entry window never came up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Entry { child, file }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap_or_default()
    }

    /// What was added after `before`, once more than `min` characters came and then nothing
    /// changed for a second: typing goes on for a while after the first words show.
    async fn added(&self, app: &App, what: &str, before: &str, min: usize) -> String {
        let mut last = (self.text(), Instant::now());
        app.until(what, Duration::from_secs(30), || {
            let now = self.text();
            if now != last.0 {
                last = (now, Instant::now());
            }
            let done = last.0.len() > before.len() + min && last.1.elapsed() >= Duration::from_secs(1);
            async move { done }
        })
        .await;
        last.0.strip_prefix(before).unwrap_or(&last.0).to_string()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn xdotool(args: &[&str]) {
    let ok = Command::new("xdotool").args(args).status();
    assert!(ok.is_ok_and(|s| s.success()), "xdotool {args:?} (models/fetch-fixtures installs it)");
}

/// Put `text` on the X clipboard (xclip keeps serving it until another program takes it).
fn set_clipboard(text: &str) {
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip (models/fetch-fixtures installs it)");
    xclip.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    assert!(xclip.wait().unwrap().success());
}

fn clipboard() -> String {
    let out = Command::new("xclip").args(["-selection", "clipboard", "-o"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Play `wav` into the virtual microphone and wait until it has been heard (the audio server's
/// buffers still hold the end when paplay returns).
async fn play(mic: &mic::Daemon, wav: PathBuf) {
    let server = mic.server();
    let played = tokio::task::spawn_blocking(move || {
        Command::new("paplay").env("PULSE_SERVER", server).arg("--device=vsink").arg(wav).status()
    });
    assert!(played.await.unwrap().unwrap().success(), "paplay played the speech");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
}

/// Dictation into another app, as a user does it: the hold-to-talk keys (`$SOTTO_SHORTCUT`)
/// held with xdotool while real speech plays into the virtual microphone put the words into a
/// focused Tk entry, and the clipboard still holds what it held; the paste-last keys put them in
/// again; Escape while holding inserts nothing; `sotto-app --toggle` from a second process starts and stops a dictation that
/// inserts too; with the microphone kept open, speech 50 ms after the key keeps its first word;
/// pasted and copied text; the history offers the last dictation after a restart.
#[tokio::test(flavor = "multi_thread")]
async fn the_shortcut_and_the_toggle_command_type_speech_into_the_focused_window() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let mic = mic::Daemon::start(&std::env::temp_dir().join("sotto-app-test-pulse"));
    // A session bus: the notification service, and `--toggle` reaching the running app.
    let notifications = Notifications::start(data.path(), "Done");
    let env = [("DBUS_SESSION_BUS_ADDRESS", notifications.bus.as_str()), ("SOTTO_SHORTCUT", "ctrl+alt+d")];
    let app = App::launch_with(data.path(), &[], Some(PASSPHRASE), Some(&mic.server()), &env).await;
    app.until("the shortcuts to be grabbed", Duration::from_secs(30), || async {
        log_says(&app, "shortcuts: hold Binding { keys: \"ctrl+alt+d\", error: None }")
    })
    .await;
    let entry = Entry::open(data.path());
    set_clipboard("what the user had copied");

    // Hold: the words go in once the keys are up. The start and stop cues play on the default
    // output (the daemon's `speakers`), recorded here.
    let speakers = data.path().join("speakers.raw");
    let mut recorder = Command::new("parec")
        .env("PULSE_SERVER", mic.server())
        .args(["--device=speakers.monitor", "--raw", "--format=s16le", "--rate=16000", "--channels=1"])
        .stdout(std::fs::File::create(&speakers).unwrap())
        .spawn()
        .expect("parec (pulseaudio-utils)");
    xdotool(&["keydown", "ctrl+alt+d"]);
    app.until("the microphone to open", Duration::from_secs(20), || async {
        log_says(&app, "listening; the text goes in by")
    })
    .await;
    // The overlay shows the live text without taking the focus: the words below still go into
    // the entry.
    app.until("the overlay to show", Duration::from_secs(10), || async {
        x_window("Sotto is listening", "state") == "viewable"
    })
    .await;
    play(&mic, fixture("jfk.wav")).await;
    xdotool(&["keyup", "ctrl+alt+d"]);
    let jfk = std::fs::read_to_string(fixture("jfk.txt")).unwrap();
    let typed = entry.added(&app, "the words in the entry", "", 40).await;
    app.until("the overlay to hide", Duration::from_secs(10), || async {
        x_window("Sotto is listening", "state") == "unmapped"
    })
    .await;
    // Two cues of 160 ms, a sine of 0.2 above 0.05 for most of its time: nothing else plays
    // there. A null sink plays up to 2 s behind: the stop cue may come a while after the text.
    let loud_ms = || {
        let played = std::fs::read(&speakers).unwrap_or_default();
        played.chunks_exact(2).filter(|b| i16::from_le_bytes([b[0], b[1]]).unsigned_abs() > 1_638).count() / 16
    };
    let since = Instant::now();
    while loud_ms() < 200 && since.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = recorder.kill();
    let _ = recorder.wait();
    let loud_ms = loud_ms();
    assert!((150..=600).contains(&loud_ms), "{loud_ms} ms of cues on the speakers\n{}", app.log_tail());
    let wer = sotto::text::wer::wer(&jfk, &typed);
    assert!(wer <= 0.25, "WER {wer:.2}: {typed:?}\n{}", app.log_tail());
    assert!(log_says(&app, "characters in by Type"), "{}", app.log_tail());
    assert_eq!(clipboard(), "what the user had copied", "the clipboard is the user's");

    // Its own keys put the last dictation in again.
    xdotool(&["key", "ctrl+alt+v"]);
    let again = entry.added(&app, "the last dictation again", &typed, 40).await;
    assert_eq!(again.trim(), typed.trim(), "the last dictation, once more");
    assert!(log_says(&app, "characters in again by Type"), "{}", app.log_tail());

    // Escape while holding: nothing goes in.
    let before = entry.text();
    xdotool(&["keydown", "ctrl+alt+d"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    play(&mic, fixture("espeak_hello.wav")).await;
    xdotool(&["key", "ctrl+alt+Escape"]);
    xdotool(&["keyup", "ctrl+alt+d"]);
    app.until("the cancelled dictation to end", Duration::from_secs(10), || async {
        log_says(&app, "dictation into the focused app: Cancel")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(entry.text(), before, "a cancelled dictation inserts nothing");

    // `sotto-app --toggle`, as bound in a desktop's keyboard settings: start, speak, stop.
    let toggle = || toggle_command(&notifications.bus, data.path(), &[]);
    let (said, wav) = milk(data.path());
    toggle();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    play(&mic, wav).await;
    toggle();
    let added = entry.added(&app, "the toggled words in the entry", &before, 10).await;
    assert!(sotto::text::wer::wer(said, &added) <= 0.25, "{added:?} is not {said:?}");

    // How soon after the key the microphone's audio came, with the microphone opened at the key
    // (the README's figure; speech from then on is heard whole).
    let log = std::fs::read_to_string(&app.log).unwrap_or_default();
    let firsts: Vec<&str> = log.lines().filter_map(|l| l.split("first audio ").nth(1)).collect();
    eprintln!("key down -> first audio, microphone opened at the key: {firsts:?}");
    assert!(!firsts.is_empty(), "{}", app.log_tail());

    // The microphone kept open (Settings): speech that starts 50 ms after the key keeps its
    // first word, heard in the pre-roll.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=keep-microphone-open]").await;
    app.until("the microphone to be kept open", Duration::from_secs(10), || async {
        log_says(&app, "microphone kept open")
    })
    .await;
    xdotool(&["search", "--name", "sotto-test-entry", "windowfocus", "--sync"]);
    let first_word = data.path().join("yesterday.wav");
    spoken(&first_word, "Yesterday I walked to the station.");
    let before = entry.text();
    xdotool(&["keydown", "ctrl+alt+d"]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    play(&mic, first_word).await;
    xdotool(&["keyup", "ctrl+alt+d"]);
    let added = entry.added(&app, "the words said at once in the entry", &before, 10).await;
    assert!(
        sotto::text::wer::normalize(&added).first().is_some_and(|w| w == "yesterday"),
        "the first word was cut off: {added:?}\n{}",
        app.log_tail()
    );

    // Pasted (Settings): the words go in through the clipboard, which is the user's again after.
    let hold_and_say = |how: &'static str| {
        let (app, mic, wav) = (&app, &mic, data.path().join("milk.wav"));
        async move {
            app.click("[data-testid=nav-settings]").await;
            app.wait("[data-testid=set-insertion]").await.select_by_value(how).await.unwrap();
            app.until("the way text goes in to change", Duration::from_secs(10), || async {
                let state = app.all("[data-testid=insertion-state]").await;
                match state.first() {
                    Some(e) => {
                        e.text().await.unwrap_or_default().contains(if how == "paste" { "pasted" } else { "copied" })
                    }
                    None => false,
                }
            })
            .await;
            // The page had the focus: give it back to the text window, as a user would.
            xdotool(&["search", "--name", "sotto-test-entry", "windowfocus", "--sync"]);
            xdotool(&["keydown", "ctrl+alt+d"]);
            tokio::time::sleep(Duration::from_millis(500)).await;
            play(mic, wav).await;
            xdotool(&["keyup", "ctrl+alt+d"]);
        }
    };
    let before = entry.text();
    hold_and_say("paste").await;
    let added = entry.added(&app, "the pasted words in the entry", &before, 10).await;
    assert!(sotto::text::wer::wer(said, &added) <= 0.25, "{added:?} is not {said:?}");
    // Logged once the old clipboard is back.
    app.until("the paste to end", Duration::from_secs(5), || async { log_says(&app, "characters in by Paste") }).await;
    assert_eq!(clipboard(), "what the user had copied", "the clipboard is restored after the paste");

    // Only copied: the entry is untouched, the words are on the clipboard, a notification says so.
    let before = entry.text();
    let shown = notifications.ctl(&["count", "history"]).trim().parse::<u32>().unwrap_or(0)
        + notifications.ctl(&["count", "displayed"]).trim().parse::<u32>().unwrap_or(0);
    hold_and_say("copy").await;
    app.until("the words on the clipboard", Duration::from_secs(20), || async {
        sotto::text::wer::wer(said, &clipboard()) <= 0.25
    })
    .await;
    app.until("the notification to paste", Duration::from_secs(10), || async {
        let now = notifications.ctl(&["count", "history"]).trim().parse::<u32>().unwrap_or(0)
            + notifications.ctl(&["count", "displayed"]).trim().parse::<u32>().unwrap_or(0);
        now > shown
    })
    .await;
    assert_eq!(entry.text(), before, "copying inserts nothing");
    app.quit().await;

    // The history outlives a restart: after Sotto starts again, its paste-again keys offer the
    // last dictation (copied, the way the user now has text go in).
    set_clipboard("copied after the restart");
    let app = App::launch_with(data.path(), &[], Some(PASSPHRASE), Some(&mic.server()), &env).await;
    app.until("the shortcuts to be grabbed again", Duration::from_secs(30), || async {
        log_says(&app, "shortcuts: hold Binding { keys: \"ctrl+alt+d\", error: None }")
    })
    .await;
    xdotool(&["search", "--name", "sotto-test-entry", "windowfocus", "--sync"]);
    xdotool(&["key", "ctrl+alt+v"]);
    app.until("the kept dictation on the clipboard", Duration::from_secs(20), || async {
        sotto::text::wer::wer(said, &clipboard()) <= 0.25
    })
    .await;
    assert!(log_says(&app, "characters in again by Copy"), "{}", app.log_tail());
    app.quit().await;
    mic.kill();
}

/// A headless Sway (wlroots: it offers the virtual-keyboard protocol that `wtype` uses), run as
/// `nobody` in its own runtime dir: sway refuses to start as root.
struct Sway {
    child: Child,
    runtime: PathBuf,
    display: String,
}

impl Sway {
    fn start(dir: &Path) -> Sway {
        use std::os::unix::fs::{PermissionsExt, chown};
        let runtime = dir.join("sway-runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        chown(&runtime, Some(65534), Some(65534)).unwrap();
        let config = runtime.join("config");
        std::fs::write(&config, "output HEADLESS-1 resolution 1280x800\ndefault_border none\n").unwrap();
        let mut sway = Command::new("setpriv");
        sway.args(["--reuid=65534", "--regid=65534", "--clear-groups", "sway", "-c"]).arg(&config);
        let child = sway
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("HOME", &runtime)
            .env("WLR_BACKENDS", "headless")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sway (models/fetch-fixtures installs it)");
        let since = Instant::now();
        let display = loop {
            let socket = std::fs::read_dir(&runtime).unwrap().flatten().find_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                (name.starts_with("wayland-") && !name.ends_with(".lock")).then_some(name)
            });
            if let Some(name) = socket {
                break name;
            }
            assert!(since.elapsed() < Duration::from_secs(20), "sway never opened its socket");
            std::thread::sleep(Duration::from_millis(50));
        };
        Sway { child, runtime, display }
    }
}

impl Drop for Sway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wayland: the words go in through the compositor's virtual keyboard (`wtype`), started and
/// stopped by `sotto-app --toggle` from another process, as a keyboard shortcut of the
/// desktop's own would run it (apps cannot grab keys on Wayland). The app's window stays on the
/// X display, so the Wayland entry keeps the focus.
#[tokio::test(flavor = "multi_thread")]
async fn on_wayland_the_toggle_command_types_speech_with_the_virtual_keyboard() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let sway = Sway::start(data.path());
    let entry = Entry::open_wayland(data.path(), &sway);
    let mic = mic::Daemon::start(&std::env::temp_dir().join("sotto-app-test-pulse"));
    let notifications = Notifications::start(data.path(), "Done");
    let runtime = sway.runtime.to_string_lossy().to_string();
    let env = [
        ("DBUS_SESSION_BUS_ADDRESS", notifications.bus.as_str()),
        ("WAYLAND_DISPLAY", sway.display.as_str()),
        ("XDG_RUNTIME_DIR", runtime.as_str()),
        ("GDK_BACKEND", "x11"),
    ];
    let app = App::launch_with(data.path(), &[], Some(PASSPHRASE), Some(&mic.server()), &env).await;
    app.until("the app to unlock", Duration::from_secs(30), || async { log_says(&app, "shortcuts:") }).await;
    let toggle = || toggle_command(&notifications.bus, data.path(), &[]);
    let (said, wav) = milk(data.path());
    toggle();
    app.until("the microphone to open", Duration::from_secs(20), || async {
        log_says(&app, "listening; the text goes in by Type")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    play(&mic, wav).await;
    toggle();
    let added = entry.added(&app, "the words in the Wayland entry", "", 10).await;
    assert!(sotto::text::wer::wer(said, &added) <= 0.25, "{added:?} is not {said:?}\n{}", app.log_tail());
    assert!(added.starts_with("Remind"), "the first character is kept: {added:?}");
    app.quit().await;
    mic.kill();
}

/// An X server of its own without the XTest extension: no app can send keys there.
struct XvfbWithoutXTest {
    child: Child,
    display: String,
}

impl XvfbWithoutXTest {
    fn start() -> XvfbWithoutXTest {
        let n = (90..200).find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()).expect("a free display");
        let child = Command::new("Xvfb")
            .args([format!(":{n}").as_str(), "-extension", "XTEST", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (models/fetch-fixtures installs xvfb)");
        let since = Instant::now();
        while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            assert!(since.elapsed() < Duration::from_secs(20), "Xvfb :{n} never came up");
            std::thread::sleep(Duration::from_millis(50));
        }
        XvfbWithoutXTest { child, display: format!(":{n}") }
    }

    /// The text on this display's clipboard.
    fn clipboard(&self) -> String {
        let out = Command::new("xclip").args(["-selection", "clipboard", "-o"]).env("DISPLAY", &self.display).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).to_string()).unwrap_or_default()
    }
}

impl Drop for XvfbWithoutXTest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where nothing can put text into the focused window (an X server without XTest, no other way
/// chosen), the words are copied and a notification says to paste them.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_way_to_type_the_words_are_copied_and_a_notification_says_so() {
    let _one = ONE_APP.lock().await;
    let data = tempfile::tempdir().unwrap();
    let x = XvfbWithoutXTest::start();
    let mic = mic::Daemon::start(&std::env::temp_dir().join("sotto-app-test-pulse"));
    let notifications = Notifications::start(data.path(), "Done");
    let env = [("DBUS_SESSION_BUS_ADDRESS", notifications.bus.as_str()), ("DISPLAY", x.display.as_str())];
    let app = App::launch_with(data.path(), &[], Some(PASSPHRASE), Some(&mic.server()), &env).await;
    app.until("the app to unlock", Duration::from_secs(30), || async { log_says(&app, "shortcuts:") }).await;
    let toggle = || toggle_command(&notifications.bus, data.path(), &[("DISPLAY", x.display.as_str())]);
    let (said, wav) = milk(data.path());
    let shown = || {
        notifications.ctl(&["count", "history"]).trim().parse::<u32>().unwrap_or(0)
            + notifications.ctl(&["count", "displayed"]).trim().parse::<u32>().unwrap_or(0)
    };
    let before = shown();
    toggle();
    app.until("the microphone to open", Duration::from_secs(20), || async {
        log_says(&app, "listening; the text goes in by Copy")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    play(&mic, wav).await;
    toggle();
    app.until("the words on the clipboard", Duration::from_secs(20), || async {
        sotto::text::wer::wer(said, &x.clipboard()) <= 0.25
    })
    .await;
    app.until("the notification to paste", Duration::from_secs(10), || async { shown() > before }).await;
    assert!(log_says(&app, "characters in by Copy"), "{}", app.log_tail());
    app.quit().await;
    mic.kill();
}
