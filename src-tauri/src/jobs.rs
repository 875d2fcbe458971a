//! Long jobs (imports, model downloads): numbered, cancellable, and reported on the one channel
//! the page registers with `watch_jobs`. Events sent before the page listens (an import asked
//! for on the command line at start-up) are kept and replayed when it does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use sotto::cancel::CancelToken;
use tauri::ipc::Channel;

/// What a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum JobKind {
    /// An audio file becoming a note.
    Import,
    /// A model being downloaded.
    Download,
}

/// A job's news.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum JobEvent {
    /// Accepted; waits for its turn.
    Queued {
        /// Job id.
        id: u64,
        /// What it is.
        kind: JobKind,
        /// What to show (a file name, a model id).
        label: String,
    },
    /// Advancing.
    Progress {
        /// Job id.
        id: u64,
        /// 0 to 100.
        percent: u8,
        /// Bytes so far (downloads).
        bytes_done: Option<u64>,
        /// Bytes in all, if known (downloads).
        bytes_total: Option<u64>,
        /// Bytes per second (downloads).
        rate_bps: Option<f64>,
    },
    /// Finished.
    Done {
        /// Job id.
        id: u64,
        /// The note an import made.
        note_id: Option<i64>,
    },
    /// Failed; nothing half-made is left.
    Failed {
        /// Job id.
        id: u64,
        /// Stable error code (as commands' errors).
        code: String,
        /// What happened.
        message: String,
    },
    /// Cancelled by the user.
    Cancelled {
        /// Job id.
        id: u64,
    },
}

impl JobEvent {
    fn id(&self) -> u64 {
        match self {
            JobEvent::Queued { id, .. }
            | JobEvent::Progress { id, .. }
            | JobEvent::Done { id, .. }
            | JobEvent::Failed { id, .. }
            | JobEvent::Cancelled { id } => *id,
        }
    }

    fn is_last(&self) -> bool {
        matches!(self, JobEvent::Done { .. } | JobEvent::Failed { .. } | JobEvent::Cancelled { .. })
    }
}

/// Every job of the app.
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    running: Mutex<HashMap<u64, CancelToken>>,
    sink: Mutex<Sink>,
}

#[derive(Default)]
struct Sink {
    channel: Option<Channel<JobEvent>>,
    /// Each job's `Queued` event and its latest other event, replayed to a page that
    /// (re)registers.
    known: HashMap<u64, (JobEvent, Option<JobEvent>)>,
}

impl Jobs {
    /// A new job: its id and its cancel token; `Queued` is sent.
    pub fn start(&self, kind: JobKind, label: String) -> (u64, CancelToken) {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let cancel = CancelToken::new();
        self.running.lock().unwrap_or_else(|e| e.into_inner()).insert(id, cancel.clone());
        self.send(JobEvent::Queued { id, kind, label });
        (id, cancel)
    }

    /// Report on a job; its last event also forgets its cancel token.
    pub fn send(&self, event: JobEvent) {
        if event.is_last() {
            self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&event.id());
        }
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        match sink.known.get_mut(&event.id()) {
            Some((_, latest)) => *latest = Some(event.clone()),
            None => {
                sink.known.insert(event.id(), (event.clone(), None));
            }
        }
        if let Some(channel) = &sink.channel
            && channel.send(event).is_err()
        {
            sink.channel = None;
        }
    }

    /// Cancel a running job; false if there is none with that id.
    pub fn cancel(&self, id: u64) -> bool {
        match self.running.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Send every job's events to `channel` from now on, after what is known so far.
    pub fn watch(&self, channel: Channel<JobEvent>) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<u64> = sink.known.keys().copied().collect();
        ids.sort_unstable();
        for (queued, latest) in ids.iter().filter_map(|id| sink.known.get(id)) {
            let _ = channel.send(queued.clone());
            if let Some(latest) = latest {
                let _ = channel.send(latest.clone());
            }
        }
        sink.channel = Some(channel);
    }
}
