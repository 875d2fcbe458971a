//! The notes and search views: list, open, edit, tag, delete, export, play, search.

use serde::Serialize;
use sotto::export::NoteFormat;
use sotto::notes::{Hit, SearchMode};
use sotto::store::{ListOptions, NewNote, Note, NoteEdit, NoteSummary, Source, StoredRecording};
use tauri::ipc::Response;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

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

/// Export a note in `format` where the user says in the system's save dialog (`default_name`
/// offered); returns the path written, `None` when the dialog was dismissed. The dialog is
/// opened here, not by the page: the page can never name a file to write.
#[tauri::command]
pub async fn export_note(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    format: NoteFormat,
    default_name: String,
) -> AppResult<Option<String>> {
    let library = state.library()?;
    blocking(move || {
        let text = sotto::export::note(&library.get(id)?, format);
        let extension = format.extension();
        let chosen = app
            .dialog()
            .file()
            .set_title("Export note")
            .set_file_name(file_name(&default_name, id, extension))
            .add_filter(extension.to_uppercase(), &[extension])
            .blocking_save_file();
        let Some(chosen) = chosen else { return Ok(None) };
        let path = chosen.into_path().map_err(|e| AppError::Invalid(format!("not a local file: {e}")))?;
        std::fs::write(&path, text).map_err(|source| AppError::Io { path: path.display().to_string(), source })?;
        Ok(Some(path.display().to_string()))
    })
    .await
}

/// `stem.ext` from a title: no path separators or characters some systems refuse, at most 80
/// characters; `note-ID` when nothing is left.
fn file_name(title: &str, id: i64, extension: &str) -> String {
    let cleaned: String =
        title.chars().map(|c| if c.is_control() || r#"\/:*?"<>|"#.contains(c) { ' ' } else { c }).collect();
    let words: Vec<&str> = cleaned.split_whitespace().filter(|w| !w.chars().all(|c| c == '.')).collect();
    let stem: String = words.join(" ").chars().take(80).collect();
    let stem = stem.trim_matches('.').trim();
    if stem.is_empty() { format!("note-{id}.{extension}") } else { format!("{stem}.{extension}") }
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

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn an_export_is_offered_a_file_name_that_names_no_other_directory() {
        assert_eq!(file_name("Stand-up: budget / Q3?", 4, "md"), "Stand-up budget Q3.md");
        assert_eq!(file_name("../../etc/passwd", 4, "txt"), "etc passwd.txt");
        assert_eq!(file_name(" .. ", 9, "srt"), "note-9.srt");
        assert_eq!(file_name(&"long ".repeat(40), 1, "vtt").chars().count(), 80 - 1 + 4);
    }
}
