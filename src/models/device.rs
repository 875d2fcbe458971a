//! What this device can run, and which model variant suits it.

use serde::{Deserialize, Serialize};

use super::{Accelerator, FileFormat, Manifest, ModelKind};

/// Operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux desktop or board.
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

/// The facts about a device that decide which model variant it gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceProfile {
    /// Operating system.
    pub platform: Platform,
    /// Installed memory (MB).
    pub total_ram_mb: u64,
    /// Memory free right now (MB).
    pub available_ram_mb: u64,
    /// Logical CPU cores.
    pub cores: u32,
    /// CPU features that matter to ggml: avx2, avx512f, avx512bf16, f16c, fma, neon, dotprod, ...
    pub cpu_features: Vec<String>,
    /// Running on battery (phones, tablets, unplugged laptops).
    pub on_battery: bool,
    /// Accelerators present (reported by the mobile plugin on phones; detected on desktop).
    pub accelerators: Vec<Accelerator>,
}

impl DeviceProfile {
    /// Detect this machine (desktop). Mobile shells build the profile from the platform plugin.
    pub fn detect() -> Self {
        let (total_ram_mb, available_ram_mb) = memory_mb();
        let platform = Self::detect_platform();
        let mut accelerators = vec![Accelerator::Cpu];
        // Every Apple-silicon Mac has a Neural Engine.
        if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
            accelerators.push(Accelerator::Ane);
        }
        Self {
            platform,
            total_ram_mb,
            available_ram_mb,
            cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
            cpu_features: cpu_features(),
            on_battery: on_battery(),
            accelerators,
        }
    }

    /// The platform this build runs on.
    pub fn detect_platform() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::Macos
        } else if cfg!(target_os = "windows") {
            Platform::Windows
        } else if cfg!(target_os = "ios") {
            Platform::Ios
        } else if cfg!(target_os = "android") {
            Platform::Android
        } else {
            Platform::Linux
        }
    }

    fn has(&self, a: Accelerator) -> bool {
        self.accelerators.contains(&a)
    }

    /// Whether ggml can multiply bf16 weights natively here (AVX512-BF16 dot products).
    fn multiplies_bf16(&self) -> bool {
        self.cpu_features.iter().any(|f| f == "avx512bf16")
    }

    fn has_simd(&self) -> bool {
        self.cpu_features.iter().any(|f| f == "avx2" || f == "neon")
    }
}

/// The accelerators this build of Sotto can drive. A device may have more (an Apple Neural
/// Engine, an Intel NPU): a variant for those is useless unless whisper.cpp was built with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backends {
    /// Usable accelerators; [`Accelerator::Cpu`] always.
    pub accelerators: Vec<Accelerator>,
}

impl Backends {
    /// This build: [`Backends::for_platform`] of the platform it was compiled for.
    pub fn built_in() -> Self {
        Self::for_platform(DeviceProfile::detect_platform())
    }

    /// What Sotto's build for `platform` compiles in (Cargo.toml): whisper.cpp's CPU backend
    /// everywhere (ggml; bf16 files where `asr::bf16_native`), plus Core ML (the Neural Engine)
    /// and Metal on macOS and iOS. OpenVINO, NNAPI and QNN are in no build, so nothing is
    /// recommended for them: an Android phone gets quantized CPU weights.
    pub fn for_platform(platform: Platform) -> Self {
        use Accelerator::*;
        match platform {
            Platform::Macos | Platform::Ios => Self { accelerators: vec![Cpu, Ane, Gpu] },
            Platform::Linux | Platform::Windows | Platform::Android => Self { accelerators: vec![Cpu] },
        }
    }

    /// Every accelerator the manifest knows: what a build with all backends would use.
    pub fn all() -> Self {
        use Accelerator::*;
        Self { accelerators: vec![Cpu, Ane, Nnapi, Qnn, Openvino, Gpu] }
    }
}

/// A recommended variant and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// Model id.
    pub model: String,
    /// Variant id of the ggml/onnx weights.
    pub variant: String,
    /// Accelerator-specific encoder to install beside it, if the device has that accelerator.
    pub encoder: Option<String>,
    /// The reason in words, e.g. "base.en q5_1: 4 GB RAM, 8 cores, no ANE, on battery".
    pub reason: String,
}

