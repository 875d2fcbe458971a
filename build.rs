//! The core's binaries (the CLI, tests, benches) find whisper.cpp's shared libraries next to
//! themselves: crates/whisper-rs-sys puts them there (docs/architecture.md, "Portable builds").
//! Other binaries of the workspace that link the core (the app) need the same two lines.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux" | "android" | "freebsd") => println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN"),
        Ok("macos" | "ios") => println!("cargo:rustc-link-arg=-Wl,-rpath,@executable_path"),
        // Windows looks next to the executable first.
        _ => {}
    }
}
