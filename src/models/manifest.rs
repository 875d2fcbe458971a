//! The model manifest (`models/manifest.toml`): every model Sotto knows, its variants, sizes,
//! checksums and sources. The schema is documented in `models/README.md`.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::ManifestError;

/// The manifest shipped inside the binary.
pub const EMBEDDED: &str = include_str!("../../models/manifest.toml");

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ModelKind {
    /// Speech recognition (whisper.cpp).
    Whisper,
    /// Sentence embeddings (tract-onnx).
    Embedder,
    /// Voice-activity detection.
    Vad,
}

/// File format of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    /// whisper.cpp ggml weights.
    Ggml,
    /// ONNX graph.
    Onnx,
    /// Core ML encoder for Apple's Neural Engine (accompanies a ggml variant).
    CoremlEncoder,
    /// OpenVINO encoder for Intel NPU/iGPU (accompanies a ggml variant).
    OpenvinoEncoder,
}

/// Hardware a variant can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accelerator {
    /// Plain CPU.
    Cpu,
    /// Apple Neural Engine.
    Ane,
    /// Android NNAPI.
    Nnapi,
    /// Qualcomm QNN (Hexagon NPU).
    Qnn,
    /// Intel OpenVINO (NPU/iGPU).
    Openvino,
    /// A GPU.
    Gpu,
}

/// Parsed manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// All models, in file order.
    pub models: Vec<Model>,
}

/// One model and its variants.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Unique id, e.g. `whisper-base.en`.
    pub id: String,
    /// What it does.
    pub kind: ModelKind,
    /// Size family: tiny, base, small, large-v3-turbo, minilm.
    #[serde(default)]
    pub family: String,
    /// `["en"]` for English-only, `["multi"]` for multilingual.
    pub languages: Vec<String>,
    /// Licence of the weights.
    pub license: String,
    /// The one model of its kind used when none is chosen.
    #[serde(default)]
    pub default: bool,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// The files it comes as.
    pub variants: Vec<Variant>,
    /// Files every variant needs beside its own (the embedder's tokenizer), fetched with any of them.
    #[serde(default)]
    pub files: Vec<SharedFile>,
}

/// A file that every variant of a model needs, such as a tokenizer.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SharedFile {
    /// File name in the models directory.
    pub file: String,
    /// Exact size in bytes.
    pub bytes: i64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Download URLs tried in order; other entries say where Sotto's own copy comes from.
    pub sources: Vec<String>,
}

impl SharedFile {
    /// The SHA-256 as bytes.
    pub fn sha256_bytes(&self) -> Option<[u8; 32]> {
        hex_array(&self.sha256)
    }

    /// Sources that are downloadable URLs.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(String::as_str).filter(|s| is_url(s))
    }
}

/// One file of a model: a precision or an accelerator-specific encoder.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Unique within its model: f16, q8_0, q5_1, coreml, openvino, int8, ...
    pub id: String,
    /// File format.
    pub format: FileFormat,
    /// Weight precision: f32, f16, bf16, q8_0, q5_1, q5_0, int8.
    pub precision: String,
    /// File name in the models directory.
    pub file: String,
    /// Size in bytes (an estimate when `bytes_exact` is false).
    pub bytes: i64,
    /// Whether `bytes` is the exact size.
    #[serde(default = "yes")]
    pub bytes_exact: bool,
    /// Lowercase hex SHA-256, or "unknown".
    pub sha256: String,
    /// SHA-1 that the upstream publisher lists, if any.
    #[serde(default)]
    pub sha1: Option<String>,
    /// Size of Sotto's own build of this variant (`models/fetch-fixtures`, the offline and test
    /// path) where it differs from the downloaded file.
    #[serde(default)]
    pub local_bytes: Option<i64>,
    /// SHA-256 of that build: an installed file matching it is as good as the download.
    #[serde(default)]
    pub local_sha256: Option<String>,
    /// Download URLs tried in order; other entries say how Sotto builds the file locally.
    pub sources: Vec<String>,
    /// Memory needed to run it (MB).
    pub min_ram_mb: u32,
    /// Hardware it can use.
    pub accelerators: Vec<Accelerator>,
    /// For encoders: the ggml variant they accompany.
    #[serde(default)]
    pub base_variant: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    schema: u32,
    models: Vec<Model>,
}

