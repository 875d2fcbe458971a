//! Sotto's build of whisper.cpp: the vendored sources with Sotto's changes (sotto/patches.cmake),
//! and ggml's CPU kernels built once per CPU family as modules that ggml loads at run time, the
//! best one for the CPU it runs on (docs/architecture.md, "Portable builds").
//!
//! Output, in `OUT_DIR/lib` and copied next to the workspace's binaries (`target/<profile>/`):
//! `libwhisper`, `libggml`, `libggml-base` (linked) and `libggml-cpu-<variant>` (loaded by
//! `ggml_backend_load_all_from_path`). Everything that ships the binary ships these with it.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap();
    let target_arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap();

    for feature in ["CUDA", "HIPBLAS", "INTEL_SYCL", "OPENBLAS", "OPENMP", "VULKAN"] {
        if env::var_os(format!("CARGO_FEATURE_{feature}")).is_some() {
            panic!("whisper-rs-sys (Sotto's): feature {} is not built by this crate", feature.to_lowercase());
        }
    }
    // Apple's accelerators, which the core turns on for macOS and iOS (its Cargo.toml): the
    // encoder on the Neural Engine through Core ML (a `.mlmodelc` beside the model; without it
    // whisper.cpp falls back to ggml), and Metal for the rest. Nowhere else do they exist.
    let coreml = env::var_os("CARGO_FEATURE_COREML").is_some();
    let metal = env::var_os("CARGO_FEATURE_METAL").is_some();
    if (coreml || metal) && !matches!(target_os.as_str(), "macos" | "ios") {
        panic!("whisper-rs-sys (Sotto's): coreml and metal are for macOS and iOS, not {target_os}");
    }

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=whisper.cpp");
    println!("cargo:rerun-if-changed=sotto");

    if let Some(cpp_stdlib) = cpp_link_stdlib(&target) {
        println!("cargo:rustc-link-lib=dylib={cpp_stdlib}");
    }

    // The copy CMake builds (patches.cmake rewrites some of its files from the pristine ones).
    let pristine = manifest.join("whisper.cpp");
    let whisper_root = out.join("whisper.cpp");
    copy_newer(&pristine, &whisper_root).expect("copy whisper.cpp to OUT_DIR");

    bindings(&manifest, &out);

    let lib_dir = out.join("lib");
    // Where the modules are in this build (src/lib.rs: BUILD_LIB_DIR), for binaries that run
    // from elsewhere than `target/<profile>/` (tests in `deps/`). Set before the early return
    // below: the crate does not compile without it.
    println!("cargo:rustc-env=WHISPER_RS_SYS_LIB_DIR={}", lib_dir.display());

    // No C++ build: docs.rs has no toolchain to spare, and `make check-windows` type-checks
    // only (nothing links).
    if env::var_os("DOCS_RS").is_some() {
        return;
    }

    let mut config = cmake::Config::new(&whisper_root);
    config
        .profile("Release")
        .define("CMAKE_BUILD_TYPE", "Release")
        .define("BUILD_SHARED_LIBS", "ON")
        .define("WHISPER_ALL_WARNINGS", "OFF")
        .define("WHISPER_ALL_WARNINGS_3RD_PARTY", "OFF")
        .define("WHISPER_BUILD_TESTS", "OFF")
        .define("WHISPER_BUILD_EXAMPLES", "OFF")
        .define("WHISPER_BUILD_SERVER", "OFF")
        // ggml's CPU backend as modules, one per CPU variant, scored and loaded at run time;
        // nothing is built for the build machine's own CPU.
        .define("GGML_NATIVE", "OFF")
        .define("GGML_BACKEND_DL", "ON")
        .define("GGML_CPU_ALL_VARIANTS", if all_variants(&target_arch, &target_os) { "ON" } else { "OFF" })
        // llamafile's tinyBLAS matmul kernels made whisper.cpp 1.6x faster here (jfk, tiny.en
        // f16, 1 thread: 1075 → 667 ms); Sotto's bf16 kernel lives in the same file.
        .define("GGML_LLAMAFILE", "ON")
        .define("GGML_OPENMP", "OFF")
        .define("GGML_METAL", if metal { "ON" } else { "OFF" })
        // The shaders inside the library: an app bundle has no default.metallib beside it.
        .define("GGML_METAL_EMBED_LIBRARY", if metal { "ON" } else { "OFF" })
        .define("WHISPER_COREML", if coreml { "ON" } else { "OFF" })
        // A model without its Core ML encoder still runs (on ggml) rather than failing to load.
        .define("WHISPER_COREML_ALLOW_FALLBACK", if coreml { "ON" } else { "OFF" })
        .define("GGML_BLAS", "OFF")
        .define("GGML_CCACHE", "OFF")
        // One directory for the libraries and the modules, each finding the others beside it.
        .define("CMAKE_INSTALL_LIBDIR", "lib")
        .define("CMAKE_INSTALL_BINDIR", "lib")
        .define("CMAKE_PLATFORM_NO_VERSIONED_SONAME", "ON")
        .define("CMAKE_INSTALL_RPATH", if target_os == "macos" { "@loader_path" } else { "$ORIGIN" })
        .define("CMAKE_PROJECT_INCLUDE", manifest.join("sotto/patches.cmake"))
        .define("SOTTO_PRISTINE_DIR", &pristine)
        .very_verbose(true)
        .pic(true);
    if target_os == "windows" {
        // MSVC's flag (sources are UTF-8); MinGW's g++ would take it for a file name.
        if env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("msvc") {
            config.cxxflag("/utf-8");
        }
        println!("cargo:rustc-link-lib=advapi32");
    }
    let destination = config.build();
    assert_eq!(destination.join("lib"), lib_dir);

    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    for lib in ["whisper", "ggml", "ggml-base"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:lib_dir={}", lib_dir.display());
    println!("cargo:WHISPER_CPP_VERSION={}", whisper_cpp_version(&whisper_root));

    // Next to the binaries cargo builds (OUT_DIR is <target>/[<triple>/]<profile>/build/<pkg>/out),
    // which find them there through their rpath ($ORIGIN, set by the core's build script).
    if let Some(profile_dir) = out.ancestors().nth(3) {
        for entry in fs::read_dir(&lib_dir).expect("read OUT_DIR/lib") {
            let path = entry.unwrap().path();
            if is_shared_library(&path) {
                copy_if_changed(&path, &profile_dir.join(path.file_name().unwrap()))
                    .expect("copy a library next to the binaries");
            }
        }
    }
}

