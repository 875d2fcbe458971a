//! Build facts for the core's own binaries (the CLI, tests, benches).
//!
//! - They find whisper.cpp's shared libraries next to themselves: crates/whisper-rs-sys puts them
//!   there (docs/architecture.md, "Portable builds"). Other binaries of the workspace that link
//!   the core (the app) need the same rpath lines.
//! - Tests learn which CPU features the machine building them has: a test that needs one is
//!   marked ignored with the reason where it is missing (`cfg_attr(not(host_avx512f), ignore =
//!   …)`), so the summary counts it as not run instead of reporting a silent pass. Nothing in the
//!   library reads these: it picks kernels at run time.

/// Features the tests ask about, as `std::arch::is_x86_feature_detected!` names them.
const FEATURES: [&str; 3] = ["avx512f", "avx512dq", "avx512bf16"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux" | "android" | "freebsd") => println!("cargo::rustc-link-arg=-Wl,-rpath,$ORIGIN"),
        Ok("macos" | "ios") => println!("cargo::rustc-link-arg=-Wl,-rpath,@executable_path"),
        // Windows looks next to the executable first.
        _ => {}
    }
    for f in FEATURES {
        println!("cargo::rustc-check-cfg=cfg(host_{f})");
    }
    // Cross builds run their tests elsewhere: claim nothing about that CPU.
    if std::env::var("HOST").ok() != std::env::var("TARGET").ok() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    for (f, has) in [
        ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ("avx512dq", std::arch::is_x86_feature_detected!("avx512dq")),
        ("avx512bf16", std::arch::is_x86_feature_detected!("avx512bf16")),
    ] {
        if has {
            println!("cargo::rustc-cfg=host_{f}");
        }
    }
}
