//! Resumable, verified model downloads: HTTP Range resume, SHA-256 while streaming, a temporary
//! `.part` file renamed into place only after verification, one writer per file.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, RANGE};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::cancel::CancelToken;

/// One file to fetch.
#[derive(Debug, Clone)]
pub struct Download {
    /// Mirrors, tried in order.
    pub urls: Vec<String>,
    /// Where the verified file ends up.
    pub dest: PathBuf,
    /// Exact size, when known: more bytes than this is an error.
    pub exact_bytes: Option<u64>,
    /// Size for the free-space check (exact or estimated).
    pub estimated_bytes: u64,
    /// Expected SHA-256; `None` only with `trust_unverified`.
    pub sha256: Option<[u8; 32]>,
    /// Upstream SHA-1, checked too when present.
    pub sha1: Option<[u8; 20]>,
    /// Install without a SHA-256: only when the user said so explicitly.
    pub trust_unverified: bool,
}

/// What a download reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// Bytes on disk so far (including a resumed prefix).
    Bytes {
        /// Bytes written.
        done: u64,
        /// Expected total, if known.
        total: Option<u64>,
        /// Recent rate in bytes per second.
        rate: f64,
        /// Seconds left at that rate, if the total is known.
        eta_secs: Option<f64>,
    },
    /// A transfer failed and will be retried (resuming where it stopped).
    Retrying {
        /// Which retry this is (1-based).
        attempt: u32,
        /// Wait before it (ms).
        wait_ms: u64,
        /// Why.
        reason: String,
    },
    /// Checking the whole file.
    Verifying,
    /// Verified and in place.
    Installed,
}

/// Why a download did not install a file.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// No SHA-256 to check against and the user did not opt in.
    #[error(
        "{file} has no known SHA-256; refusing to install an unverified file (pass --trust-unverified to accept it)"
    )]
    Unverified {
        /// File name.
        file: String,
    },
    /// No http(s) source.
    #[error("{file} has no download URL; it is built locally (see models/README.md)")]
    NoSource {
        /// File name.
        file: String,
    },
    /// Another download is writing this file.
    #[error("{file} is already being downloaded")]
    Busy {
        /// File name.
        file: String,
    },
    /// Not enough free space.
    #[error("not enough disk space: {needed} bytes needed, {available} available")]
    DiskFull {
        /// Bytes needed.
        needed: u64,
        /// Bytes free.
        available: u64,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}")]
    Http {
        /// URL.
        url: String,
        /// Status code.
        status: u16,
    },
    /// Connection problems that outlasted the retries.
    #[error("{url}: {detail}")]
    Network {
        /// URL.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The bytes are not the file the manifest describes.
    #[error("{file}: checksum mismatch (expected {expected}, got {actual}); nothing was installed")]
    Checksum {
        /// File name.
        file: String,
        /// Expected hex digest.
        expected: String,
        /// Actual hex digest.
        actual: String,
    },
    /// The server sent more bytes than the file has.
    #[error("{url}: sent more than the expected {expected} bytes")]
    TooLarge {
        /// URL.
        url: String,
        /// Expected size.
        expected: u64,
    },
    /// The caller cancelled.
    #[error("download cancelled (the partial file is kept for resuming)")]
    Cancelled,
    /// Local file system trouble.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// Retry and timeout policy, and the HTTP client.
#[derive(Debug, Clone)]
pub struct Downloader {
    client: reqwest::Client,
    /// Retries per URL after the first attempt.
    pub retries: u32,
    /// First back-off; doubles each retry.
    pub backoff: Duration,
    /// No byte for this long counts as a dropped connection.
    pub stall_timeout: Duration,
}

impl Default for Downloader {
    fn default() -> Self {
        Self {
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .user_agent(concat!("sotto/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a TLS client can be built"),
            retries: 4,
            backoff: Duration::from_millis(500),
            stall_timeout: Duration::from_secs(30),
        }
    }
}

/// One attempt's outcome when it is not success.
enum Failure {
    /// Worth retrying the same URL (connection dropped, 5xx, stall).
    Retry(DownloadError),
    /// Try the next URL (404, 403, too large).
    NextUrl(DownloadError),
    /// Stop everything (cancelled, disk full, local I/O).
    Stop(DownloadError),
}

/// Hashes of the bytes in the `.part` file so far.
struct Hashes {
    sha256: Sha256,
    sha1: Sha1,
    len: u64,
}

impl Hashes {
    fn new() -> Self {
        Self { sha256: Sha256::new(), sha1: Sha1::new(), len: 0 }
    }
    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.sha1.update(bytes);
        self.len += bytes.len() as u64;
    }
    /// Hash an existing prefix (a resume after a restart of the app).
    fn of_file(path: &Path) -> std::io::Result<Self> {
        let mut hashes = Self::new();
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(hashes),
            Err(e) => return Err(e),
        };
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match file.read(&mut buf)? {
                0 => return Ok(hashes),
                n => hashes.update(&buf[..n]),
            }
        }
    }
}

