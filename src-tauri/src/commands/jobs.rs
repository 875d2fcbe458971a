//! Imports and the job list.

use std::path::PathBuf;

use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::error::{AppError, AppResult};
use crate::jobs::JobEvent;
use crate::state::AppState;

/// Send every job's events to `on_event` (jobs already known are replayed first).
#[tauri::command]
pub fn watch_jobs(state: State<'_, AppState>, on_event: Channel<JobEvent>) {
    state.jobs.watch(on_event);
}

/// Import audio files as notes; one job id per file.
#[tauri::command]
pub fn import_files(app: AppHandle, state: State<'_, AppState>, paths: Vec<PathBuf>) -> AppResult<Vec<u64>> {
    if !state.is_unlocked() {
        return Err(AppError::Locked);
    }
    Ok(crate::imports::queue(&app, paths))
}

/// Cancel a job (queued or running).
#[tauri::command]
pub fn cancel_job(state: State<'_, AppState>, id: u64) -> AppResult<()> {
    if state.jobs.cancel(id) { Ok(()) } else { Err(AppError::NotFound(format!("no running job {id}"))) }
}
