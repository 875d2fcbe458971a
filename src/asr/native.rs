//! Sotto's changes to the whisper.cpp it links (`whisper-cpp/patches.cmake`, applied when
//! whisper-rs-sys builds it): bf16 attention intermediates for bf16 models, decoder matrices
//! stored in a smaller quantized type than the other weights, an AVX512-BF16 matrix product, and
//! vectorised GELU and softmax maximum. Only the product has an entry point to test directly; the
//! rest is covered by transcribing (tests/asr.rs, tests/models.rs).

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

    #[cfg(target_arch = "x86_64")]
    mod bf16_gemm {
        use crate::text::gemm::tests::values;
        use crate::text::linear::{bf16_bits, bf16_value, supported};

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
        fn matches_an_exact_product_for_every_tile_width_and_partial_panel() {
            if !supported() {
                eprintln!("skipped: this CPU lacks AVX512-BF16");
                return;
            }
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
