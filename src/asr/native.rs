//! whisper.cpp's CPU kernels, loaded at run time for the CPU at hand, and Sotto's changes to
//! whisper.cpp (crates/whisper-rs-sys/sotto/patches.cmake, applied when the workspace builds it):
//! bf16 attention intermediates for bf16 models, decoder matrices stored in a smaller quantized
//! type than the other weights, an AVX512-BF16 matrix product, and vectorised GELU and softmax
//! maximum. Only the product has an entry point to test directly; the
//! rest is covered by transcribing (tests/asr.rs, tests/models.rs).

use std::ffi::{CString, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use whisper_rs::whisper_rs_sys as sys;

unsafe extern "C" {
    /// Defined by patches.cmake in whisper.cpp: a build that missed Sotto's changes fails to
    /// link here rather than refusing Sotto's bf16 files (q8_0 decoder) at run time.
    fn sotto_whisper_patches() -> c_int;
}

/// Where ggml's CPU modules were found and loaded from, or why none was.
static CPU_BACKEND: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// ggml's CPU kernels are modules (`libggml-cpu-<variant>.so`), one per CPU family, loaded at run
/// time: the best one for this CPU, from the first of these directories that has any. Shipped
/// binaries carry them next to themselves (a `.deb` may put them in `../lib/sotto`); binaries
/// cargo runs from elsewhere (tests) use the build's own directory.
fn module_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        dirs.push(exe_dir.join("../lib/sotto"));
        dirs.insert(0, exe_dir);
    }
    dirs.push(PathBuf::from(sys::BUILD_LIB_DIR));
    dirs
}

/// `libggml-cpu-<variant>.so`, or `libggml-cpu.so` where ggml has no variants for the CPU
/// architecture (`ggml-cpu*.dll` on Windows).
fn has_cpu_modules(dir: &Path) -> bool {
    let (stem, ext) = if cfg!(windows) { ("ggml-cpu", ".dll") } else { ("libggml-cpu", ".so") };
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.strip_prefix(stem)
                .and_then(|rest| rest.strip_suffix(ext))
                .is_some_and(|variant| variant.is_empty() || variant.starts_with('-'))
        })
    })
}

/// whisper.cpp's and ggml's log, routed into `tracing` once per process.
pub(super) static LOG_HOOKS: std::sync::Once = std::sync::Once::new();

