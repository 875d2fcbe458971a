//! Models: the manifest's variants, the one recommended for a device and why, verified
//! downloads with progress.

use std::path::Path;
use std::sync::Arc;

use super::{ListenerError, SottoError};
use crate::cancel::CancelToken;
use crate::models::{self, Accelerator, DeviceProfile, Downloader, Manifest, Platform, Progress};

/// Operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DevicePlatform {
    /// Linux.
    Linux,
    /// Windows.
    Windows,
    /// macOS.
    Macos,
    /// iOS / iPadOS.
    Ios,
    /// Android.
    Android,
}

/// The facts about a device that decide its model (the `device` plugin reports them on phones).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DeviceInfo {
    /// Operating system.
    pub platform: DevicePlatform,
    /// Installed memory (MB).
    pub total_ram_mb: u64,
    /// Memory free now (MB).
    pub available_ram_mb: u64,
    /// Logical CPU cores.
    pub cores: u32,
    /// CPU features that matter to ggml: avx2, avx512f, f16c, fma, neon, dotprod…
    pub cpu_features: Vec<String>,
    /// Running on battery.
    pub on_battery: bool,
    /// Accelerators present: cpu, ane (Apple Neural Engine), nnapi, qnn, openvino, gpu.
    pub accelerators: Vec<String>,
}

/// One downloadable file of a model.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelVariant {
    /// Model id, e.g. `whisper-base.en`.
    pub model: String,
    /// "whisper", "embedder" or "vad".
    pub kind: String,
    /// Variant id: f16, q8_0, q5_1, coreml…
    pub variant: String,
    /// Weight precision.
    pub precision: String,
    /// File name in the models directory.
    pub file: String,
    /// Size in bytes (an estimate where the manifest says so).
    pub bytes: u64,
    /// Memory needed to run it (MB).
    pub min_ram_mb: u32,
    /// Hardware it can use.
    pub accelerators: Vec<String>,
    /// Languages: `["en"]` or `["multi"]`.
    pub languages: Vec<String>,
}

/// The variant recommended for a device, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Recommendation {
    /// Model id.
    pub model: String,
    /// Variant id of the weights.
    pub variant: String,
    /// Accelerator-specific encoder to install beside it (Core ML on Apple devices), if any.
    pub encoder: Option<String>,
    /// The reason in words, e.g. "base.en q5_1: 4 GB RAM, 8 cores, no ANE, on battery".
    pub reason: String,
}

/// What a download reports while it runs (on the calling thread). What it throws is logged;
/// the download goes on.
#[uniffi::export(with_foreign)]
pub trait FetchListener: Send + Sync {
    /// Bytes on disk so far; `total` when known.
    fn on_progress(&self, done: u64, total: Option<u64>) -> Result<(), ListenerError>;
    /// A transfer failed and is retried, resuming where it stopped.
    fn on_retry(&self, attempt: u32, reason: String) -> Result<(), ListenerError>;
}

/// Cancels a running download (or other long call) from any thread.
#[derive(uniffi::Object, Default)]
pub struct Cancel(CancelToken);

#[uniffi::export]
impl Cancel {
    /// A new, unset token.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Ask the work to stop; it ends with `SottoError.Cancelled`.
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

/// The model manifest: Sotto's own (`embedded`) or another (a mirror's, a test's).
#[derive(uniffi::Object)]
pub struct ModelCatalog {
    manifest: Manifest,
}

#[uniffi::export]
impl ModelCatalog {
    /// The manifest built into this library.
    #[uniffi::constructor]
    pub fn embedded() -> Arc<Self> {
        Arc::new(ModelCatalog { manifest: Manifest::embedded() })
    }

    /// A manifest from its TOML text (schema 1); a bad one is a `Model` error naming the problem.
    #[uniffi::constructor]
    pub fn parse(toml: String) -> Result<Arc<Self>, SottoError> {
        Ok(Arc::new(ModelCatalog { manifest: Manifest::parse(&toml)? }))
    }

    /// Every variant of every model, in manifest order.
    pub fn variants(&self) -> Vec<ModelVariant> {
        let mut out = Vec::new();
        for model in &self.manifest.models {
            for v in &model.variants {
                out.push(ModelVariant {
                    model: model.id.clone(),
                    kind: serde_name(model.kind),
                    variant: v.id.clone(),
                    precision: v.precision.clone(),
                    file: v.file.clone(),
                    bytes: v.bytes.max(0) as u64,
                    min_ram_mb: v.min_ram_mb,
                    accelerators: v.accelerators.iter().map(serde_name).collect(),
                    languages: model.languages.clone(),
                });
            }
        }
        out
    }

