//! Audio files becoming notes: from the file dialog, a drop on the window, `sotto-app FILE…`
//! or "Open with" (forwarded to the running app). One job per file, run one at a time.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sotto::asr::{Job, TranscribeOptions};
use sotto::cancel::CancelToken;
use tauri::{AppHandle, Manager};

use crate::error::{AppError, AppResult};
use crate::jobs::{JobEvent, JobKind};
use crate::state::AppState;

/// Queue `paths` for import; returns their job ids. Before the unlock they wait for it (no job
/// exists yet, and the empty list comes back).
pub fn queue(app: &AppHandle, paths: Vec<PathBuf>) -> Vec<u64> {
    let state = app.state::<AppState>();
    if !state.is_unlocked() {
        state.wait_to_import(paths);
        return Vec::new();
    }
    paths
        .into_iter()
        .map(|path| {
            let label =
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let (id, cancel) = state.jobs.start(JobKind::Import, label.clone());
            state.import_lane.join(id);
            let app = app.clone();
            // A thread per queued file, waiting for the lane: cheap, and cancel works while queued.
            let spawned = std::thread::Builder::new()
                .name(format!("sotto-import-{id}"))
                .spawn(move || run(&app, id, &cancel, &path, &label));
            if let Err(e) = spawned {
                state.jobs.send(JobEvent::Failed { id, code: "internal".into(), message: e.to_string() });
            }
            id
        })
        .collect()
}

/// After an unlock: recordings a crash interrupted become notes, then the files that waited.
pub fn after_unlock(app: &AppHandle) {
    // Dictations older than the history keeps go, even if nothing is dictated today.
    if let Ok(library) = app.state::<AppState>().library()
        && let Err(e) = library.prune_dictations()
    {
        tracing::warn!("the dictation history cannot be pruned: {e}");
    }
    let recovering = app.clone();
    let _ = std::thread::Builder::new().name("sotto-recover".into()).spawn(move || recover(&recovering));
    let waiting = app.state::<AppState>().take_waiting_imports();
    if !waiting.is_empty() {
        queue(app, waiting);
    }
}

/// Turn interrupted recordings (a crash or kill during dictation) into notes, as an import job.
fn recover(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Ok(library) = state.library() else { return };
    let pending = match library.interrupted() {
        Ok(pending) => pending.into_iter().filter(|p| p.error.is_none()).count(),
        Err(e) => {
            tracing::warn!("cannot look for interrupted recordings: {e}");
            return;
        }
    };
    if pending == 0 {
        return;
    }
    let (id, cancel) = state.jobs.start(JobKind::Import, format!("{pending} interrupted recording(s)"));
    state.import_lane.join(id);
    let Some(_turn) = state.import_lane.wait_turn(id, &cancel) else {
        state.jobs.send(JobEvent::Cancelled { id });
        return;
    };
    let recovered = library.settings().map_err(AppError::from).and_then(|settings| {
        let transcriber = state.speech.get(settings.model.as_deref())?;
        Ok(library.recover_interrupted(&transcriber, &TranscribeOptions::default())?)
    });
    state.jobs.send(match recovered {
        Ok(ids) => JobEvent::Done { id, note_id: ids.first().copied() },
        Err(e) => JobEvent::Failed { id, code: e.code().into(), message: e.to_string() },
    });
}

fn run(app: &AppHandle, id: u64, cancel: &CancelToken, path: &std::path::Path, label: &str) {
    let state = app.state::<AppState>();
    let turn = state.import_lane.wait_turn(id, cancel);
    let started = Instant::now();
    let event = if turn.is_none() || cancel.is_cancelled() {
        JobEvent::Cancelled { id }
    } else {
        match transcribe(app, id, cancel, path) {
            Ok(note_id) => JobEvent::Done { id, note_id: Some(note_id) },
            Err(e) if e.code() == "cancelled" => JobEvent::Cancelled { id },
            Err(e) => {
                tracing::warn!("import {id} failed: {e}");
                JobEvent::Failed { id, code: e.code().into(), message: e.to_string() }
            }
        }
    };
    if let Some((title, body)) = notice(&event, label, started.elapsed(), window_out_of_sight(app)) {
        use tauri_plugin_notification::NotificationExt;
        if let Err(e) = app.notification().builder().title(title).body(body).show() {
            tracing::warn!("cannot show a notification: {e}");
        }
    }
    state.jobs.send(event);
}

/// Imports take turns in the order they were queued (whisper already uses every core).
#[derive(Default)]
pub struct Lane {
    queue: Mutex<VecDeque<u64>>,
    turn: Condvar,
}

/// A job's turn in the [`Lane`]; the next job's begins when it is dropped.
pub struct Turn<'l> {
    lane: &'l Lane,
    id: u64,
}

