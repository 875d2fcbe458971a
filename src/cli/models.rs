//! `sotto models …`: list, fetch, verify, remove, quantize.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use sotto::cancel::CancelToken;
use sotto::models::installed::{self, FileState, Verdict};
use sotto::models::{
    DeviceProfile, Download, Downloader, Manifest, Model, Progress, QuantType, Variant, local_recipe, quantize_file,
    recommend_whisper,
};

/// Manage speech and text models.
#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Installed and available models, and the variant recommended for this device.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Download a model variant, verify its SHA-256 and install it.
    Fetch {
        /// Model id, e.g. whisper-base.en (see `sotto models list`).
        id: String,
        /// Variant id (f16, q8_0, q5_1, coreml, ...) [default: the one recommended for this device].
        #[arg(long)]
        variant: Option<String>,
        /// Install even though the manifest has no SHA-256 for the file (you vouch for the source).
        #[arg(long)]
        trust_unverified: bool,
    },
    /// Re-hash every installed model file against the manifest.
    Verify,
    /// Delete a model's files (all variants, shared files and partial downloads) wherever
    /// `models list` finds them.
    Remove {
        /// Model id.
        id: String,
    },
    /// Quantize a whisper.cpp f16 model with ggml (q8_0, q5_1, q5_0, q4_0) or convert it to bf16.
    Quantize {
        /// Input f16 ggml file.
        input: PathBuf,
        /// Output file.
        output: PathBuf,
        /// Target type.
        #[arg(long = "type", value_enum)]
        to: QuantArg,
    },
}

/// `--type` of `models quantize` (the core's [`QuantType`], named for the command line).
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum QuantArg {
    /// 8-bit, blocks of 32: near-lossless.
    #[value(name = "q8_0")]
    Q8_0,
    /// 5-bit with offset, blocks of 32.
    #[value(name = "q5_1")]
    Q5_1,
    /// 5-bit, blocks of 32.
    #[value(name = "q5_0")]
    Q5_0,
    /// bfloat16 (decoder's per-token matrices in q8_0): fastest where the CPU has AVX512-BF16.
    #[value(name = "bf16")]
    Bf16,
    /// 4-bit, blocks of 32: smallest, at a measurable cost in accuracy.
    #[value(name = "q4_0")]
    Q4_0,
}

impl From<QuantArg> for QuantType {
    fn from(arg: QuantArg) -> Self {
        match arg {
            QuantArg::Q8_0 => QuantType::Q8_0,
            QuantArg::Q5_1 => QuantType::Q5_1,
            QuantArg::Q5_0 => QuantType::Q5_0,
            QuantArg::Bf16 => QuantType::Bf16,
            QuantArg::Q4_0 => QuantType::Q4_0,
        }
    }
}

/// Run a models subcommand; Ok(false) means "ran, but report failure through the exit code".
pub fn run(command: ModelsCommand, manifest: Option<PathBuf>) -> Result<bool> {
    let manifest = match manifest {
        Some(path) => Manifest::load(&path)?,
        None => Manifest::embedded(),
    };
    let dirs = super::dirs().model_dirs();
    match command {
        ModelsCommand::List { json } => list(&manifest, &dirs, json),
        ModelsCommand::Fetch { id, variant, trust_unverified } => fetch(&manifest, &id, variant, trust_unverified),
        ModelsCommand::Verify => verify(&manifest, &dirs),
        ModelsCommand::Remove { id } => {
            if manifest.model(&id).is_none() {
                bail!("no model {id} in the manifest (see `sotto models list`)");
            }
            let removed = installed::remove(&manifest, &id, &dirs)?;
            if removed.is_empty() {
                let searched = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
                eprintln!("{id}: nothing installed (looked in {searched})");
            }
            for path in removed {
                println!("removed {}", path.display());
            }
            Ok(true)
        }
        ModelsCommand::Quantize { input, output, to } => {
            let to = QuantType::from(to);
            let stats = quantize_file(&input, &output, to)?;
            let per_token = match stats.per_token {
                0 => String::new(),
                n => format!(" ({n} decoder matrices to {})", to.per_token().name()),
            };
            println!(
                "{}: {} tensors quantized to {}{per_token}, {} kept, {} bytes",
                output.display(),
                stats.quantized,
                to.name(),
                stats.kept,
                stats.bytes
            );
            Ok(true)
        }
    }
}