impl Manifest {
    /// The manifest compiled into this binary.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED).expect("the embedded manifest is valid (checked by tests)")
    }

    /// Read and validate a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ManifestError::Io { path: path.to_path_buf(), source })?;
        Self::parse(&text)
    }

    /// Parse and validate manifest text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let raw: Raw = toml::from_str(text).map_err(|e| ManifestError::Syntax(one_line(&e.to_string())))?;
        if raw.schema != 1 {
            return Err(ManifestError::Invalid {
                at: "schema".into(),
                detail: format!("version {} is not supported (this Sotto reads version 1)", raw.schema),
            });
        }
        let manifest = Manifest { models: raw.models };
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), ManifestError> {
        let mut ids = HashSet::new();
        let mut files = HashSet::new();
        let mut defaults = HashSet::new();
        for m in &self.models {
            let at = format!("model {}", m.id);
            let invalid = |detail: String| ManifestError::Invalid { at: at.clone(), detail };
            if m.id.is_empty()
                || !m.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            {
                return Err(invalid("ids use lowercase letters, digits, '.', '_' and '-'".into()));
            }
            if !ids.insert(m.id.as_str()) {
                return Err(invalid("duplicate model id".into()));
            }
            if m.default && !defaults.insert(m.kind) {
                return Err(invalid(format!("a second default for kind {:?}", m.kind)));
            }
            if m.variants.is_empty() {
                return Err(invalid("no variants".into()));
            }
            let mut variant_ids = HashSet::new();
            for v in &m.variants {
                let at = format!("model {} variant {}", m.id, v.id);
                let invalid = |detail: String| ManifestError::Invalid { at: at.clone(), detail };
                if !variant_ids.insert(v.id.as_str()) {
                    return Err(invalid("duplicate variant id".into()));
                }
                if v.bytes <= 0 {
                    return Err(invalid(format!("bytes must be positive, not {}", v.bytes)));
                }
                if v.file.is_empty() || v.file.contains(['/', '\\']) || v.file.starts_with('.') {
                    return Err(invalid(format!("file {:?} must be a plain file name", v.file)));
                }
                if !files.insert(v.file.as_str()) {
                    return Err(invalid(format!("file {} is used twice", v.file)));
                }
                if v.sha256 != "unknown" && !is_hex(&v.sha256, 64) {
                    return Err(invalid(format!(
                        "sha256 {:?} is neither 64 lowercase hex digits nor \"unknown\"",
                        v.sha256
                    )));
                }
                if v.sha256 != "unknown" && !v.bytes_exact {
                    return Err(invalid(
                        "a file with a known sha256 has an exact size: drop bytes_exact = false".into(),
                    ));
                }
                if let Some(sha1) = &v.sha1
                    && !is_hex(sha1, 40)
                {
                    return Err(invalid(format!("sha1 {sha1:?} is not 40 lowercase hex digits")));
                }
                match (&v.local_sha256, v.local_bytes) {
                    (Some(sha), Some(bytes)) => {
                        if !is_hex(sha, 64) {
                            return Err(invalid(format!("local_sha256 {sha:?} is not 64 lowercase hex digits")));
                        }
                        if bytes <= 0 {
                            return Err(invalid(format!("local_bytes must be positive, not {bytes}")));
                        }
                    }
                    (None, None) => {}
                    _ => return Err(invalid("local_sha256 and local_bytes come together".into())),
                }
                if v.sources.is_empty() {
                    return Err(invalid("no sources".into()));
                }
                if v.accelerators.is_empty() {
                    return Err(invalid("no accelerators (use [\"cpu\"])".into()));
                }
                let encoder = matches!(v.format, FileFormat::CoremlEncoder | FileFormat::OpenvinoEncoder);
                match (&v.base_variant, encoder) {
                    (Some(base), true) if !m.variants.iter().any(|b| &b.id == base && b.format == FileFormat::Ggml) => {
                        return Err(invalid(format!("base_variant {base} is not a ggml variant of this model")));
                    }
                    (None, true) => return Err(invalid("an encoder needs base_variant".into())),
                    (Some(_), false) => return Err(invalid("only encoders have a base_variant".into())),
                    _ => {}
                }
            }
            for f in &m.files {
                let at = format!("model {} file {}", m.id, f.file);
                let invalid = |detail: String| ManifestError::Invalid { at: at.clone(), detail };
                if f.file.is_empty() || f.file.contains(['/', '\\']) || f.file.starts_with('.') {
                    return Err(invalid(format!("file {:?} must be a plain file name", f.file)));
                }
                if !files.insert(f.file.as_str()) {
                    return Err(invalid(format!("file {} is used twice", f.file)));
                }
                if f.bytes <= 0 {
                    return Err(invalid(format!("bytes must be positive, not {}", f.bytes)));
                }
                // A file every variant depends on is always verified: no "unknown" here.
                if !is_hex(&f.sha256, 64) {
                    return Err(invalid(format!("sha256 {:?} is not 64 lowercase hex digits", f.sha256)));
                }
                if f.sources.is_empty() {
                    return Err(invalid("no sources".into()));
                }
            }
        }
        Ok(())
    }

    /// The model with this id.
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The default model of a kind.
    pub fn default_model(&self, kind: ModelKind) -> Option<&Model> {
        self.models.iter().find(|m| m.kind == kind && m.default)
    }
}

