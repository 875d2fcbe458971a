//! The model downloader against a real HTTP server on 127.0.0.1 with injected faults.
//! After every fault: nothing partial or corrupt is ever installed; a good download installs.

mod common;
#[path = "common/http.rs"]
mod http;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::SmallDisk;
use http::Server;
use sha2::{Digest, Sha256};
use sotto::cancel::CancelToken;
use sotto::models::download::part_path;
use sotto::models::{Download, DownloadError, Downloader, Progress};

const FILE: &str = "ggml-tiny.en.bin";

/// The fixture model's bytes and SHA-256 (what the server serves).
fn model() -> &'static (Arc<Vec<u8>>, [u8; 32]) {
    static M: OnceLock<(Arc<Vec<u8>>, [u8; 32])> = OnceLock::new();
    M.get_or_init(|| {
        let bytes = std::fs::read(common::model_path()).unwrap();
        let sha: [u8; 32] = Sha256::digest(&bytes).into();
        (Arc::new(bytes), sha)
    })
}

fn request(urls: Vec<String>, dir: &Path) -> Download {
    let (bytes, sha) = model();
    Download {
        urls,
        dest: dir.join(FILE),
        exact_bytes: Some(bytes.len() as u64),
        estimated_bytes: bytes.len() as u64,
        sha256: Some(*sha),
        sha1: None,
        trust_unverified: false,
    }
}

fn downloader() -> Downloader {
    Downloader::default().with_retries(3, Duration::from_millis(10))
}

/// Collects progress events.
#[derive(Default, Clone)]
struct Events(Arc<Mutex<Vec<Progress>>>);

impl Events {
    fn sink(&self) -> impl Fn(Progress) + Send + Sync + use<> {
        let events = self.0.clone();
        move |p| events.lock().unwrap().push(p)
    }
    fn all(&self) -> Vec<Progress> {
        self.0.lock().unwrap().clone()
    }
}

async fn fetch(d: &Download, events: &Events) -> Result<PathBuf, DownloadError> {
    downloader().fetch(d, &events.sink(), &CancelToken::new()).await
}

/// Installed means: the file exists under its name, with the right bytes, and no leftovers.
fn assert_installed(dir: &Path) {
    let got = std::fs::read(dir.join(FILE)).expect("installed file");
    assert_eq!(Sha256::digest(&got).as_slice(), model().1, "installed bytes are the model");
    assert!(!part_path(&dir.join(FILE)).exists(), "no .part left");
}

fn assert_nothing_installed(dir: &Path) {
    assert!(!dir.join(FILE).exists(), "nothing may be installed");
}

#[tokio::test]
async fn good_download_installs_with_progress() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let events = Events::default();
    let path = fetch(&request(vec![server.url("ok", FILE)], dir.path()), &events).await.unwrap();
    assert_eq!(path, dir.path().join(FILE));
    assert_installed(dir.path());
    let all = events.all();
    assert_eq!(all.last(), Some(&Progress::Installed));
    assert!(all.contains(&Progress::Verifying));
    let Some(Progress::Bytes { done, total, .. }) = all.iter().rev().find(|p| matches!(p, Progress::Bytes { .. }))
    else {
        panic!("no byte progress: {all:?}");
    };
    assert_eq!((*done, *total), (model().0.len() as u64, Some(model().0.len() as u64)));
    assert!(!dir.path().join(format!("{FILE}.lock")).exists(), "lock file cleaned up");
}

#[tokio::test]
async fn dropped_connection_resumes_with_range() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let events = Events::default();
    fetch(&request(vec![server.url("drop", FILE)], dir.path()), &events).await.unwrap();
    assert_installed(dir.path());
    let hits = server.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    let resumed_at = hits[1].range_start.expect("the second request resumes with Range");
    assert!(resumed_at > 0 && resumed_at < model().0.len() as u64);
    assert!(events.all().iter().any(|p| matches!(p, Progress::Retrying { attempt: 1, .. })));
}

#[tokio::test]
async fn wrong_bytes_are_never_installed() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(&request(vec![server.url("wrong", FILE)], dir.path()), &Events::default()).await.unwrap_err();
    assert!(matches!(err, DownloadError::Checksum { .. }), "{err:?}");
    assert_nothing_installed(dir.path());
    assert!(!part_path(&dir.path().join(FILE)).exists(), "corrupt bytes are deleted");
    // Wrong bytes from one mirror, then a mirror that cannot be reached: the wrong bytes are
    // what the user hears about.
    let unreachable = "http://127.0.0.1:9/".to_string() + FILE;
    let err = fetch(&request(vec![server.url("wrong", FILE), unreachable], dir.path()), &Events::default())
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::Checksum { .. }), "{err:?}");
    // A good mirror afterwards installs.
    fetch(&request(vec![server.url("ok", FILE)], dir.path()), &Events::default()).await.unwrap();
    assert_installed(dir.path());
}