impl Lane {
    /// Queue job `id` behind the jobs already queued.
    pub fn join(&self, id: u64) {
        self.lock().push_back(id);
    }

    /// Wait for job `id`'s turn; `None` (and out of the queue) once `cancel` is set first.
    pub fn wait_turn(&self, id: u64, cancel: &CancelToken) -> Option<Turn<'_>> {
        let mut queue = self.lock();
        loop {
            if queue.front() == Some(&id) {
                return Some(Turn { lane: self, id });
            }
            if cancel.is_cancelled() || !queue.contains(&id) {
                queue.retain(|&queued| queued != id);
                self.turn.notify_all();
                return None;
            }
            // Woken when a turn ends; the timeout notices a cancel while waiting.
            queue = self.turn.wait_timeout(queue, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<u64>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.lane.lock().retain(|&queued| queued != self.id);
        self.lane.turn.notify_all();
    }
}

/// Imports shorter than this end while the user still looks: no notification.
const LONG_IMPORT: Duration = Duration::from_secs(10);

/// Whether the main window is hidden, minimised or behind another app's.
fn window_out_of_sight(app: &AppHandle) -> bool {
    app.get_webview_window("main").is_none_or(|w| {
        !w.is_visible().unwrap_or(false) || w.is_minimized().unwrap_or(false) || !w.is_focused().unwrap_or(false)
    })
}

/// The desktop notification (title, body) for an import's end: only a long one, finished or
/// failed (a cancel was the user's own doing) while the window is out of sight.
fn notice(event: &JobEvent, label: &str, took: Duration, out_of_sight: bool) -> Option<(String, String)> {
    if !out_of_sight || took < LONG_IMPORT {
        return None;
    }
    match event {
        JobEvent::Done { .. } => Some(("Import finished".into(), format!("{label} is now a note."))),
        JobEvent::Failed { message, .. } => Some(("Import failed".into(), format!("{label}: {message}"))),
        _ => None,
    }
}

fn transcribe(app: &AppHandle, id: u64, cancel: &CancelToken, path: &std::path::Path) -> AppResult<i64> {
    let state = app.state::<AppState>();
    let library = state.library()?;
    let settings = library.settings()?;
    let transcriber = state.speech.get(settings.model.as_deref())?;
    state.jobs.send(JobEvent::Progress { id, percent: 0, bytes_done: None, bytes_total: None, rate_bps: None });
    let progress_app = app.clone();
    let job = Job {
        cancel: cancel.clone(),
        on_progress: Some(Arc::new(move |percent| {
            let state = progress_app.state::<AppState>();
            state.speech.touch();
            state.jobs.send(JobEvent::Progress { id, percent, bytes_done: None, bytes_total: None, rate_bps: None });
        })),
        ..Job::default()
    };
    let options = TranscribeOptions { language: settings.language.clone(), ..TranscribeOptions::default() };
    Ok(library.add_audio_file(path, &transcriber, &options, &job)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_long_import_that_ends_out_of_sight_is_notified() {
        let done = JobEvent::Done { id: 1, note_id: Some(7) };
        let long = LONG_IMPORT + Duration::from_secs(1);
        assert_eq!(
            notice(&done, "talk.ogg", long, true),
            Some(("Import finished".to_string(), "talk.ogg is now a note.".to_string()))
        );
        assert_eq!(notice(&done, "talk.ogg", long, false), None, "the user is looking at the window");
        assert_eq!(notice(&done, "talk.ogg", Duration::from_secs(3), true), None, "a short import");
        let failed = JobEvent::Failed { id: 1, code: "audio".into(), message: "not audio".into() };
        assert_eq!(notice(&failed, "x.txt", long, true).unwrap().1, "x.txt: not audio");
        assert_eq!(notice(&JobEvent::Cancelled { id: 1 }, "x", long, true), None, "the user cancelled it");
    }

    #[test]
    fn imports_take_turns_in_the_order_they_were_queued_and_a_cancel_leaves_the_queue() {
        let lane = Arc::new(Lane::default());
        for id in 1..=3 {
            lane.join(id);
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let cancel_two = CancelToken::new();
        // Started last first: the turns still go 1, then 3 (2 is cancelled while waiting).
        let threads: Vec<_> = [3u64, 2, 1]
            .into_iter()
            .map(|id| {
                let (lane, order, cancel) =
                    (lane.clone(), order.clone(), if id == 2 { cancel_two.clone() } else { CancelToken::new() });
                std::thread::spawn(move || {
                    if id == 1 {
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    let turn = lane.wait_turn(id, &cancel);
                    order.lock().unwrap().push((id, turn.is_some()));
                    std::thread::sleep(Duration::from_millis(50));
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        cancel_two.cancel();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [(2, false), (1, true), (3, true)]);
    }
}
