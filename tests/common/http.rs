//! A real HTTP/1.1 server on 127.0.0.1 with injectable faults, for download tests.
//!
//! Routes: `/ok/F`, `/drop/F` (first response dies a third of the way in), `/wrong/F` (one byte
//! flipped), `/missing/F` (404), `/flaky/F` (two 500s, then fine), `/norange/F` (first response
//! dies, later ones ignore Range and send everything), `/slow/F` (8 KiB every 20 ms),
//! `/long/F` (the body plus extra bytes).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request the server saw: path and the start of its Range, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub path: String,
    pub range_start: Option<u64>,
}

pub struct Server {
    pub base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves `body` at every path.
    pub fn start(body: Arc<Vec<u8>>) -> Server {
        Self::start_files(body, Vec::new())
    }

    /// Serves each of `files` at paths ending in its name, `body` at any other path.
    pub fn start_files(body: Arc<Vec<u8>>, files: Vec<(&str, Arc<Vec<u8>>)>) -> Server {
        let files: Arc<HashMap<String, Arc<Vec<u8>>>> =
            Arc::new(files.into_iter().map(|(name, bytes)| (name.to_string(), bytes)).collect());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let (h, s) = (hits.clone(), stop.clone());
        thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (body, files, hits, counts) = (body.clone(), files.clone(), h.clone(), counts.clone());
                        thread::spawn(move || {
                            let _ = serve(stream, &body, &files, &hits, &counts);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { base, hits, stop }
    }

    pub fn url(&self, route: &str, file: &str) -> String {
        format!("{}/{route}/{file}", self.base)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    mut stream: TcpStream,
    body: &[u8],
    files: &HashMap<String, Arc<Vec<u8>>>,
    hits: &Mutex<Vec<Hit>>,
    counts: &Mutex<HashMap<String, usize>>,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range_start = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            range_start = v.trim().trim_end_matches('-').split('-').next().and_then(|n| n.parse::<u64>().ok());
        }
    }
    hits.lock().unwrap().push(Hit { path: path.clone(), range_start });
    let route = path.split('/').nth(1).unwrap_or("").to_string();
    let nth = {
        let mut c = counts.lock().unwrap();
        let n = c.entry(path.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let body = path.rsplit('/').next().and_then(|name| files.get(name)).map_or(body, |file| &file[..]);
    let total = body.len() as u64;
    match route.as_str() {
        "missing" => return status(&mut stream, "404 Not Found"),
        "flaky" if nth <= 2 => return status(&mut stream, "500 Internal Server Error"),
        _ => {}
    }
    let ignore_range = route == "norange" && nth > 1;
    let start = if ignore_range { 0 } else { range_start.unwrap_or(0).min(total) };
    let mut data = body[start as usize..].to_vec();
    if route == "wrong" {
        let mid = (total / 2 - start.min(total / 2)) as usize;
        if mid < data.len() {
            data[mid] ^= 0xff;
        }
    }
    if route == "long" {
        data.extend_from_slice(b"trailing garbage that is not part of the model");
    }
    let head = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{total}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
            data.len(),
            total - 1
        )
    } else {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
            data.len()
        )
    };
    stream.write_all(head.as_bytes())?;
    let dies = (route == "drop" || route == "norange") && nth == 1;
    if dies {
        stream.write_all(&data[..data.len() / 3])?;
        stream.flush()?;
        return stream.shutdown(std::net::Shutdown::Both);
    }
    if route == "slow" {
        for chunk in data.chunks(8 * 1024) {
            stream.write_all(chunk)?;
            thread::sleep(Duration::from_millis(20));
        }
        return Ok(());
    }
    stream.write_all(&data)
}

fn status(stream: &mut TcpStream, line: &str) -> std::io::Result<()> {
    stream.write_all(format!("HTTP/1.1 {line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
}
