#![allow(non_upper_case_globals)]
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// The directory this build installed whisper.cpp's libraries and ggml's CPU modules
/// (`libggml-cpu-<variant>`) to; binaries that ship carry copies next to themselves.
pub const BUILD_LIB_DIR: &str = env!("WHISPER_RS_SYS_LIB_DIR");