/// Load ggml's CPU backend (once per process): whisper.cpp has no kernels before this. Returns
/// the directory it came from.
pub fn load_cpu_backend() -> Result<&'static Path, String> {
    CPU_BACKEND
        .get_or_init(|| {
            // ggml reports what it loads on stderr unless its log goes to `tracing` first (a
            // CLI's stderr is for the user; `-v` shows it).
            LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
            let dirs = module_dirs();
            let Some(dir) = dirs.iter().find(|d| has_cpu_modules(d)) else {
                let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                return Err(format!("whisper.cpp's CPU modules (libggml-cpu-*) are in none of {}", list.join(", ")));
            };
            let c_dir = CString::new(dir.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
            // SAFETY: a NUL-terminated path; ggml registers what it loads for the process's lifetime.
            unsafe { sys::ggml_backend_load_all_from_path(c_dir.as_ptr()) };
            if cpu_proc_address("ggml_backend_get_features").is_none() {
                return Err(format!("no CPU module in {} runs on this CPU", dir.display()));
            }
            Ok(dir.clone())
        })
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

/// An entry point of the loaded CPU backend, by name.
fn cpu_proc_address(name: &str) -> Option<*mut c_void> {
    let name = CString::new(name).ok()?;
    // SAFETY: NUL-terminated names; a registry entry lives as long as the process.
    unsafe {
        let reg = sys::ggml_backend_reg_by_name(c"CPU".as_ptr());
        if reg.is_null() {
            return None;
        }
        let f = sys::ggml_backend_reg_get_proc_address(reg, name.as_ptr());
        (!f.is_null()).then_some(f)
    }
}

/// The features the loaded CPU backend was compiled with (`AVX2`, `AVX512_BF16`, ...): those of
/// the variant ggml picked for this CPU.
pub fn cpu_backend_features() -> Vec<String> {
    if load_cpu_backend().is_err() {
        return Vec::new();
    }
    let Some(f) = cpu_proc_address("ggml_backend_get_features") else { return Vec::new() };
    type GetFeatures = unsafe extern "C" fn(sys::ggml_backend_reg_t) -> *const sys::ggml_backend_feature;
    let mut names = Vec::new();
    // SAFETY: the CPU backend's `ggml_backend_get_features` has this signature and returns an
    // array of static strings ended by a null name.
    unsafe {
        let get: GetFeatures = std::mem::transmute(f);
        let mut feature = get(sys::ggml_backend_reg_by_name(c"CPU".as_ptr()));
        while !(*feature).name.is_null() {
            let value = std::ffi::CStr::from_ptr((*feature).value).to_string_lossy();
            if value == "1" {
                names.push(std::ffi::CStr::from_ptr((*feature).name).to_string_lossy().into_owned());
            }
            feature = feature.add(1);
        }
    }
    names
}

/// Whether the loaded whisper.cpp multiplies bf16 natively: Sotto's build of it, with the CPU
/// variant ggml loaded for this CPU built with AVX512-BF16 (so this CPU has it).
pub fn bf16_native() -> bool {
    // SAFETY: takes nothing and returns a constant of the build.
    load_cpu_backend().is_ok()
        && unsafe { sotto_whisper_patches() } >= 1
        && cpu_proc_address("sotto_gemm_bf16").is_some()
}

#[cfg(test)]
mod tests {
    /// GELU and softmax through ggml's own graph on one row: `values` in, the two outputs back.
    fn ggml_gelu_and_softmax(values: &[f32]) -> (Vec<f32>, Vec<f32>) {
        use whisper_rs::whisper_rs_sys as sys;
        super::load_cpu_backend().unwrap();
        let n = values.len();
        // SAFETY: the context owns every tensor; data pointers are read after the compute and
        // before the context is freed; each tensor holds `n` f32.
        unsafe {
            let params = sys::ggml_init_params { mem_size: 1 << 20, mem_buffer: std::ptr::null_mut(), no_alloc: false };
            let ctx = sys::ggml_init(params);
            assert!(!ctx.is_null());
            let x = sys::ggml_new_tensor_1d(ctx, sys::ggml_type_GGML_TYPE_F32, n as i64);
            std::ptr::copy_nonoverlapping(values.as_ptr(), (*x).data as *mut f32, n);
            let (gelu, softmax) = (sys::ggml_gelu(ctx, x), sys::ggml_soft_max(ctx, x));
            let graph = sys::ggml_new_graph(ctx);
            sys::ggml_build_forward_expand(graph, gelu);
            sys::ggml_build_forward_expand(graph, softmax);
            let backend = sys::ggml_backend_init_by_type(
                sys::ggml_backend_dev_type_GGML_BACKEND_DEVICE_TYPE_CPU,
                std::ptr::null(),
            );
            assert!(!backend.is_null());
            assert_eq!(sys::ggml_backend_graph_compute(backend, graph), sys::ggml_status_GGML_STATUS_SUCCESS);
            sys::ggml_backend_free(backend);
            let read = |t: *mut sys::ggml_tensor| std::slice::from_raw_parts((*t).data as *const f32, n).to_vec();
            let out = (read(gelu), read(softmax));
            sys::ggml_free(ctx);
            out
        }
    }

    #[test]
    #[cfg_attr(not(all(host_avx512f, host_avx512dq)), ignore = "needs AVX-512F and DQ (the vector GELU's CPU)")]
    fn vector_gelu_and_softmax_max_match_exact_math() {
        // 37 values: two 16-lane blocks and a tail of 5, -inf and the largest value in the tail.
        let mut x: Vec<f32> = (0..37).map(|i| -12.0 + 24.0 * i as f32 / 36.0).collect();
        x[3] = f32::NEG_INFINITY;
        x[36] = 150.0;
        let (gelu, softmax) = ggml_gelu_and_softmax(&x);
        for (i, (&v, &got)) in x.iter().zip(&gelu).enumerate().take(32) {
            let v64 = v as f64;
            let want = if v <= -10.0 {
                0.0
            } else {
                let u = (2.0 / std::f64::consts::PI).sqrt() * (v64 + 0.044715 * v64.powi(3));
                0.5 * v64 * (1.0 + u.tanh())
            };
            // The f16 table this replaces is off by ~1e-3 relative; the vector path by ~1e-6.
            assert!((got as f64 - want).abs() <= 1e-5 * want.abs().max(1.0), "gelu({v}) = {got}, want {want} (#{i})");
        }
        // The maximum sits in the tail, 100 above the rest: a max that missed it overflows exp.
        let top = x.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let exps: Vec<f64> = x.iter().map(|&v| (v as f64 - top).exp()).collect();
        let sum: f64 = exps.iter().sum();
        for ((&got, e), v) in softmax.iter().zip(&exps).zip(&x) {
            assert!((got as f64 - e / sum).abs() <= 1e-6, "softmax at {v}: {got} vs {}", e / sum);
        }
    }

    #[cfg(target_arch = "x86_64")]
    mod bf16_gemm {
        /// Deterministic values in [-1, 1).
        fn values(n: usize, seed: u64) -> Vec<f32> {
            let mut s = seed;
            (0..n)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
                })
                .collect()
        }

        /// Round to the nearest bf16, ties to even (what `vcvtneps2bf16` does).
        fn bf16_bits(x: f32) -> u16 {
            let bits = x.to_bits();
            ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16
        }

        /// The f32 value of a bf16.
        fn bf16_value(bits: u16) -> f32 {
            f32::from_bits((bits as u32) << 16)
        }

        /// Patched into ggml's sgemm.cpp (crates/whisper-rs-sys/sotto/bf16_gemm.inc); the loaded
        /// CPU variant hands it out when it was built with AVX512-BF16.
        type Gemm =
            unsafe extern "C" fn(i32, i32, i64, i64, i64, *const u16, i64, *const u16, i64, *mut f32, i64) -> bool;

        fn kernel() -> Option<Gemm> {
            super::super::load_cpu_backend().ok()?;
            // SAFETY: the entry point has the signature above (bf16_gemm.inc).
            super::super::cpu_proc_address("sotto_gemm_bf16").map(|f| unsafe { std::mem::transmute::<_, Gemm>(f) })
        }

        struct Case {
            m: usize,
            n: usize,
            k: usize,
            /// Row strides past the data, as ggml's views have.
            pad: usize,
        }

        /// Run the kernel as `nth` threads would (each share in turn) into a NaN-filled C.
        fn gemm(case: &Case, a: &[u16], b: &[u16], nth: i32) -> Option<Vec<f32>> {
            let sotto_gemm_bf16 = kernel().expect("the CPU variant has Sotto's bf16 kernel");
            let (lda, ldb, ldc) = (case.k + case.pad, case.k + case.pad, case.m + case.pad);
            let mut c = vec![f32::NAN; ldc * case.n];
            for ith in 0..nth {
                // SAFETY: a is m rows of lda, b n rows of ldb, c n columns of ldc, as the kernel reads them.
                let done = unsafe {
                    sotto_gemm_bf16(
                        ith,
                        nth,
                        case.m as i64,
                        case.n as i64,
                        case.k as i64,
                        a.as_ptr(),
                        lda as i64,
                        b.as_ptr(),
                        ldb as i64,
                        c.as_mut_ptr(),
                        ldc as i64,
                    )
                };
                if !done {
                    return None;
                }
            }
            Some(c)
        }

        fn operands(case: &Case, seed: u64) -> (Vec<u16>, Vec<u16>) {
            let bits = |n| values(n, seed).into_iter().map(bf16_bits).collect::<Vec<_>>();
            (bits(case.m * (case.k + case.pad)), bits(case.n * (case.k + case.pad)))
        }

        #[test]
        #[cfg_attr(not(host_avx512bf16), ignore = "needs AVX512-BF16")]
        fn matches_an_exact_product_for_every_tile_width_and_partial_panel() {
            assert!(super::super::bf16_native(), "this CPU has AVX512-BF16 but whisper.cpp runs without it");
            let cases = [
                Case { m: 64, n: 6, k: 64, pad: 0 },
                Case { m: 384, n: 37, k: 384, pad: 0 },
                Case { m: 100, n: 13, k: 1152, pad: 6 },
                Case { m: 16, n: 1, k: 2, pad: 0 },
                Case { m: 130, n: 8, k: 70, pad: 2 },
            ];
            for (i, case) in cases.iter().enumerate() {
                let (a, b) = operands(case, 7 + i as u64);
                let (lda, ldb, ldc) = (case.k + case.pad, case.k + case.pad, case.m + case.pad);
                for nth in [1, 3, 8] {
                    let c = gemm(case, &a, &b, nth).expect("even k is handled");
                    for j in 0..case.n {
                        for r in 0..ldc {
                            let got = c[j * ldc + r];
                            if r >= case.m {
                                assert!(got.is_nan(), "row {r} past m = {} was written", case.m);
                                continue;
                            }
                            let (mut want, mut size) = (0f64, 0f64);
                            for l in 0..case.k {
                                let p = bf16_value(a[r * lda + l]) as f64 * bf16_value(b[j * ldb + l]) as f64;
                                want += p;
                                size += p.abs();
                            }
                            assert!(
                                (got as f64 - want).abs() <= 1e-5 * (size + 1e-3),
                                "case {i}, {nth} threads, C[{r}, {j}] = {got}, want {want}"
                            );
                        }
                    }
                }
            }
        }

        #[test]
        #[cfg_attr(not(host_avx512bf16), ignore = "needs AVX512-BF16")]
        fn odd_depths_are_left_to_ggml() {
            let case = Case { m: 64, n: 16, k: 63, pad: 1 };
            let (a, b) = operands(&case, 3);
            assert!(gemm(&case, &a, &b, 1).is_none());
        }
    }
}