    /// The whisper variant for `device` that this build of the library can run; `language`
    /// other than English needs a multilingual model. None: nothing fits its memory.
    pub fn recommend(
        &self,
        device: DeviceInfo,
        language: Option<String>,
    ) -> Result<Option<Recommendation>, SottoError> {
        let profile = profile(device)?;
        Ok(models::recommend_whisper(&self.manifest, &profile, language.as_deref()).map(|c| Recommendation {
            model: c.model,
            variant: c.variant,
            encoder: c.encoder,
            reason: c.reason,
        }))
    }

    /// Download `model`'s `variant` (and the files it needs) into `dir`, verified against the
    /// manifest's SHA-256, resuming a partial file; returns the installed path. Blocks: call it
    /// off the UI thread. `cancel` stops it (the partial file is kept for the next try).
    pub fn fetch(
        &self,
        model: String,
        variant: String,
        dir: String,
        listener: Arc<dyn FetchListener>,
        cancel: Option<Arc<Cancel>>,
    ) -> Result<String, SottoError> {
        let found = self
            .manifest
            .model(&model)
            .ok_or_else(|| SottoError::NotFound { detail: format!("no model {model:?} in the manifest") })?;
        let v = found.variants.iter().find(|v| v.id == variant).ok_or_else(|| SottoError::NotFound {
            detail: format!("model {model} has no variant {variant:?} (it has {})", ids(found)),
        })?;
        if dir.trim().is_empty() {
            return Err(SottoError::invalid("the models directory is empty"));
        }
        let dir = Path::new(&dir);
        let mut requests: Vec<_> = found.files.iter().map(|f| f.download_to(dir)).collect();
        requests.push(v.download_to(dir, false));
        let token = cancel.map(|c| c.0.clone()).unwrap_or_default();
        let on_progress = move |p: Progress| {
            let told = match p {
                Progress::Bytes { done, total, .. } => listener.on_progress(done, total),
                Progress::Retrying { attempt, reason, .. } => listener.on_retry(attempt, reason),
                Progress::Verifying | Progress::Installed => Ok(()),
            };
            if let Err(e) = told {
                tracing::warn!("the download listener failed: {e}");
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SottoError::Download { detail: format!("cannot start the downloader: {e}") })?;
        let downloader = Downloader::default();
        let mut installed = String::new();
        for request in &requests {
            let path = runtime.block_on(downloader.fetch(request, &on_progress, &token))?;
            installed = path.to_string_lossy().into_owned();
        }
        Ok(installed)
    }
}

/// This device as the library sees it (desktop detection; phones build `DeviceInfo` from the
/// `device` plugin instead, which knows the Neural Engine, NNAPI and the battery).
#[uniffi::export]
pub fn this_device() -> DeviceInfo {
    let d = DeviceProfile::detect();
    DeviceInfo {
        platform: match d.platform {
            Platform::Linux => DevicePlatform::Linux,
            Platform::Windows => DevicePlatform::Windows,
            Platform::Macos => DevicePlatform::Macos,
            Platform::Ios => DevicePlatform::Ios,
            Platform::Android => DevicePlatform::Android,
        },
        total_ram_mb: d.total_ram_mb,
        available_ram_mb: d.available_ram_mb,
        cores: d.cores,
        cpu_features: d.cpu_features,
        on_battery: d.on_battery,
        accelerators: d.accelerators.iter().map(serde_name).collect(),
    }
}

fn profile(d: DeviceInfo) -> Result<DeviceProfile, SottoError> {
    if d.cores == 0 {
        return Err(SottoError::invalid("a device has at least one core"));
    }
    let accelerators = d
        .accelerators
        .iter()
        .map(|name| {
            // The manifest's own names (Accelerator's serde names), in any case.
            serde_json::from_value::<Accelerator>(serde_json::Value::String(name.to_ascii_lowercase())).map_err(|_| {
                SottoError::invalid(format!(
                    "unknown accelerator {name:?} (known: cpu, ane, nnapi, qnn, openvino, gpu)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DeviceProfile {
        platform: match d.platform {
            DevicePlatform::Linux => Platform::Linux,
            DevicePlatform::Windows => Platform::Windows,
            DevicePlatform::Macos => Platform::Macos,
            DevicePlatform::Ios => Platform::Ios,
            DevicePlatform::Android => Platform::Android,
        },
        total_ram_mb: d.total_ram_mb,
        available_ram_mb: d.available_ram_mb.min(d.total_ram_mb),
        cores: d.cores,
        cpu_features: d.cpu_features,
        on_battery: d.on_battery,
        accelerators,
    })
}

/// The manifest's name of a value (its serde name): cpu, ane…; whisper, embedder, vad.
fn serde_name(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn ids(model: &models::Model) -> String {
    model.variants.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
}