impl Model {
    /// The variant with this id.
    pub fn variant(&self, id: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// Whether it understands languages besides English.
    pub fn is_multilingual(&self) -> bool {
        self.languages.iter().any(|l| l == "multi")
    }
}

impl Variant {
    /// The SHA-256 as bytes, unless the manifest says "unknown".
    pub fn sha256_bytes(&self) -> Option<[u8; 32]> {
        hex_array(&self.sha256)
    }

    /// The upstream SHA-1 as bytes, if listed.
    pub fn sha1_bytes(&self) -> Option<[u8; 20]> {
        self.sha1.as_deref().and_then(hex_array)
    }

    /// Whether `sha256` (lowercase hex) is a known-good build of this variant: the download's
    /// or Sotto's own.
    pub fn accepts(&self, sha256: &str) -> bool {
        (self.sha256 != "unknown" && self.sha256 == sha256) || self.local_sha256.as_deref() == Some(sha256)
    }

    /// Sources that are downloadable URLs.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(String::as_str).filter(|s| is_url(s))
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// toml's errors span several lines with a source excerpt; keep the message and the position.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
schema = 1
[[models]]
id = "whisper-tiny.en"
kind = "whisper"
languages = ["en"]
license = "MIT"
default = true
[[models.variants]]
id = "f16"
format = "ggml"
precision = "f16"
file = "ggml-tiny.en.bin"
bytes = 100
sha256 = "28d66f40682b78e7eb7114e4688b3cf4e9f8a50a474e9cf5cb03992d12e07ca3"
sources = ["http://127.0.0.1:1/ggml-tiny.en.bin"]
min_ram_mb = 400
accelerators = ["cpu"]
"#;

    fn err(text: &str) -> String {
        Manifest::parse(text).expect_err("must be rejected").to_string()
    }

    #[test]
    fn the_shipped_manifest_is_valid() {
        let m = Manifest::embedded();
        let tiny = m.default_model(ModelKind::Whisper).expect("a default whisper model");
        assert_eq!(tiny.id, "whisper-tiny.en");
        assert_eq!(tiny.variant("f16").unwrap().file, crate::paths::DEFAULT_MODEL_FILE);
        assert!(tiny.variant("f16").unwrap().sha256_bytes().is_some());
    }

    #[test]
    fn good_manifest_parses() {
        let m = Manifest::parse(GOOD).unwrap();
        let v = m.model("whisper-tiny.en").unwrap().variant("f16").unwrap();
        assert_eq!(v.urls().count(), 1);
        assert_eq!(v.sha256_bytes().unwrap()[0], 0x28);
    }

