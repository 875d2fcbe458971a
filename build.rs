//! Facts about the machine building the crate, for the tests: a test that needs a CPU feature is
//! marked ignored with the reason where the feature is missing (`cfg_attr(not(host_avx512f),
//! ignore = …)`), so the summary counts it as not run instead of reporting a silent pass.
//! Nothing in the library reads these: it picks kernels at run time.

/// Features the tests ask about, as `std::arch::is_x86_feature_detected!` names them.
const FEATURES: [&str; 3] = ["avx512f", "avx512dq", "avx512bf16"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
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