#[tokio::test]
async fn not_found_falls_through_to_the_next_mirror() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(&request(vec![server.url("missing", FILE)], dir.path()), &Events::default()).await.unwrap_err();
    assert!(matches!(err, DownloadError::Http { status: 404, .. }), "{err:?}");
    assert_eq!(server.hits().len(), 1, "a 404 is not retried");
    assert_nothing_installed(dir.path());
    fetch(&request(vec![server.url("missing", FILE), server.url("ok", FILE)], dir.path()), &Events::default())
        .await
        .unwrap();
    assert_installed(dir.path());
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let events = Events::default();
    fetch(&request(vec![server.url("flaky", FILE)], dir.path()), &events).await.unwrap();
    assert_installed(dir.path());
    let waits: Vec<u64> = events
        .all()
        .iter()
        .filter_map(|p| if let Progress::Retrying { wait_ms, .. } = p { Some(*wait_ms) } else { None })
        .collect();
    assert_eq!(waits, vec![10, 20], "two retries, doubling back-off");

    // Bounded: a server that keeps failing is given up on.
    let always = Downloader::default().with_retries(1, Duration::from_millis(1));
    let dir2 = tempfile::tempdir().unwrap();
    let server2 = Server::start(model().0.clone());
    let err = always
        .fetch(&request(vec![server2.url("flaky", FILE)], dir2.path()), &|_| {}, &CancelToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::Http { status: 500, .. }), "{err:?}");
    assert_eq!(server2.hits().len(), 2);
    assert_nothing_installed(dir2.path());
}

#[tokio::test]
async fn a_server_ignoring_range_restarts_cleanly() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    fetch(&request(vec![server.url("norange", FILE)], dir.path()), &Events::default()).await.unwrap();
    assert_installed(dir.path());
    assert!(server.hits()[1].range_start.is_some(), "resume was asked for and refused");
}

#[tokio::test]
async fn too_many_bytes_are_refused() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(&request(vec![server.url("long", FILE)], dir.path()), &Events::default()).await.unwrap_err();
    assert!(matches!(err, DownloadError::TooLarge { .. }), "{err:?}");
    assert_nothing_installed(dir.path());
}

#[tokio::test]
async fn slow_download_cancels_promptly_and_resumes_later() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancelToken::new();
    let trip = cancel.clone();
    let d = request(vec![server.url("slow", FILE)], dir.path());
    // Cancel once some bytes have arrived.
    let sink = move |p: Progress| {
        if let Progress::Bytes { done, .. } = p
            && done > 100_000
        {
            trip.cancel();
        }
    };
    let started = std::time::Instant::now();
    let err = downloader().fetch(&d, &sink, &cancel).await.unwrap_err();
    assert!(matches!(err, DownloadError::Cancelled), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "cancel is prompt: {:?}", started.elapsed());
    assert_nothing_installed(dir.path());
    let kept = std::fs::metadata(part_path(&d.dest)).expect("partial kept for resuming").len();
    assert!(kept > 100_000);

    fetch(&request(vec![server.url("ok", FILE)], dir.path()), &Events::default()).await.unwrap();
    assert_installed(dir.path());
    let last = server.hits().last().cloned().unwrap();
    assert_eq!(last.range_start, Some(kept), "the second run resumed the kept bytes");
}

#[tokio::test]
async fn unverified_files_need_explicit_trust() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut d = request(vec![server.url("ok", FILE)], dir.path());
    d.sha256 = None;
    let err = fetch(&d, &Events::default()).await.unwrap_err();
    assert!(matches!(err, DownloadError::Unverified { .. }), "{err:?}");
    assert!(server.hits().is_empty(), "nothing is even requested");
    d.trust_unverified = true;
    fetch(&d, &Events::default()).await.unwrap();
    assert_installed(dir.path());
}

#[tokio::test]
async fn one_writer_per_file_but_files_in_parallel() {
    let server = Server::start(model().0.clone());
    let dir = tempfile::tempdir().unwrap();
    let same = request(vec![server.url("slow", FILE)], dir.path());
    let dl = downloader();
    let cancel = CancelToken::new();
    let first = {
        let (dl, same, cancel) = (dl.clone(), same.clone(), cancel.clone());
        tokio::spawn(async move { dl.fetch(&same, &|_| {}, &cancel).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = dl.fetch(&same, &|_| {}, &CancelToken::new()).await.unwrap_err();
    assert!(matches!(second, DownloadError::Busy { .. }), "{second:?}");
    cancel.cancel();
    assert!(matches!(first.await.unwrap(), Err(DownloadError::Cancelled)));

    // Two different files at once both install.
    let other_dir = tempfile::tempdir().unwrap();
    let a = request(vec![server.url("ok", FILE)], dir.path());
    let b = request(vec![server.url("ok", FILE)], other_dir.path());
    let (ca, cb) = (CancelToken::new(), CancelToken::new());
    let (ra, rb) = tokio::join!(dl.fetch(&a, &|_| {}, &ca), dl.fetch(&b, &|_| {}, &cb));
    ra.unwrap();
    rb.unwrap();
    assert_installed(dir.path());
    assert_installed(other_dir.path());
}

#[tokio::test]
async fn full_disk_is_refused_up_front_or_mid_write() {
    let server = Server::start(model().0.clone());
    let disk = SmallDisk::mount("16m");
    let dir = disk.path();
    let err = fetch(&request(vec![server.url("ok", FILE)], dir), &Events::default()).await.unwrap_err();
    assert!(matches!(err, DownloadError::DiskFull { .. }), "{err:?}");
    assert!(server.hits().is_empty(), "refused before downloading");

    // A manifest that underestimates the size: the disk fills mid-write.
    let mut d = request(vec![server.url("ok", FILE)], dir);
    d.exact_bytes = None;
    d.estimated_bytes = 1_000_000;
    let err = fetch(&d, &Events::default()).await.unwrap_err();
    assert!(matches!(err, DownloadError::DiskFull { .. }), "{err:?}");
    assert_nothing_installed(dir);
}