/// The error a failed download reports, of those its URLs gave: a mirror that served the wrong
/// bytes says more than a later one that could not be reached (an offline machine with a local
/// mirror would otherwise hear only "no network").
fn keep_worst(last: &mut Option<DownloadError>, e: DownloadError) {
    if !matches!(last, Some(DownloadError::Checksum { .. })) {
        *last = Some(e);
    }
}

/// `<dest>.part`: where bytes go until verified.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

fn lock_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    dest.with_file_name(name)
}

impl Downloader {
    /// The same client with another retry policy.
    pub fn with_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.retries = retries;
        self.backoff = backoff;
        self
    }

    /// Fetch, verify and install `d.dest`. Concurrent calls for different files are fine; a
    /// second writer of the same file gets [`DownloadError::Busy`].
    pub async fn fetch(
        &self,
        d: &Download,
        on_progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancelToken,
    ) -> Result<PathBuf, DownloadError> {
        let file = d.dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if d.sha256.is_none() && !d.trust_unverified {
            return Err(DownloadError::Unverified { file });
        }
        if d.urls.is_empty() {
            return Err(DownloadError::NoSource { file });
        }
        let dir = d.dest.parent().unwrap_or(Path::new(".")).to_path_buf();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DownloadError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;

        // One writer per file, across threads and processes: an exclusive lock on a side file.
        let lock_file = lock_path(&d.dest);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_file).map_err(io(&lock_file))?;
        if lock.try_lock().is_err() {
            return Err(DownloadError::Busy { file });
        }
        let result = self.fetch_locked(d, &file, &dir, on_progress, cancel).await;
        drop(lock);
        let _ = std::fs::remove_file(&lock_file);
        result
    }

    async fn fetch_locked(
        &self,
        d: &Download,
        file: &str,
        dir: &Path,
        on_progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancelToken,
    ) -> Result<PathBuf, DownloadError> {
        let part = part_path(&d.dest);
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let needed = d.estimated_bytes.saturating_sub(have);
        let available =
            fs4::available_space(dir).map_err(|source| DownloadError::Io { path: dir.to_path_buf(), source })?;
        // Keep a little headroom: a full disk breaks everything else on the device too.
        if available < needed + (1 << 20) {
            return Err(DownloadError::DiskFull { needed, available });
        }

        let mut hashes = Hashes::of_file(&part).map_err(|source| DownloadError::Io { path: part.clone(), source })?;
        let mut last = None;
        for url in &d.urls {
            let mut attempt = 0u32;
            let mut restarted = false;
            loop {
                if cancel.is_cancelled() {
                    return Err(DownloadError::Cancelled);
                }
                match self.attempt(url, d, &part, &mut hashes, on_progress, cancel).await {
                    Ok(()) => {
                        on_progress(Progress::Verifying);
                        match verify(d, file, &hashes) {
                            Ok(()) => {
                                install(&part, &d.dest)?;
                                on_progress(Progress::Installed);
                                return Ok(d.dest.clone());
                            }
                            Err(e) => {
                                let _ = std::fs::remove_file(&part);
                                hashes = Hashes::new();
                                // A resumed prefix may have been the bad part: one clean retry.
                                if !restarted {
                                    restarted = true;
                                    continue;
                                }
                                last = Some(e);
                                break;
                            }
                        }
                    }
                    Err(Failure::Stop(e)) => return Err(e),
                    Err(Failure::NextUrl(e)) => {
                        keep_worst(&mut last, e);
                        break;
                    }
                    Err(Failure::Retry(e)) => {
                        attempt += 1;
                        if attempt > self.retries {
                            keep_worst(&mut last, e);
                            break;
                        }
                        let wait = self.backoff * 2u32.saturating_pow(attempt - 1);
                        on_progress(Progress::Retrying {
                            attempt,
                            wait_ms: wait.as_millis() as u64,
                            reason: e.to_string(),
                        });
                        sleep_unless_cancelled(wait, cancel).await?;
                    }
                }
            }
        }
        Err(last.expect("at least one URL was tried"))
    }

    /// One HTTP request, appending to `part` from where it ends.
    async fn attempt(
        &self,
        url: &str,
        d: &Download,
        part: &Path,
        hashes: &mut Hashes,
        on_progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancelToken,
    ) -> Result<(), Failure> {
        let io_stop = |source: std::io::Error| Failure::Stop(io_error(part, source));
        let mut have = hashes.len;
        if let Some(exact) = d.exact_bytes {
            if have == exact {
                return Ok(());
            }
            if have > exact {
                truncate(part).map_err(io_stop)?;
                *hashes = Hashes::new();
                have = 0;
            }
        }
        let mut request = self.client.get(url);
        if have > 0 {
            request = request.header(RANGE, format!("bytes={have}-"));
        }
        let network = |e: reqwest::Error| DownloadError::Network { url: url.to_string(), detail: error_chain(&e) };
        let response = tokio::select! {
            r = request.send() => r.map_err(|e| Failure::Retry(network(e)))?,
            _ = wait_cancel(cancel) => return Err(Failure::Stop(DownloadError::Cancelled)),
        };
        let status = response.status();
        match status {
            StatusCode::PARTIAL_CONTENT => {
                let start = response
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if start != Some(have) {
                    truncate(part).map_err(io_stop)?;
                    *hashes = Hashes::new();
                    return Err(Failure::Retry(DownloadError::Network {
                        url: url.into(),
                        detail: "the server resumed at the wrong offset".into(),
                    }));
                }
            }
            StatusCode::OK => {
                // The server ignored the Range header: start over from byte 0.
                if have > 0 {
                    truncate(part).map_err(io_stop)?;
                    *hashes = Hashes::new();
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                truncate(part).map_err(io_stop)?;
                *hashes = Hashes::new();
                return Err(Failure::Retry(DownloadError::Http { url: url.into(), status: status.as_u16() }));
            }
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT || s == StatusCode::TOO_MANY_REQUESTS => {
                return Err(Failure::Retry(DownloadError::Http { url: url.into(), status: s.as_u16() }));
            }
            s => return Err(Failure::NextUrl(DownloadError::Http { url: url.into(), status: s.as_u16() })),
        }

        let total = d.exact_bytes.or_else(|| response.content_length().map(|n| n + hashes.len));
        let mut out = OpenOptions::new().create(true).append(true).open(part).map_err(io_stop)?;
        let mut stream = response.bytes_stream();
        let started = Instant::now();
        let start_len = hashes.len;
        let mut last_report = Instant::now() - Duration::from_secs(1);
        let mut last_byte = Instant::now();
        loop {
            let next = tokio::select! {
                n = tokio::time::timeout(Duration::from_millis(100), stream.next()) => n,
                _ = wait_cancel(cancel) => return Err(Failure::Stop(DownloadError::Cancelled)),
            };
            let chunk = match next {
                Err(_) if last_byte.elapsed() >= self.stall_timeout => {
                    return Err(Failure::Retry(DownloadError::Network {
                        url: url.into(),
                        detail: "the transfer stalled".into(),
                    }));
                }
                Err(_) => continue,
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    out.sync_data().map_err(io_stop)?;
                    return Err(Failure::Retry(network(e)));
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            last_byte = Instant::now();
            if let Some(exact) = d.exact_bytes
                && hashes.len + chunk.len() as u64 > exact
            {
                drop(out);
                truncate(part).map_err(io_stop)?;
                *hashes = Hashes::new();
                return Err(Failure::NextUrl(DownloadError::TooLarge { url: url.into(), expected: exact }));
            }
            if let Err(e) = out.write_all(&chunk) {
                return Err(Failure::Stop(disk_error(part, e, d.estimated_bytes.saturating_sub(hashes.len))));
            }
            hashes.update(&chunk);
            if last_report.elapsed() >= Duration::from_millis(100) {
                last_report = Instant::now();
                on_progress(bytes_progress(hashes.len, total, hashes.len - start_len, started.elapsed()));
            }
        }
        out.sync_all().map_err(|e| Failure::Stop(disk_error(part, e, 0)))?;
        on_progress(bytes_progress(hashes.len, total, hashes.len - start_len, started.elapsed()));
        // A clean end of stream short of the known size is a dropped connection in disguise.
        if let Some(exact) = d.exact_bytes
            && hashes.len < exact
        {
            return Err(Failure::Retry(DownloadError::Network {
                url: url.into(),
                detail: format!("the connection closed after {} of {exact} bytes", hashes.len),
            }));
        }
        Ok(())
    }
}

fn bytes_progress(done: u64, total: Option<u64>, this_run: u64, elapsed: Duration) -> Progress {
    let rate = this_run as f64 / elapsed.as_secs_f64().max(1e-3);
    let eta_secs = total.filter(|_| rate > 0.0).map(|t| t.saturating_sub(done) as f64 / rate);
    Progress::Bytes { done, total, rate, eta_secs }
}

fn verify(d: &Download, file: &str, hashes: &Hashes) -> Result<(), DownloadError> {
    let check = |expected: &[u8], actual: &[u8]| {
        if actual == expected {
            Ok(())
        } else {
            Err(DownloadError::Checksum {
                file: file.into(),
                expected: hex::encode(expected),
                actual: hex::encode(actual),
            })
        }
    };
    if let Some(expected) = d.sha256 {
        check(&expected, &hashes.sha256.clone().finalize())?;
    }
    if let Some(expected) = d.sha1 {
        check(&expected, &hashes.sha1.clone().finalize())?;
    }
    Ok(())
}

/// Rename the verified file into place and make the rename durable.
fn install(part: &Path, dest: &Path) -> Result<(), DownloadError> {
    std::fs::rename(part, dest).map_err(|source| io_error(dest, source))?;
    if let Some(dir) = dest.parent() {
        // Directory fsync makes the rename survive a power cut; not supported everywhere.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn truncate(path: &Path) -> std::io::Result<()> {
    match OpenOptions::new().write(true).truncate(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> DownloadError {
    DownloadError::Io { path: path.to_path_buf(), source }
}

fn disk_error(path: &Path, e: std::io::Error, needed: u64) -> DownloadError {
    if e.kind() == ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
        let available = path.parent().and_then(|d| fs4::available_space(d).ok()).unwrap_or(0);
        DownloadError::DiskFull { needed, available }
    } else {
        io_error(path, e)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

async fn wait_cancel(cancel: &CancelToken) {
    while !cancel.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sleep_unless_cancelled(wait: Duration, cancel: &CancelToken) -> Result<(), DownloadError> {
    tokio::select! {
        _ = tokio::time::sleep(wait) => Ok(()),
        _ = wait_cancel(cancel) => Err(DownloadError::Cancelled),
    }
}
