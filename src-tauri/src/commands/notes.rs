//! The notes and search views: list, open, edit, tag, delete, export, play, search.

use std::path::PathBuf;

use serde::Serialize;
use sotto::export::NoteFormat;
use sotto::notes::{Hit, SearchMode};
use sotto::store::{ListOptions, NewNote, Note, NoteEdit, NoteSummary, Source, StoredRecording};
use tauri::State;
use tauri::ipc::Response;

use super::blocking;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A note with what the detail view shows beside it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteDetail {
    /// The note.
    pub note: Note,
    /// Its audio, if it has any.
    pub recording: Option<StoredRecording>,
}

/// A tag and how many notes carry it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// Notes with it.
    pub count: u64,
}

/// Notes in the order and page asked for.
#[tauri::command]
pub async fn list_notes(state: State<'_, AppState>, options: ListOptions) -> AppResult<Vec<NoteSummary>> {
    let library = state.library()?;
    blocking(move || Ok(library.list_notes(&options)?)).await
}

/// One note and its recording's facts.
#[tauri::command]
pub async fn get_note(state: State<'_, AppState>, id: i64) -> AppResult<NoteDetail> {
    let library = state.library()?;
    blocking(move || Ok(NoteDetail { note: library.get(id)?, recording: library.recording(id)? })).await
}

/// Change the title and/or the body (`null` keeps it).
#[tauri::command]
pub async fn edit_note(
    state: State<'_, AppState>,
    id: i64,
    title: Option<String>,
    body: Option<String>,
) -> AppResult<Note> {
    let library = state.library()?;
    blocking(move || Ok(library.edit(id, &NoteEdit { title, body })?)).await
}

/// Add and remove tags; returns the note's tags.
#[tauri::command]
pub async fn tag_note(
    state: State<'_, AppState>,
    id: i64,
    add: Vec<String>,
    remove: Vec<String>,
) -> AppResult<Vec<String>> {
    let library = state.library()?;
    blocking(move || Ok(library.retag(id, &add, &remove)?)).await
}

/// Every tag in use.
#[tauri::command]
pub async fn list_tags(state: State<'_, AppState>) -> AppResult<Vec<TagCount>> {
    let library = state.library()?;
    blocking(move || Ok(library.tags()?.into_iter().map(|(tag, count)| TagCount { tag, count }).collect())).await
}

/// Delete a note and its recording.
#[tauri::command]
pub async fn delete_note(state: State<'_, AppState>, id: i64) -> AppResult<()> {
    let library = state.library()?;
    blocking(move || Ok(library.delete(id)?)).await
}

/// Save typed or dictated text as a note; returns its id.
#[tauri::command]
pub async fn add_text_note(state: State<'_, AppState>, title: String, body: String, dictated: bool) -> AppResult<i64> {
    let library = state.library()?;
    let source = Some(if dictated { Source::Dictation } else { Source::Text });
    blocking(move || Ok(library.add(&NewNote { title, body, source, ..NewNote::default() })?)).await
}

/// Write a note in `format` to `path` (where the save dialog pointed).
#[tauri::command]
pub async fn export_note(state: State<'_, AppState>, id: i64, format: NoteFormat, path: PathBuf) -> AppResult<()> {
    let library = state.library()?;
    blocking(move || {
        let text = sotto::export::note(&library.get(id)?, format);
        std::fs::write(&path, text).map_err(|source| AppError::Io { path: path.display().to_string(), source })
    })
    .await
}

/// The note's audio from `start_ms` to `end_ms` as WAV bytes (an `ArrayBuffer` on the page,
/// played from a `blob:` URL: the CSP allows no file or asset URLs).
#[tauri::command]
pub async fn note_audio(state: State<'_, AppState>, id: i64, start_ms: u64, end_ms: u64) -> AppResult<Response> {
    let library = state.library()?;
    blocking(move || Ok(Response::new(library.recording_wav(id, start_ms, end_ms)?))).await
}

/// Keywords and meaning together (keywords alone where the embedder is not installed).
#[tauri::command]
pub async fn search_notes(state: State<'_, AppState>, query: String, limit: usize) -> AppResult<Vec<Hit>> {
    let library = state.library()?;
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    blocking(move || Ok(library.search(&query, SearchMode::Hybrid, limit.clamp(1, 200))?)).await
}