fn list(manifest: &Manifest, dirs: &[PathBuf], json: bool) -> Result<bool> {
    let device = DeviceProfile::detect();
    let choice = recommend_whisper(manifest, &device, None);
    if json {
        let models: Vec<_> = manifest
            .models
            .iter()
            .map(|m| {
                let variants: Vec<_> = m
                    .variants
                    .iter()
                    .map(|v| {
                        let recommended = choice.as_ref().is_some_and(|c| c.model == m.id && (c.variant == v.id || c.encoder.as_deref() == Some(&v.id)));
                        serde_json::json!({
                            "id": v.id, "format": v.format, "precision": v.precision, "file": v.file,
                            "bytes": v.bytes, "bytes_exact": v.bytes_exact, "sha256_known": v.sha256 != "unknown",
                            "status": installed::state(v, dirs), "recommended": recommended,
                        })
                    })
                    .collect();
                let files: Vec<_> = m
                    .files
                    .iter()
                    .map(|f| serde_json::json!({ "file": f.file, "bytes": f.bytes, "status": installed::file_state(&f.file, dirs) }))
                    .collect();
                serde_json::json!({ "id": m.id, "kind": m.kind, "languages": m.languages, "license": m.license, "default": m.default, "variants": variants, "files": files })
            })
            .collect();
        let out = serde_json::json!({ "device": device, "recommended": choice, "models": models });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(true);
    }
    match &choice {
        Some(c) => println!("Recommended for this device: {} {} — {}\n", c.model, c.variant, c.reason),
        None => println!("No model fits this device's free memory.\n"),
    }
    for m in &manifest.models {
        println!(
            "{}{}  ({:?}, {}, {})",
            m.id,
            if m.default { " [default]" } else { "" },
            m.kind,
            m.languages.join(","),
            m.license
        );
        for v in &m.variants {
            let status = match installed::state(v, dirs) {
                FileState::Installed { path, .. } => format!("installed {}", path.display()),
                FileState::Partial { bytes } => format!("partial download, {} so far", human(bytes)),
                FileState::Available => "available".into(),
            };
            let star = choice
                .as_ref()
                .is_some_and(|c| c.model == m.id && (c.variant == v.id || c.encoder.as_deref() == Some(&v.id)));
            let size = if v.bytes_exact { human(v.bytes as u64) } else { format!("~{}", human(v.bytes as u64)) };
            let check = if v.sha256 == "unknown" { ", no sha256" } else { "" };
            println!("  {} {:<9} {:<16} {:>9}{check}  {status}", if star { "*" } else { " " }, v.id, v.file, size);
        }
        for f in &m.files {
            let status = match installed::file_state(&f.file, dirs) {
                FileState::Installed { path, .. } => format!("installed {}", path.display()),
                FileState::Partial { bytes } => format!("partial download, {} so far", human(bytes)),
                FileState::Available => "available".into(),
            };
            println!("    {:<9} {:<16} {:>9}  {status}", "(shared)", f.file, human(f.bytes as u64));
        }
    }
    Ok(true)
}

