//! bench/app: Sotto's app beside an empty Tauri 2 app built in the same run (the floor), both
//! release builds driven through tauri-driver and WebKitWebDriver under Xvfb, the same way.
//! `bench/app/run` builds both and their `.deb`s, then runs this with their paths.
//!
//! Per app, one warm-up launch (the data dir made, files in the page cache) and `--runs`
//! measured ones, medians reported:
//! - time to window mapped (the window's X map state, polled) and to page ready (the page's
//!   `loadEventEnd`), from the WebDriver request that launches the app; for Sotto also the
//!   unlocked main view shown (`SOTTO_PASSPHRASE` unlocks at start);
//! - PSS summed over the app and its WebKit processes, 5 s after launch; for Sotto also after one
//!   dictation of real speech through a virtual microphone, and after the idle release;
//! - the IPC round trip: median of 1000 `invoke`s of a command that answers at once.

#[path = "../common.rs"]
mod common;
#[path = "../../tests/common/mic.rs"]
#[allow(dead_code)]
mod mic;

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const PASSPHRASE: &str = "bench passphrase for the app";
/// The idle release the Sotto runs use (the default is 5 minutes).
const IDLE_RELEASE_SECS: u64 = 10;

/// A line of the table: what, the empty app's figure, Sotto's, and the target (a bound, and
/// whether it is relative to the empty app).
type Row = (&'static str, f64, f64, Option<(f64, bool)>);

/// One app under test.
struct Subject {
    name: &'static str,
    binary: PathBuf,
    /// The window's title (to find it on the X server).
    title: &'static str,
    /// A command that answers at once, for the IPC round trip.
    ping: &'static str,
    /// What shows once the app is usable (Sotto: its unlocked main view).
    ready_css: &'static str,
    is_sotto: bool,
}

#[derive(Default)]
struct Figures {
    mapped_ms: Vec<f64>,
    page_ready_ms: Vec<f64>,
    view_ms: Vec<f64>,
    idle_pss_mb: Vec<f64>,
    dictation_pss_mb: Vec<f64>,
    released_pss_mb: Vec<f64>,
    ipc_ms: Vec<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let arg =
        |name: &str| -> Option<String> { args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned() };
    let path = |name: &str| PathBuf::from(arg(name).unwrap_or_else(|| panic!("{name} PATH is required")));
    let runs: usize = arg("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    let out = path("--out");
    assert!(std::env::var_os("DISPLAY").is_some(), "no X display: bench/app/run starts Xvfb");

    let empty = Subject {
        name: "empty Tauri 2 app",
        binary: path("--empty-bin"),
        title: "Empty Tauri app",
        ping: "ping",
        ready_css: "p",
        is_sotto: false,
    };
    let sotto = Subject {
        name: "Sotto",
        binary: path("--sotto-bin"),
        title: "Sotto",
        ping: "app_info",
        ready_css: "[data-testid=nav-dictate]",
        is_sotto: true,
    };
    let size = |p: PathBuf| std::fs::metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).len() as f64 / 1e6;
    let sizes = [
        ("release binary (MB)", size(empty.binary.clone()), size(sotto.binary.clone()), None),
        (".deb without the model (MB)", size(path("--empty-deb")), size(path("--sotto-deb")), Some((12.0, false))),
        (".deb with the default model (MB)", f64::NAN, size(path("--sotto-deb-model")), None),
    ];

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mic = mic::Daemon::start(&std::env::temp_dir().join("sotto-bench-app-pulse"));
    let floor = rt.block_on(measure(&empty, runs, &mic));
    let app = rt.block_on(measure(&sotto, runs, &mic));
    mic.kill();

    let med = |xs: &[f64]| if xs.is_empty() { f64::NAN } else { common::median(xs) };
    // (what, floor, Sotto, target: (bound, relative to the floor?))
    let mut rows: Vec<Row> = sizes.to_vec();
    rows.extend([
        ("window mapped (ms)", med(&floor.mapped_ms), med(&app.mapped_ms), None),
        ("page ready (ms)", med(&floor.page_ready_ms), med(&app.page_ready_ms), Some((1.2, true))),
        ("first view shown (ms; Sotto: unlocked)", med(&floor.view_ms), med(&app.view_ms), None),
        ("idle PSS, 5 s after launch (MB)", med(&floor.idle_pss_mb), med(&app.idle_pss_mb), Some((1.15, true))),
        ("PSS after one dictation (MB)", f64::NAN, med(&app.dictation_pss_mb), None),
        ("PSS after the idle release (MB)", med(&floor.idle_pss_mb), med(&app.released_pss_mb), Some((1.15, true))),
        ("IPC round trip, median of 1000 (ms)", med(&floor.ipc_ms), med(&app.ipc_ms), Some((0.5, false))),
    ]);
    let mut md = String::new();
    md.push_str(&format!(
        "# bench/app: Sotto's app beside an empty Tauri 2 app\n\ncommit {}, {}, {} measured runs per app (medians), load {}\n\n",
        common::commit(),
        common::utc_now(),
        runs,
        common::loadavg()
    ));
    md.push_str("| | empty Tauri 2 app | Sotto | Sotto / empty | target | met |\n|---|---:|---:|---:|---|---|\n");
    let mut json_rows = Vec::new();
    for (what, f, s, target) in &rows {
        let ratio = s / f;
        let (target_text, met) = match target {
            Some((bound, true)) => (format!("≤ {bound}× empty"), Some(ratio <= *bound)),
            Some((bound, false)) => (format!("≤ {bound}"), Some(*s <= *bound)),
            None => (String::new(), None),
        };
        let met_text = match met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        md.push_str(&format!(
            "| {what} | {} | {} | {} | {target_text} | {met_text} |\n",
            fmt(*f),
            fmt(*s),
            if ratio.is_finite() { format!("{ratio:.2}") } else { "—".into() }
        ));
        json_rows
            .push(json!({"what": what, "empty": finite(*f), "sotto": finite(*s), "target": target_text, "met": met}));
    }
    md.push_str(
        "\nPSS: proportional set size summed over the app's process and its WebKit processes \
         (`/proc/PID/smaps_rollup`). Times run from the WebDriver request that launches the app. \
         Sotto's runs unlock by `SOTTO_PASSPHRASE`; models load on first use and are released \
         after `SOTTO_IDLE_RELEASE_SECS=10` here (5 minutes by default).\n",
    );
    print!("{md}");
    std::fs::write(out.with_extension("md"), &md).unwrap();
    let raw = json!({
        "commit": common::commit(),
        "rows": json_rows,
        "raw": {"empty": raw(&floor), "sotto": raw(&app)},
    });
    std::fs::write(out.with_extension("json"), serde_json::to_string_pretty(&raw).unwrap()).unwrap();
}

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x < 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.0}")
    }
}