/// ggml knows the CPU variants of x86-64 (any OS) and of ARM on Linux, Android and macOS.
fn all_variants(arch: &str, os: &str) -> bool {
    arch == "x86_64" || (arch == "aarch64" && matches!(os, "linux" | "android" | "macos"))
}

fn is_shared_library(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll"))
}

/// The Rust bindings: generated for the target (bindgen, libclang), or the bundled ones.
fn bindings(manifest: &Path, out: &Path) {
    let generated = bindgen::Builder::default()
        .rust_edition(bindgen::RustEdition::Edition2021)
        .rust_target(bindgen::RustTarget::stable(88, 0).map_err(|v| v.to_string()).unwrap())
        .header(manifest.join("wrapper.h").to_string_lossy())
        .clang_arg(format!("-I{}", manifest.join("whisper.cpp").display()))
        .clang_arg(format!("-I{}", manifest.join("whisper.cpp/include").display()))
        .clang_arg(format!("-I{}", manifest.join("whisper.cpp/ggml/include").display()))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new().rerun_on_header_files(false)))
        .generate();
    match generated {
        Ok(b) => b.write_to_file(out.join("bindings.rs")).expect("write bindings.rs"),
        Err(e) => {
            println!("cargo:warning=Unable to generate bindings: {e}; using the bundled bindings.rs");
            fs::copy(manifest.join("src/bindings.rs"), out.join("bindings.rs")).expect("copy bindings.rs");
        }
    }
}

/// Copy the tree `from` into `to`, each file only when missing or older than its source: the
/// files patches.cmake rewrote stay as they are (it rewrites them from the sources itself), and
/// CMake does not rebuild what did not change.
fn copy_newer(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            copy_newer(&src, &dst)?;
        } else {
            let newer = match (fs::metadata(&src)?.modified(), fs::metadata(&dst).and_then(|m| m.modified())) {
                (Ok(s), Ok(d)) => s > d,
                _ => true,
            };
            if newer {
                fs::copy(&src, &dst)?;
            }
        }
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> io::Result<()> {
    if fs::read(to).ok() != Some(fs::read(from)?) {
        // A running binary may map the old file: replace it instead of writing into it.
        let tmp = to.with_extension("tmp");
        fs::copy(from, &tmp)?;
        fs::rename(&tmp, to)?;
    }
    Ok(())
}

// From https://github.com/alexcrichton/cc-rs/blob/fba7feded71ee4f63cfe885673ead6d7b4f2f454/src/lib.rs#L2462
fn cpp_link_stdlib(target: &str) -> Option<&'static str> {
    if target.contains("msvc") {
        None
    } else if target.contains("apple") || target.contains("freebsd") || target.contains("openbsd") {
        Some("c++")
    } else if target.contains("android") {
        Some("c++_shared")
    } else {
        Some("stdc++")
    }
}

fn whisper_cpp_version(whisper_root: &Path) -> String {
    let cmake_lists =
        fs::read_to_string(whisper_root.join("CMakeLists.txt")).expect("read whisper.cpp's CMakeLists.txt");
    cmake_lists
        .lines()
        .find_map(|l| l.strip_prefix(r#"project("whisper.cpp" VERSION "#))
        .map(|v| v.trim_end_matches(')').to_string())
        .expect("whisper.cpp's CMakeLists.txt declares its version")
}