/// Size ladder of Whisper families, smallest first.
const WHISPER_FAMILIES: [&str; 4] = ["tiny", "base", "small", "large-v3-turbo"];

/// Pick the Whisper variant for `device` that this build can run ([`Backends::built_in`]);
/// `language` other than English needs a multilingual model.
pub fn recommend_whisper(manifest: &Manifest, device: &DeviceProfile, language: Option<&str>) -> Option<Choice> {
    recommend_whisper_with(manifest, device, &Backends::built_in(), language)
}

/// [`recommend_whisper`] for a build with `backends`: an accelerator counts only when both the
/// device has it and the build can drive it.
pub fn recommend_whisper_with(
    manifest: &Manifest,
    device: &DeviceProfile,
    backends: &Backends,
    language: Option<&str>,
) -> Option<Choice> {
    let english = language.is_none_or(|l| l.eq_ignore_ascii_case("en"));
    let gb = device.total_ram_mb as f64 / 1024.0;
    let usable = |a: Accelerator| device.has(a) && backends.accelerators.contains(&a);
    let ane = usable(Accelerator::Ane);
    let openvino = usable(Accelerator::Openvino);
    let npu = ane || usable(Accelerator::Qnn) || usable(Accelerator::Nnapi) || openvino;
    // Memory the OS would not tell: the smallest tier, and no budget to check files against.
    let ram_known = device.total_ram_mb > 0;

    let mobile = matches!(device.platform, Platform::Android | Platform::Ios);
    // What memory allows, and what the compute can drive at dictation speed.
    let mut ram_tier: usize = match gb {
        _ if !ram_known => 0,
        g if g < 3.5 => 0,
        g if g < 7.5 => 1,
        g if g < 15.5 => 2,
        _ => 3,
    };
    let mut cap: usize = if !device.has_simd() {
        0
    } else if device.cores < 6 {
        1
    } else if device.cores < 12 || device.on_battery {
        2
    } else {
        3
    };
    if npu {
        ram_tier = (ram_tier + 1).min(3);
        cap = (cap + 1).min(3);
    }
    // whisper.cpp runs phones' encoders on the ANE at best; large models stay desktop-only.
    if mobile {
        cap = cap.min(2);
    }
    let mut tier = ram_tier.min(cap);
    if device.on_battery && !npu && tier >= 2 {
        tier -= 1;
    }
    // Smaller precision when memory or energy is tight: fewer bytes to read per token.
    let tight = device.on_battery || gb < 7.5;
    let mut precisions = if tight {
        vec!["q5_1", "q5_0", "q8_0", "f16"]
    } else if gb < 31.5 {
        vec!["q8_0", "q5_1", "q5_0", "f16"]
    } else {
        vec!["f16", "q8_0", "q5_1", "q5_0"]
    };
    // A bf16 file (decoder in q8_0) is smaller than f16 and, where the CPU multiplies bf16, the
    // fastest at f16's accuracy.
    if device.multiplies_bf16() && !tight {
        precisions.insert(0, "bf16");
    }
    let budget = if ram_known { device.available_ram_mb.min(device.total_ram_mb / 2) } else { u64::MAX };

    for family in WHISPER_FAMILIES[..=tier].iter().rev() {
        let candidates = manifest.models.iter().filter(|m| {
            m.kind == ModelKind::Whisper
                && m.family == *family
                && (!english || !m.is_multilingual() || *family == "large-v3-turbo")
        });
        // Prefer the English-only model for English: same size, more accurate.
        let mut candidates: Vec<_> = candidates.filter(|m| english || m.is_multilingual()).collect();
        candidates.sort_by_key(|m| m.is_multilingual() == english);
        for model in candidates {
            for precision in &precisions {
                let Some(v) = model.variants.iter().find(|v| v.format == FileFormat::Ggml && v.precision == *precision)
                else {
                    continue;
                };
                if v.min_ram_mb as u64 > budget {
                    continue;
                }
                let encoder = model
                    .variants
                    .iter()
                    .find(|e| {
                        e.base_variant.as_deref() == Some(v.id.as_str())
                            && ((e.format == FileFormat::CoremlEncoder && ane)
                                || (e.format == FileFormat::OpenvinoEncoder && openvino))
                    })
                    .or_else(|| {
                        // Encoders are published for the f16 weights; they pair with any precision.
                        model.variants.iter().find(|e| {
                            (e.format == FileFormat::CoremlEncoder && ane)
                                || (e.format == FileFormat::OpenvinoEncoder && openvino)
                        })
                    })
                    .map(|e| e.id.clone());
                let name = model.id.trim_start_matches("whisper-");
                let reason = explain(name, precision, device, backends, encoder.is_some());
                return Some(Choice { model: model.id.clone(), variant: v.id.clone(), encoder, reason });
            }
        }
    }
    None
}