fn finite(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn raw(f: &Figures) -> Value {
    json!({
        "mapped_ms": f.mapped_ms, "page_ready_ms": f.page_ready_ms, "view_ms": f.view_ms,
        "idle_pss_mb": f.idle_pss_mb, "dictation_pss_mb": f.dictation_pss_mb,
        "released_pss_mb": f.released_pss_mb, "ipc_ms": f.ipc_ms,
    })
}

async fn measure(subject: &Subject, runs: usize, mic: &mic::Daemon) -> Figures {
    let data = tempfile::tempdir().unwrap();
    let mut figures = Figures::default();
    for run in 0..=runs {
        let warm_up = run == 0;
        eprintln!(
            "==> {}: {}",
            subject.name,
            if warm_up { "warm-up".to_string() } else { format!("run {run}/{runs}") }
        );
        let launched = Launched::start(subject, data.path(), mic).await;
        if warm_up {
            launched.quit().await;
            continue;
        }
        figures.mapped_ms.extend(launched.mapped_ms);
        figures.page_ready_ms.push(launched.page_ready_ms);
        figures.view_ms.push(launched.view_ms);
        tokio::time::sleep(Duration::from_secs(5).saturating_sub(launched.launched.elapsed())).await;
        figures.idle_pss_mb.push(launched.pss_mb());
        figures.ipc_ms.push(launched.ipc_median_ms(subject.ping).await);
        if subject.is_sotto {
            launched.dictate(mic).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            figures.dictation_pss_mb.push(launched.pss_mb());
            tokio::time::sleep(Duration::from_secs(IDLE_RELEASE_SECS + 3)).await;
            figures.released_pss_mb.push(launched.pss_mb());
        }
        launched.quit().await;
    }
    figures
}

/// One launch of an app under tauri-driver.
struct Launched {
    client: Client,
    driver: Child,
    binary: PathBuf,
    launched: Instant,
    mapped_ms: Option<f64>,
    page_ready_ms: f64,
    view_ms: f64,
}

impl Launched {
    async fn start(subject: &Subject, data: &Path, mic: &mic::Daemon) -> Launched {
        let cache = std::env::var_os("SOTTO_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/sotto"));
        let (port, native_port) = (free_port(), free_port());
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        let driver = Command::new(home.join(".cargo/bin/tauri-driver"))
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .env("SOTTO_DATA_DIR", data)
            .env("SOTTO_MODELS_DIR", cache.join("models"))
            .env("SOTTO_CACHE", &cache)
            .env("SOTTO_PASSPHRASE", PASSPHRASE)
            .env("SOTTO_IDLE_RELEASE_SECS", IDLE_RELEASE_SECS.to_string())
            .env("PULSE_SERVER", mic.server())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: `quit` ends the driver, WebKitWebDriver and the app together.
            .process_group(0)
            .spawn()
            .expect("tauri-driver starts (bench/app/run installs it)");
        // The driver and its WebKitWebDriver listening first: their start is not the app's.
        let deadline = Instant::now() + Duration::from_secs(20);
        for port in [port, native_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "tauri-driver never listened on {port}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let caps = json!({"browserName": "wry", "tauri:options": {"application": subject.binary, "args": []}});
        let caps = caps.as_object().unwrap().clone();

        let launched = Instant::now();
        let epoch_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1e3;
        let watcher = MapWatcher::start(subject.title, launched);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session with {}: {e}", subject.binary.display()));
        client.wait().at_most(Duration::from_secs(60)).for_element(Locator::Css(subject.ready_css)).await.unwrap();
        let view_ms = common::ms(launched.elapsed());
        let load_end = client.execute("return performance.timing.loadEventEnd", vec![]).await.unwrap();
        let page_ready_ms = load_end.as_f64().expect("loadEventEnd") - epoch_ms;
        let mapped_ms = watcher.finish();
        Launched { client, driver, binary: subject.binary.clone(), launched, mapped_ms, page_ready_ms, view_ms }
    }

    /// PSS of the app and every process under it (WebKit's web and network processes), in MB.
    fn pss_mb(&self) -> f64 {
        let exe = self.binary.canonicalize().unwrap();
        let procs = processes();
        let roots: Vec<u32> =
            procs.iter().filter(|(_, p)| p.exe.as_deref() == Some(exe.as_path())).map(|(&pid, _)| pid).collect();
        assert_eq!(roots.len(), 1, "one {} running: {roots:?}", exe.display());
        let mut tree = roots.clone();
        let mut i = 0;
        while i < tree.len() {
            let parent = tree[i];
            tree.extend(procs.iter().filter(|(_, p)| p.ppid == parent).map(|(&pid, _)| pid));
            i += 1;
        }
        tree.iter().map(|pid| pss_kb(*pid)).sum::<u64>() as f64 / 1024.0
    }

    /// Median round trip of 1000 invokes of `command`, in ms (timed in the page).
    async fn ipc_median_ms(&self, command: &str) -> f64 {
        let script = r#"
            const [command, done] = arguments;
            (async () => {
              const invoke = window.__TAURI_INTERNALS__.invoke;
              for (let i = 0; i < 50; i++) await invoke(command);
              const times = [];
              for (let i = 0; i < 1000; i++) {
                const t = performance.now();
                await invoke(command);
                times.push(performance.now() - t);
              }
              times.sort((a, b) => a - b);
              done(times[500]);
            })().catch((e) => done(String(e)));
        "#;
        let median = self.client.execute_async(script, vec![json!(command)]).await.unwrap();
        median.as_f64().unwrap_or_else(|| panic!("the IPC loop failed: {median}"))
    }

    /// One dictation of JFK (11 s of real speech) through the virtual microphone, to the final text.
    async fn dictate(&self, mic: &mic::Daemon) {
        let find = |css: &'static str| async move {
            self.client.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(css)).await.unwrap()
        };
        find("[data-testid=nav-dictate]").await.click().await.unwrap();
        find("[data-testid=record-button]").await.click().await.unwrap();
        find("[data-testid=level-meter]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cache = std::env::var_os("SOTTO_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/sotto"));
        let played = Command::new("paplay")
            .env("PULSE_SERVER", mic.server())
            .arg("--device=vsink")
            .arg(cache.join("fixtures/jfk.wav"))
            .status()
            .unwrap();
        assert!(played.success(), "paplay played the speech");
        // Stopped a second after the speech (as tests/app/e2e.rs), then until the session ends.
        tokio::time::sleep(Duration::from_secs(1)).await;
        find("[data-testid=record-button]").await.click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let button = find("[data-testid=record-button]").await;
            if button.attr("data-state").await.ok().flatten().as_deref() == Some("idle") {
                break;
            }
            assert!(Instant::now() < deadline, "the dictation never ended");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = find("[data-testid=live-text]").await.text().await.unwrap_or_default().to_lowercase();
        assert!(text.contains("your country"), "not JFK's words: {text:?}");
    }

    async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        // tauri-driver leaves its WebKitWebDriver running when killed: end the whole group.
        let _ = Command::new("kill").args(["--", &format!("-{}", self.driver.id())]).status();
        let _ = self.driver.wait();
    }
}

/// Polls the X server for the window's map state from another thread.
struct MapWatcher {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<f64>>,
}

impl MapWatcher {
    fn start(title: &'static str, since: Instant) -> MapWatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let out = Command::new("xwininfo").args(["-name", title]).stderr(Stdio::null()).output();
                if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Map State: IsViewable")) {
                    return Some(common::ms(since.elapsed()));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            None
        });
        MapWatcher { stop, thread }
    }

    /// When the window was seen mapped (`None`: not by now).
    fn finish(self) -> Option<f64> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

struct Proc {
    ppid: u32,
    exe: Option<PathBuf>,
}

fn processes() -> HashMap<u32, Proc> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid …: comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else { continue };
        let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) else { continue };
        out.insert(pid, Proc { ppid, exe: std::fs::read_link(entry.path().join("exe")).ok() });
    }
    out
}

fn pss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("Pss:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()))
        })
        .flatten()
        .unwrap_or(0)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