    #[test]
    fn bad_manifests_are_clear_errors() {
        assert!(err("schema = 1\nmodels = [").contains("manifest:"));
        assert!(err(&GOOD.replace("bytes = 100\n", "")).contains("missing field `bytes`"));
        assert!(err(&GOOD.replace("bytes = 100", "bytes = -5")).contains("bytes must be positive, not -5"));
        assert!(err(&GOOD.replace("28d66f", "zzd66f")).contains("neither 64 lowercase hex digits"));
        assert!(err(&GOOD.replace("28d66f40682b", "28d66f")).contains("neither 64 lowercase hex"));
        assert!(err(&GOOD.replace("kind = \"whisper\"", "kind = \"speech\"")).contains("unknown variant `speech`"));
        assert!(err(&GOOD.replace("schema = 1", "schema = 9")).contains("version 9 is not supported"));
        assert!(
            err(&GOOD.replace("file = \"ggml-tiny.en.bin\"", "file = \"../etc/passwd\"")).contains("plain file name")
        );
        assert!(
            err(&GOOD.replace("min_ram_mb = 400", "min_ram_mb = 400\ncolour = 1")).contains("unknown field `colour`")
        );
        let twice = format!("{GOOD}{}", &GOOD[GOOD.find("[[models]]").unwrap()..]);
        assert!(err(&twice).contains("duplicate model id"));
        let dup_variant = format!("{GOOD}{}", &GOOD[GOOD.find("[[models.variants]]").unwrap()..]);
        assert!(err(&dup_variant).contains("duplicate variant id"));
        let own = "min_ram_mb = 400\nlocal_bytes = 90\nlocal_sha256 = \"";
        assert!(err(&GOOD.replace("min_ram_mb = 400", &format!("{own}{}\"", "a".repeat(63)))).contains("local_sha256"));
        assert!(err(&GOOD.replace("min_ram_mb = 400", "min_ram_mb = 400\nlocal_bytes = 90")).contains("come together"));
        let shared = |sha: &str, file: &str| {
            format!("{GOOD}[[models.files]]\nfile = \"{file}\"\nbytes = 5\nsha256 = \"{sha}\"\nsources = [\"x\"]\n")
        };
        assert!(
            err(&shared("unknown", "t.json")).contains("is not 64 lowercase hex"),
            "shared files are always verified"
        );
        assert!(err(&shared(&"b".repeat(64), "ggml-tiny.en.bin")).contains("is used twice"));
    }

    #[test]
    fn either_build_of_a_variant_is_accepted_and_shared_files_parse() {
        let own = "b".repeat(64);
        let text =
            GOOD.replace("min_ram_mb = 400", &format!("min_ram_mb = 400\nlocal_bytes = 90\nlocal_sha256 = \"{own}\""));
        let text = format!(
            "{text}[[models.files]]\nfile = \"t.json\"\nbytes = 5\nsha256 = \"{}\"\nsources = [\"https://h/t.json\", \"pypi:x\"]\n",
            "c".repeat(64)
        );
        let m = Manifest::parse(&text).unwrap();
        let model = m.model("whisper-tiny.en").unwrap();
        let v = model.variant("f16").unwrap();
        assert!(v.accepts(&v.sha256) && v.accepts(&own));
        assert!(!v.accepts(&"c".repeat(64)) && !v.accepts("unknown"));
        assert_eq!(model.files[0].urls().collect::<Vec<_>>(), ["https://h/t.json"]);
        // An unknown SHA-256 never matches anything.
        let unknown = Manifest::parse(
            &GOOD
                .replace("28d66f40682b78e7eb7114e4688b3cf4e9f8a50a474e9cf5cb03992d12e07ca3", "unknown")
                .replace("bytes = 100", "bytes = 100\nbytes_exact = false"),
        )
        .unwrap();
        assert!(!unknown.models[0].variants[0].accepts("unknown"));
    }
}
