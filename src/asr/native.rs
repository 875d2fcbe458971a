//! Sotto's changes to the whisper.cpp it links (`whisper-cpp/patches.cmake`, applied when
//! whisper-rs-sys builds it): bf16 attention intermediates for bf16 models, decoder matrices
//! stored in a smaller quantized type than the other weights, an AVX512-BF16 matrix product, and
//! vectorised GELU and softmax maximum. Only the product has an entry point to test directly; the
//! rest is covered by transcribing (tests/asr.rs, tests/models.rs).

use std::ffi::c_int;

unsafe extern "C" {
    /// Defined by patches.cmake in whisper.cpp: a build that missed Sotto's changes fails to
    /// link here rather than refusing Sotto's bf16 files (q8_0 decoder) at run time.
    fn sotto_whisper_patches() -> c_int;
}

/// Whether the linked whisper.cpp multiplies bf16 natively: Sotto's build of it, compiled for a
/// CPU with AVX512-BF16 (ggml builds for the CPU it is built on), which this one must then be.
pub fn bf16_native() -> bool {
    // SAFETY: both take nothing and return a constant of the build.
    unsafe { sotto_whisper_patches() >= 1 && whisper_rs::whisper_rs_sys::ggml_cpu_has_avx512_bf16() != 0 }
}

#[cfg(test)]
mod tests {
    /// Label naming the patches' content; `.cargo/config.toml` passes it to whisper-rs-sys's
    /// build (as `BINDGEN_EXTRA_CLANG_ARGS`), the one input that makes that build rerun when
    /// they change.
    fn patches_label() -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(include_bytes!("whisper-cpp/patches.cmake"));
        hash.update(include_bytes!("whisper-cpp/bf16_gemm.inc"));
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("-DSOTTO_WHISPER_PATCHES={}", &hex[..12])
    }

    #[test]
    fn the_build_reruns_when_the_patches_change() {
        let config = include_str!("../../.cargo/config.toml");
        let line = format!("BINDGEN_EXTRA_CLANG_ARGS = \"{}\"", patches_label());
        assert!(
            config.lines().any(|l| l.trim() == line),
            "the patches changed: set `{line}` in .cargo/config.toml, or whisper.cpp is not rebuilt with them"
        );
    }

    /// GELU and softmax through ggml's own graph on one row: `values` in, the two outputs back.
    fn ggml_gelu_and_softmax(values: &[f32]) -> (Vec<f32>, Vec<f32>) {
        use whisper_rs::whisper_rs_sys as sys;
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
            assert_eq!(sys::ggml_graph_compute_with_ctx(ctx, graph, 1), sys::ggml_status_GGML_STATUS_SUCCESS);
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

        unsafe extern "C" {
            /// Patched into ggml's sgemm.cpp (whisper-cpp/bf16_gemm.inc).
            fn sotto_gemm_bf16(
                ith: i32,
                nth: i32,
                m: i64,
                n: i64,
                k: i64,
                a: *const u16,
                lda: i64,
                b: *const u16,
                ldb: i64,
                c: *mut f32,
                ldc: i64,
            ) -> bool;
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
        fn odd_depths_are_left_to_ggml() {
            let case = Case { m: 64, n: 16, k: 63, pad: 1 };
            let (a, b) = operands(&case, 3);
            assert!(gemm(&case, &a, &b, 1).is_none());
        }
    }
}