fn explain(name: &str, precision: &str, d: &DeviceProfile, backends: &Backends, encoder: bool) -> String {
    let ram = if d.total_ram_mb == 0 {
        "RAM unknown".to_string()
    } else if d.total_ram_mb >= 1024 {
        format!("{} GB RAM", (d.total_ram_mb as f64 / 1024.0).round())
    } else {
        format!("{} MB RAM", d.total_ram_mb)
    };
    let mut parts = vec![ram, format!("{} cores", d.cores)];
    let usable = |a: Accelerator| d.has(a) && backends.accelerators.contains(&a);
    let npu = [Accelerator::Ane, Accelerator::Qnn, Accelerator::Nnapi, Accelerator::Openvino];
    parts.push(match (usable(Accelerator::Ane), encoder) {
        (true, true) => "ANE via Core ML encoder".into(),
        (true, false) => "ANE".into(),
        (false, _) if usable(Accelerator::Openvino) && encoder => "OpenVINO encoder".into(),
        (false, _) if usable(Accelerator::Qnn) || usable(Accelerator::Nnapi) => "NPU".into(),
        // Said so that a Mac's owner knows why its Neural Engine is left out.
        _ if npu.iter().any(|&a| d.has(a)) => "NPU not used by this build".into(),
        _ => "no ANE/NPU".into(),
    });
    if !d.has_simd() {
        parts.push("no AVX2/NEON".into());
    }
    parts.push(if d.on_battery { "on battery".into() } else { "plugged in".into() });
    format!("{name} {precision}: {}", parts.join(", "))
}

/// (total, available) memory in MB, from the OS; (0, 0) where unknown.
#[cfg(any(target_os = "macos", target_os = "windows"))]
fn memory_mb() -> (u64, u64) {
    let mut system = sysinfo::System::new();
    system.refresh_memory();
    let mb = |bytes: u64| bytes / (1 << 20);
    let total = mb(system.total_memory());
    (total, mb(system.available_memory()).min(total))
}

/// (total, available) memory in MB, from /proc/meminfo (Linux, Android); (0, 0) where unknown.
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
fn memory_mb() -> (u64, u64) {
    let Ok(info) = std::fs::read_to_string("/proc/meminfo") else {
        return (0, 0);
    };
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb / 1024)
            .unwrap_or(0)
    };
    let total = field("MemTotal:");
    (total, field("MemAvailable:").min(total))
}

