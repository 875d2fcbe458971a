//! Sotto's core: private, on-device speech recognition, voice notes and commands.
//!
//! Everything here runs locally; the desktop/mobile app, the CLI and the native bindings are
//! thin shells over this crate.

#![warn(missing_docs)]

pub mod asr;
pub mod assistant;
pub mod audio;
pub mod cancel;
pub mod dictation;
pub mod export;
#[cfg(feature = "ffi")]
pub mod ffi;
pub mod models;
pub mod notes;
pub mod paths;
pub mod recording;
pub mod store;
pub mod text;
pub mod vault;

// The uniffi scaffolding (its `UniFfiTag`, checksums and metadata) lives at the crate root.
#[cfg(feature = "ffi")]
uniffi::setup_scaffolding!("sotto");

#[cfg(test)]
mod tests {
    /// The CPU facts `build.rs` gave the tests (which ignore what this CPU cannot run) are this
    /// CPU's: a target dir carried to another machine must be rebuilt, not trusted.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn build_time_cpu_facts_are_this_cpus() {
        let facts = [
            ("avx512f", cfg!(host_avx512f), std::arch::is_x86_feature_detected!("avx512f")),
            ("avx512dq", cfg!(host_avx512dq), std::arch::is_x86_feature_detected!("avx512dq")),
            ("avx512bf16", cfg!(host_avx512bf16), std::arch::is_x86_feature_detected!("avx512bf16")),
        ];
        for (name, built, here) in facts {
            assert_eq!(built, here, "{name}: build.rs saw {built}, this CPU has {here}: rebuild (touch build.rs)");
        }
    }
}
