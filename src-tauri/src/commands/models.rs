//! The models view: what is installed and recommended, download, remove, verify.

use serde::Serialize;
use sotto::cancel::CancelToken;
use sotto::models::{Backends, DeviceProfile, Downloader, Manifest, ModelKind, Progress, installed, recommend_whisper};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_sotto_device::DeviceExt;

use super::blocking;
use crate::error::{AppError, AppResult};
use crate::jobs::{JobEvent, JobKind};
use crate::state::AppState;

/// One downloadable file of a model (a variant), as the models view lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelRow {
    /// `model/variant`, what the other model commands take.
    pub id: String,
    /// The model's id (what the `model` setting names).
    pub model: String,
    /// The variant's id (`f16`, `q5_1`, …).
    pub variant: String,
    /// What it does.
    pub kind: ModelKind,
    /// The model in words.
    pub description: String,
    /// Its size on disk.
    pub size_bytes: u64,
    /// In one of the model dirs.
    pub installed: bool,
    /// The model dictation and imports use now.
    pub active: bool,
    /// The recommended variant for this device.
    pub recommended: bool,
    /// Why it is recommended.
    pub reason: Option<String>,
    /// Has a published source and checksum.
    pub downloadable: bool,
}

/// Every variant this build can run, with what is installed and recommended.
#[tauri::command]
pub async fn list_models(app: AppHandle, state: State<'_, AppState>) -> AppResult<Vec<ModelRow>> {
    let dirs = state.config.dirs.model_dirs();
    let chosen = state.library().ok().and_then(|l| l.settings().ok()).and_then(|s| s.model);
    // The file dictation and imports load: one variant is active, not every variant of the model.
    let active = state.speech.model_path(chosen.as_deref()).ok();
    blocking(move || {
        let manifest = Manifest::embedded();
        // The device plugin's report: the platform's own facts on phones (Neural Engine, NNAPI),
        // and on every device its battery and heat (a hot or discharging one gets smaller weights).
        let device = app.device().report().map(|r| r.profile()).unwrap_or_else(|_| DeviceProfile::detect());
        let choice = recommend_whisper(&manifest, &device, None);
        let runnable = Backends::built_in().accelerators;
        let mut rows = Vec::new();
        for m in &manifest.models {
            for v in m.variants.iter().filter(|v| v.accelerators.iter().all(|a| runnable.contains(a))) {
                let recommended = choice.as_ref().is_some_and(|c| c.model == m.id && c.variant == v.id);
                let state = installed::state(v, &dirs);
                let is_active = m.kind == ModelKind::Whisper
                    && matches!(&state, installed::FileState::Installed { path, .. } if Some(path) == active.as_ref());
                rows.push(ModelRow {
                    id: format!("{}/{}", m.id, v.id),
                    model: m.id.clone(),
                    variant: v.id.clone(),
                    kind: m.kind,
                    description: m.description.clone(),
                    size_bytes: u64::try_from(v.bytes).unwrap_or(0),
                    installed: matches!(state, installed::FileState::Installed { .. }),
                    active: is_active,
                    recommended,
                    reason: recommended.then(|| choice.as_ref().map(|c| c.reason.clone())).flatten(),
                    downloadable: v.sha256_bytes().is_some() && v.urls().next().is_some(),
                });
            }
        }
        Ok(rows)
    })
    .await
}

/// Download a variant (and its model's shared files) as a job; returns the job id.
#[tauri::command]
pub fn download_model(app: AppHandle, state: State<'_, AppState>, id: String) -> AppResult<u64> {
    let manifest = Manifest::embedded();
    let (model, variant) = find(&manifest, &id)?;
    let mut requests = vec![variant.download_to(&state.config.dirs.install_dir(), false)];
    requests.extend(model.files.iter().map(|f| f.download_to(&state.config.dirs.install_dir())));
    if let Some(mirror) = &state.config.model_mirror {
        for request in &mut requests {
            if let Some(name) = request.dest.file_name() {
                request.urls.insert(0, format!("{}/{}", mirror.trim_end_matches('/'), name.to_string_lossy()));
            }
        }
    }
    let (job, cancel) = state.jobs.start(JobKind::Download, id);
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let event = match fetch_all(&app, job, &requests, &cancel).await {
            Ok(()) => JobEvent::Done { id: job, note_id: None },
            Err(_) if cancel.is_cancelled() => JobEvent::Cancelled { id: job },
            Err(e) => JobEvent::Failed { id: job, code: "download".into(), message: e.to_string() },
        };
        state.jobs.send(event);
    });
    Ok(job)
}

async fn fetch_all(
    app: &AppHandle,
    job: u64,
    requests: &[sotto::models::Download],
    cancel: &CancelToken,
) -> Result<(), sotto::models::DownloadError> {
    let downloader = Downloader::default();
    for request in requests {
        if request.dest.is_file() {
            continue;
        }
        let app = app.clone();
        let report = move |p: Progress| {
            if let Progress::Bytes { done, total, rate, .. } = p {
                let percent = total.filter(|t| *t > 0).map_or(0, |t| (done.min(t) * 100 / t) as u8);
                app.state::<AppState>().jobs.send(JobEvent::Progress {
                    id: job,
                    percent,
                    bytes_done: Some(done),
                    bytes_total: total,
                    rate_bps: Some(rate),
                });
            }
        };
        downloader.fetch(request, &report, cancel).await?;
    }
    Ok(())
}

/// Delete every file of the variant's model from the model dirs.
#[tauri::command]
pub async fn remove_model(state: State<'_, AppState>, id: String) -> AppResult<()> {
    let dirs = state.config.dirs.model_dirs();
    blocking(move || {
        let manifest = Manifest::embedded();
        let (model, _) = find(&manifest, &id)?;
        installed::remove(&manifest, &model.id, &dirs)
            .map(|_| ())
            .map_err(|source| AppError::Io { path: model.id.clone(), source })
    })
    .await
}

/// Hash the installed file: true when it is what the manifest says.
#[tauri::command]
pub async fn verify_model(state: State<'_, AppState>, id: String) -> AppResult<bool> {
    let dirs = state.config.dirs.model_dirs();
    blocking(move || {
        let manifest = Manifest::embedded();
        let (_, variant) = find(&manifest, &id)?;
        let installed::FileState::Installed { path, .. } = installed::state(variant, &dirs) else {
            return Err(AppError::NotFound(format!("{id} is not installed")));
        };
        let verdict = installed::verify(variant, &path)
            .map_err(|source| AppError::Io { path: path.display().to_string(), source })?;
        Ok(matches!(verdict, installed::Verdict::Ok))
    })
    .await
}

fn find<'m>(manifest: &'m Manifest, id: &str) -> AppResult<(&'m sotto::models::Model, &'m sotto::models::Variant)> {
    let (model_id, variant_id) = id.split_once('/').ok_or_else(|| AppError::NotFound(format!("no model {id:?}")))?;
    let model = manifest.model(model_id).ok_or_else(|| AppError::NotFound(format!("no model {model_id:?}")))?;
    let variant = model
        .variants
        .iter()
        .find(|v| v.id == variant_id)
        .ok_or_else(|| AppError::NotFound(format!("no variant {variant_id:?} of {model_id}")))?;
    Ok((model, variant))
}