fn cpu_features() -> Vec<String> {
    #[allow(unused_mut)]
    let mut features: Vec<String> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        for (name, present) in [
            ("avx", std::arch::is_x86_feature_detected!("avx")),
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
            ("fma", std::arch::is_x86_feature_detected!("fma")),
            ("f16c", std::arch::is_x86_feature_detected!("f16c")),
            // Only where the CPU kernels ggml loaded for this CPU use it (Sotto's bf16 product).
            ("avx512bf16", std::arch::is_x86_feature_detected!("avx512bf16") && crate::asr::bf16_native()),
        ] {
            if present {
                features.push(name.into());
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        features.push("neon".into());
        if std::arch::is_aarch64_feature_detected!("dotprod") {
            features.push("dotprod".into());
        }
    }
    features
}

/// Linux: any battery discharging. Elsewhere the shell reports it.
fn on_battery() -> bool {
    let Ok(entries) = std::fs::read_dir("/sys/class/power_supply") else {
        return false;
    };
    entries.flatten().any(|e| {
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        let kind = std::fs::read_to_string(e.path().join("type")).unwrap_or_default();
        kind.trim() == "Battery" && status.trim() == "Discharging"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(
        platform: Platform,
        gb: u64,
        cores: u32,
        features: &[&str],
        battery: bool,
        acc: &[Accelerator],
    ) -> DeviceProfile {
        let mut accelerators = vec![Accelerator::Cpu];
        accelerators.extend_from_slice(acc);
        DeviceProfile {
            platform,
            total_ram_mb: gb * 1024,
            available_ram_mb: gb * 1024 * 6 / 10,
            cores,
            cpu_features: features.iter().map(|s| s.to_string()).collect(),
            on_battery: battery,
            accelerators,
        }
    }

    #[test]
    fn choices_across_devices() {
        use Accelerator::*;
        use Platform::*;
        let m = Manifest::embedded();
        let table: Vec<(&str, DeviceProfile, &str, &str, Option<&str>)> = vec![
            ("old Android phone", device(Android, 3, 8, &["neon"], true, &[]), "whisper-tiny.en", "q5_1", None),
            (
                "new Android phone with NPU",
                device(Android, 12, 8, &["neon", "dotprod"], true, &[Qnn, Nnapi]),
                "whisper-small.en",
                "q5_1",
                None,
            ),
            ("iPhone with ANE", device(Ios, 6, 6, &["neon"], true, &[Ane]), "whisper-small.en", "q5_1", Some("coreml")),
            ("iPad", device(Ios, 8, 8, &["neon"], true, &[Ane]), "whisper-small.en", "q5_1", Some("coreml")),
            ("8 GB Windows laptop", device(Windows, 8, 8, &["avx2"], true, &[]), "whisper-base.en", "q5_1", None),
            (
                "Apple-silicon Mac",
                device(Macos, 16, 10, &["neon"], false, &[Ane]),
                "whisper-large-v3-turbo",
                "q8_0",
                Some("coreml"),
            ),
            (
                "Linux workstation",
                device(Linux, 64, 32, &["avx2", "avx512f"], false, &[]),
                "whisper-large-v3-turbo",
                "f16",
                None,
            ),
            ("Raspberry Pi-class board", device(Linux, 4, 4, &[], false, &[]), "whisper-tiny.en", "q5_1", None),
        ];
        for (name, profile, model, variant, encoder) in table {
            let c = recommend_whisper_with(&m, &profile, &Backends::all(), None)
                .unwrap_or_else(|| panic!("{name}: no choice"));
            assert_eq!((c.model.as_str(), c.variant.as_str()), (model, variant), "{name}: {}", c.reason);
            assert_eq!(c.encoder.as_deref(), encoder, "{name}");
            assert!(c.reason.contains("GB RAM") && c.reason.contains("cores"), "{}", c.reason);
        }
    }

    /// On this (Linux) build, a Mac's or a phone's NPU counts for nothing.
    #[test]
    fn only_what_this_build_runs_is_recommended() {
        use Accelerator::*;
        let m = Manifest::embedded();
        let mac = device(Platform::Macos, 16, 10, &["neon"], false, &[Ane]);
        let phone = device(Platform::Android, 12, 8, &["neon", "dotprod"], true, &[Qnn, Nnapi]);
        for (name, profile) in [("Apple-silicon Mac", &mac), ("Android phone with NPU", &phone)] {
            let c = recommend_whisper_with(&m, profile, &Backends::for_platform(Platform::Linux), None).unwrap();
            assert_eq!(c.encoder, None, "{name}: no Core ML or OpenVINO in this build");
            let v = m.model(&c.model).unwrap().variant(&c.variant).unwrap();
            assert_eq!((v.format, v.accelerators.as_slice()), (FileFormat::Ggml, &[Cpu][..]), "{name}");
            assert!(c.reason.contains("NPU not used by this build"), "{name}: {}", c.reason);
            // The NPU no longer lifts the device a size up: it gets what its CPU alone runs.
            let cpu_only = DeviceProfile { accelerators: vec![Cpu], ..profile.clone() };
            let plain = recommend_whisper_with(&m, &cpu_only, &Backends::for_platform(Platform::Linux), None).unwrap();
            assert_eq!((c.model.as_str(), c.variant.as_str()), (plain.model.as_str(), plain.variant.as_str()));
        }
        // With Core ML built in, the same Mac gets the encoder and the bigger model.
        let with = recommend_whisper_with(&m, &mac, &Backends::all(), None).unwrap();
        assert_eq!((with.model.as_str(), with.encoder.as_deref()), ("whisper-large-v3-turbo", Some("coreml")));
    }

    /// Each platform's build (`Backends::for_platform`) is offered only what it runs: Core ML
    /// encoders on Apple devices with a Neural Engine, quantized CPU weights on Android whatever
    /// NPU it has, never an OpenVINO encoder (no build has it).
    #[test]
    fn each_platforms_build_gets_only_what_it_runs() {
        use Accelerator::*;
        use Platform::*;
        let m = Manifest::embedded();
        let profiles = [
            ("iPhone 15 Pro", device(Ios, 8, 6, &["neon", "dotprod"], true, &[Ane, Gpu])),
            ("iPhone SE", device(Ios, 3, 6, &["neon"], true, &[Ane, Gpu])),
            ("iPad Air (M1)", device(Ios, 8, 8, &["neon", "dotprod"], false, &[Ane, Gpu])),
            ("Pixel 8", device(Android, 8, 9, &["neon", "dotprod"], true, &[Nnapi, Gpu])),
            ("budget Android phone", device(Android, 3, 8, &["neon"], true, &[Nnapi])),
            ("Snapdragon tablet", device(Android, 12, 8, &["neon", "dotprod"], false, &[Qnn, Nnapi, Gpu])),
            ("MacBook Air (M2)", device(Macos, 16, 8, &["neon", "dotprod"], true, &[Ane, Gpu])),
            ("Intel Mac", device(Macos, 16, 8, &["avx2"], false, &[Gpu])),
            ("Linux laptop with an Intel NPU", device(Linux, 16, 8, &["avx2"], true, &[Openvino])),
            ("Windows desktop", device(Windows, 32, 16, &["avx2"], false, &[Gpu])),
            ("old netbook", device(Linux, 2, 2, &[], true, &[])),
        ];
        for (name, profile) in profiles {
            let backends = Backends::for_platform(profile.platform);
            let c = recommend_whisper_with(&m, &profile, &backends, None).unwrap_or_else(|| panic!("{name}: none"));
            let model = m.model(&c.model).unwrap();
            let v = model.variant(&c.variant).unwrap();
            assert_eq!(v.format, FileFormat::Ggml, "{name}");
            assert!(v.accelerators.iter().all(|a| backends.accelerators.contains(a)), "{name}: {c:?}");
            if let Some(encoder) = &c.encoder {
                let e = model.variant(encoder).unwrap();
                assert!(e.accelerators.iter().all(|a| backends.accelerators.contains(a)), "{name}: {c:?}");
            }
            let apple_npu = matches!(profile.platform, Ios | Macos) && profile.accelerators.contains(&Ane);
            assert_eq!(c.encoder.as_deref(), apple_npu.then_some("coreml"), "{name}: {}", c.reason);
            if profile.platform == Android {
                assert!(v.precision.starts_with('q'), "{name}: quantized on Android, got {}", v.precision);
                assert!(c.reason.contains("NPU not used by this build"), "{name}: {}", c.reason);
            }
            if profile.platform == Ios {
                assert_ne!(model.family, "large-v3-turbo", "{name}: phones stay below large");
            }
        }
    }

    #[test]
    fn unknown_memory_still_gets_a_model() {
        let m = Manifest::embedded();
        let mut unknown = device(Platform::Windows, 0, 8, &["avx2"], false, &[]);
        unknown.available_ram_mb = 0;
        let c = recommend_whisper(&m, &unknown, None).expect("a model even when the OS hides memory");
        assert_eq!(c.model, "whisper-tiny.en", "the smallest, as nothing says more fits");
        assert!(c.reason.starts_with("tiny.en q5_1: RAM unknown, 8 cores"), "{}", c.reason);
    }

    #[test]
    fn bf16_is_preferred_where_the_cpu_multiplies_it() {
        // The shipped manifest has bf16 for tiny.en only; give the workstation's model one too.
        let mut m = Manifest::embedded();
        let turbo = m.models.iter_mut().find(|x| x.id == "whisper-large-v3-turbo").unwrap();
        let mut bf16 = turbo.variants.iter().find(|v| v.precision == "f16").unwrap().clone();
        (bf16.id, bf16.precision) = ("bf16".into(), "bf16".into());
        turbo.variants.push(bf16);
        let with = device(Platform::Linux, 64, 32, &["avx2", "avx512f", "avx512bf16"], false, &[]);
        assert_eq!(recommend_whisper(&m, &with, None).unwrap().variant, "bf16");
        let without = device(Platform::Linux, 64, 32, &["avx2", "avx512f"], false, &[]);
        assert_eq!(recommend_whisper(&m, &without, None).unwrap().variant, "f16");
        // Below 32 GB too (where q8_0 comes first otherwise), unless memory or battery is tight.
        let base = m.models.iter_mut().find(|x| x.id == "whisper-base.en").unwrap();
        let mut bf16 = base.variants.iter().find(|v| v.precision == "q8_0").unwrap().clone();
        (bf16.id, bf16.precision) = ("bf16".into(), "bf16".into());
        base.variants.push(bf16);
        let desktop = device(Platform::Linux, 16, 2, &["avx2", "avx512f", "avx512bf16"], false, &[]);
        let c = recommend_whisper(&m, &desktop, None).unwrap();
        assert_eq!((c.model.as_str(), c.variant.as_str()), ("whisper-base.en", "bf16"), "{}", c.reason);
        let laptop = device(Platform::Linux, 16, 2, &["avx2", "avx512f", "avx512bf16"], true, &[]);
        assert_eq!(recommend_whisper(&m, &laptop, None).unwrap().variant, "q5_1");
        let older = device(Platform::Linux, 16, 2, &["avx2", "avx512f"], false, &[]);
        assert_eq!(recommend_whisper(&m, &older, None).unwrap().variant, "q8_0");
        // Where no bf16 file exists, f16 it is.
        assert_eq!(recommend_whisper(&Manifest::embedded(), &with, None).unwrap().variant, "f16");
    }

    #[test]
    fn reasons_read_like_sentences() {
        let m = Manifest::embedded();
        let laptop = device(Platform::Windows, 4, 8, &["avx2"], true, &[]);
        let c = recommend_whisper(&m, &laptop, None).unwrap();
        assert_eq!(c.reason, "base.en q5_1: 4 GB RAM, 8 cores, no ANE/NPU, on battery");
    }

    #[test]
    fn other_languages_get_a_multilingual_model() {
        let m = Manifest::embedded();
        let laptop = device(Platform::Linux, 8, 8, &["avx2"], false, &[]);
        let c = recommend_whisper(&m, &laptop, Some("pt")).unwrap();
        assert!(!c.model.ends_with(".en"), "{c:?}");
        assert!(m.model(&c.model).unwrap().is_multilingual());
    }

    #[test]
    fn too_little_memory_means_smaller_files() {
        let m = Manifest::embedded();
        let mut tight = device(Platform::Linux, 32, 16, &["avx2"], false, &[]);
        tight.available_ram_mb = 700;
        let c = recommend_whisper(&m, &tight, None).unwrap();
        let v = m.model(&c.model).unwrap().variant(&c.variant).unwrap();
        assert!(v.min_ram_mb <= 700, "{c:?}");
    }

    #[test]
    fn this_machine_is_detected() {
        let d = DeviceProfile::detect();
        assert!(d.cores >= 1);
        // Every desktop OS reports memory (macOS and Windows through sysinfo).
        assert!(d.total_ram_mb > 0 && d.available_ram_mb > 0 && d.available_ram_mb <= d.total_ram_mb, "{d:?}");
        assert!(recommend_whisper(&Manifest::embedded(), &d, None).is_some(), "some model fits this machine");
    }
}