fn fetch(manifest: &Manifest, id: &str, variant: Option<String>, trust: bool) -> Result<bool> {
    let model = manifest.model(id).ok_or_else(|| anyhow!("no model {id} in the manifest (see `sotto models list`)"))?;
    let variant_id = match variant {
        Some(v) => v,
        None => match recommend_whisper(manifest, &DeviceProfile::detect(), None) {
            Some(c) if c.model == model.id => c.variant,
            _ => model.variants[0].id.clone(),
        },
    };
    let variant = model.variant(&variant_id).ok_or_else(|| {
        anyhow!(
            "{id} has no variant {variant_id} (it has {})",
            model.variants.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let dir = super::dirs().install_dir();
    if variant.urls().next().is_none()
        && let Some((input, to)) = local_recipe(variant)
    {
        build_locally(manifest, model, variant, &input, to, trust)?;
    } else {
        let path = download(&variant.download_to(&dir, trust), variant.bytes as u64)?;
        println!("{}", path.display());
    }
    // Files every variant needs (the embedder's tokenizer): fetched once, kept while they verify.
    for shared in &model.files {
        if let FileState::Installed { path, .. } = installed::file_state(&shared.file, &super::dirs().model_dirs())
            && installed::verify_shared(shared, &path).is_ok_and(|v| v == Verdict::Ok)
        {
            continue;
        }
        println!("{}", download(&shared.download_to(&dir), shared.bytes as u64)?.display());
    }
    Ok(true)
}

/// Download, verify and install one file, with a progress bar on a terminal; Ctrl-C cancels
/// (the partial file is kept for resuming).
fn download(request: &Download, bytes: u64) -> Result<PathBuf> {
    let file = request.dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(bytes);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(file.clone());
        bar
    });
    let report_bar = bar.clone();
    let on_progress = move |p: Progress| match (&report_bar, p) {
        (Some(b), Progress::Bytes { done, total, .. }) => {
            if let Some(t) = total {
                b.set_length(t);
            }
            b.set_position(done);
        }
        (Some(b), Progress::Retrying { attempt, reason, .. }) => b.println(format!("retry {attempt}: {reason}")),
        (Some(b), Progress::Verifying) => b.set_message(format!("{file} (verifying)")),
        _ => {}
    };
    let cancel = CancelToken::new();
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let downloader = Arc::new(Downloader::default());
    let path = runtime.block_on(async {
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        downloader.fetch(request, &on_progress, &cancel).await
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(path?)
}

/// Make a locally built variant (a quantization of another one, fetched first if missing) and
/// check it against the manifest like a download.
fn build_locally(
    manifest: &Manifest,
    model: &Model,
    variant: &Variant,
    input: &str,
    to: QuantType,
    trust: bool,
) -> Result<()> {
    let source = model
        .variants
        .iter()
        .find(|v| v.file == input)
        .ok_or_else(|| anyhow!("{}: the manifest builds it from {input}, which it does not list", variant.file))?;
    let source_path = match installed::state(source, &super::dirs().model_dirs()) {
        FileState::Installed { path, .. } => path,
        _ => {
            fetch(manifest, &model.id, Some(source.id.clone()), trust)?;
            match installed::state(source, &super::dirs().model_dirs()) {
                FileState::Installed { path, .. } => path,
                _ => bail!("{input} is still missing after fetching it"),
            }
        }
    };
    // The recorded checksum is that of this recipe run on Sotto's own build of the input: from any
    // other build (the published download) the output is a different file, with none on record.
    let input_sha =
        installed::sha256_hex(&source_path).with_context(|| format!("cannot read {}", source_path.display()))?;
    let recorded_input = source.local_sha256.as_deref().unwrap_or(&source.sha256);
    let from_recorded_input = input_sha == recorded_input;
    let out = super::dirs().install_dir().join(&variant.file);
    std::fs::create_dir_all(super::dirs().install_dir())
        .with_context(|| format!("cannot create {}", super::dirs().install_dir().display()))?;
    eprintln!("{}: quantizing {} to {}", variant.file, source_path.display(), to.name());
    quantize_file(&source_path, &out, to)?;
    let verdict = match installed::verify(variant, &out).with_context(|| format!("cannot read {}", out.display()))? {
        Verdict::Mismatch { actual, .. } if !from_recorded_input => Verdict::Unverifiable { actual },
        verdict => verdict,
    };
    match verdict {
        Verdict::Ok => {}
        Verdict::Unverifiable { .. } if trust => {}
        Verdict::Unverifiable { actual } if !from_recorded_input => {
            let _ = std::fs::remove_file(&out);
            bail!(
                "{}: its checksum is recorded for Sotto's own build of {input}, not the one installed \
                 ({input_sha}); got {actual}, --trust-unverified keeps it",
                variant.file
            )
        }
        Verdict::Unverifiable { actual } => {
            let _ = std::fs::remove_file(&out);
            bail!(
                "{}: the manifest has no SHA-256 to check it against (got {actual}); --trust-unverified keeps it",
                variant.file
            )
        }
        Verdict::Mismatch { expected, actual } => {
            let _ = std::fs::remove_file(&out);
            bail!("{}: checksum mismatch after quantizing (expected {expected}, got {actual})", variant.file)
        }
    }
    println!("{}", out.display());
    Ok(())
}

fn verify(manifest: &Manifest, dirs: &[PathBuf]) -> Result<bool> {
    let mut ok = true;
    let mut any = false;
    for m in &manifest.models {
        for v in &m.variants {
            let FileState::Installed { path, .. } = installed::state(v, dirs) else { continue };
            any = true;
            match installed::verify(v, &path).with_context(|| format!("cannot read {}", path.display()))? {
                Verdict::Ok => println!("ok          {} {} {}", m.id, v.id, path.display()),
                Verdict::Unverifiable { actual } => {
                    println!("unverified  {} {} {} (sha256 {actual})", m.id, v.id, path.display())
                }
                Verdict::Mismatch { expected, actual } => {
                    ok = false;
                    println!("MISMATCH    {} {} {} (expected {expected}, got {actual})", m.id, v.id, path.display());
                }
            }
        }
    }
    for m in &manifest.models {
        for f in &m.files {
            let FileState::Installed { path, .. } = installed::file_state(&f.file, dirs) else { continue };
            any = true;
            match installed::verify_shared(f, &path).with_context(|| format!("cannot read {}", path.display()))? {
                Verdict::Ok => println!("ok          {} {} {}", m.id, f.file, path.display()),
                Verdict::Unverifiable { actual } => {
                    println!("unverified  {} {} {} (sha256 {actual})", m.id, f.file, path.display())
                }
                Verdict::Mismatch { expected, actual } => {
                    ok = false;
                    println!("MISMATCH    {} {} {} (expected {expected}, got {actual})", m.id, f.file, path.display());
                }
            }
        }
    }
    if !any {
        println!("no models installed");
    }
    if !ok {
        bail!("some installed model files do not match the manifest; remove and fetch them again");
    }
    Ok(true)
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}
