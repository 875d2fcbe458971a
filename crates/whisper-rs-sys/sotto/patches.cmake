# Sotto's changes to the whisper.cpp vendored in this crate (../whisper.cpp, whisper-rs-sys 0.15.0's).
#
# build.rs copies the sources to OUT_DIR and passes this file to CMake as CMAKE_PROJECT_INCLUDE, so
# CMake runs it right after whisper.cpp's project() call, before any target is defined. It rewrites
# the copies from the pristine sources, so it is idempotent, and a whisper.cpp with different code
# fails the build here instead of silently losing a change. build.rs reruns (and so does this) when
# any file of the crate changes.
#
# The changes (why: README "Benchmark", docs/architecture.md "Portable builds"):
# 1. bf16 models keep the encoder's K/V casts and the KV caches in bf16 instead of f16, so on CPUs
#    that multiply bf16 natively the attention products run at the bf16 rate as well.
# 2. The loader accepts the decoder's matrices in a quantized type smaller than the rest of the
#    file's (Sotto's bf16 variant stores those read for every token in q8_0).
# 3. ggml's bf16 x bf16 products with at least 16 columns go to Sotto's AVX512-BF16 kernel
#    (bf16_gemm.inc), which packs the weights and accumulates without horizontal sums. It is
#    compiled into every CPU variant and does its work in those built with AVX512-BF16.
# 4. With AVX-512, GELU is computed 16 lanes at a time (x * sigmoid(2u), u the tanh form's
#    argument) instead of one f16 table lookup per value, and softmax's row maximum is
#    vectorised (a scalar compare chain before): together ~10% of a `--vad` run.
# 5. whisper.cpp defines `sotto_whisper_patches`, which src/asr/native.rs calls: a whisper.cpp
#    built without this script fails to link instead of refusing Sotto's bf16 files at run time.
# 6. The CPU backend answers `sotto_gemm_bf16` through its proc-address table when the variant
#    was built with AVX512-BF16 and the llamafile kernels: how Sotto learns, at run time, that the
#    variant ggml loaded multiplies bf16 natively (asr::bf16_native) and reaches the kernel's tests.
# 7. The x86 CPU variants ggml builds (GGML_CPU_ALL_VARIANTS, one module each, the best one for
#    the CPU loaded at run time): Sotto keeps 9 of upstream's 14, one per feature level that
#    changes whisper's kernels, to keep cold builds short (each variant is ~30 s of compiling).
# 8. The encoder graph checks the run's abort callback between its nodes (upstream checks it only
#    once the encoder is done): a partial given up at a push-to-talk key's release stops within a
#    few milliseconds instead of finishing its encoder pass (~100-150 ms on a 2-core AVX2 CPU with
#    tiny.en) before the final can start.

include_guard(GLOBAL)

set(SOTTO_WHISPER_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
# The pristine sources, which build.rs names; without them the copies may already be patched, and
# patching twice would break them.
if(NOT (DEFINED SOTTO_PRISTINE_DIR AND EXISTS "${SOTTO_PRISTINE_DIR}/src/whisper.cpp"))
    message(FATAL_ERROR "Sotto: SOTTO_PRISTINE_DIR must name the vendored whisper.cpp (build.rs sets it)")
endif()

# Replace the first occurrence of `anchor` in `text_var`; fail the build when it is missing.
function(sotto_replace_first text_var anchor replacement what)
    string(FIND "${${text_var}}" "${anchor}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "Sotto: cannot apply '${what}' to this whisper.cpp (anchor not found); "
                            "update src/asr/whisper-cpp/patches.cmake for the new whisper-rs-sys")
    endif()
    string(LENGTH "${anchor}" len)
    string(SUBSTRING "${${text_var}}" 0 ${at} head)
    math(EXPR tail_at "${at} + ${len}")
    string(SUBSTRING "${${text_var}}" ${tail_at} -1 tail)
    set(${text_var} "${head}${replacement}${tail}" PARENT_SCOPE)
endfunction()

# Write `text` to `path` only when it differs, so an unchanged file is not recompiled.
function(sotto_write path text)
    if(EXISTS "${path}")
        file(READ "${path}" old)
        if(old STREQUAL text)
            return()
        endif()
    endif()
    file(WRITE "${path}" "${text}")
endfunction()

# 1 and 2: src/whisper.cpp
file(READ "${SOTTO_PRISTINE_DIR}/src/whisper.cpp" src)
sotto_replace_first(src
[=[        WHISPER_LOG_INFO("%s: n_vocab       = %d\n", __func__, hparams.n_vocab);]=]
[=[        // Sotto: bf16 models keep attention intermediates in bf16 (native products).
        wctx.itype = wctx.wtype == GGML_TYPE_BF16 ? GGML_TYPE_BF16 : GGML_TYPE_F16;

        WHISPER_LOG_INFO("%s: n_vocab       = %d\n", __func__, hparams.n_vocab);]=]
    "bf16 intermediates")
# The Whisper model's loader comes before the VAD model's, which has the same code.
sotto_replace_first(src
[=[            const size_t bpe = ggml_type_size(ggml_type(ttype));]=]
[=[            // Sotto: a decoder matrix may be stored in a quantized type smaller than the other
            // weights (every op on them takes any type); it fits in the space allocated for the
            // file's type, so retype the tensor in place.
            if (ggml_type(ttype) != tensor->type && name.rfind("decoder.", 0) == 0 && n_dims == 2 &&
                ttype >= 0 && ttype < GGML_TYPE_COUNT && ggml_is_quantized(ggml_type(ttype)) &&
                ggml_blck_size(ggml_type(ttype)) > 0 && ne[0] % ggml_blck_size(ggml_type(ttype)) == 0 &&
                ggml_row_size(ggml_type(ttype), ne[0]) * ne[1] <= ggml_nbytes(tensor)) {
                tensor->type = ggml_type(ttype);
                tensor->nb[0] = ggml_type_size(tensor->type);
                tensor->nb[1] = ggml_row_size(tensor->type, tensor->ne[0]);
                for (int i = 2; i < GGML_MAX_DIMS; i++) {
                    tensor->nb[i] = tensor->nb[i - 1] * tensor->ne[i - 1];
                }
            }

            const size_t bpe = ggml_type_size(ggml_type(ttype));]=]
    "mixed decoder types")
# 8
sotto_replace_first(src
[=[static bool ggml_graph_compute_helper(
      ggml_backend_sched_t   sched,]=]
[=[// Sotto: give (or take back, with nullptr) the run's abort callback to the scheduler's backends
// that take one, so that they check it between the graph's nodes.
static void sotto_set_abort_callback(ggml_backend_sched_t sched, ggml_abort_callback cb, void * data) {
    for (int i = 0; i < ggml_backend_sched_get_n_backends(sched); ++i) {
        ggml_backend_t backend = ggml_backend_sched_get_backend(sched, i);
        ggml_backend_dev_t dev = ggml_backend_get_device(backend);
        ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;
        auto * fn = reg ? (ggml_backend_set_abort_callback_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_abort_callback") : nullptr;
        if (fn) {
            fn(backend, cb, data);
        }
    }
}

static bool ggml_graph_compute_helper(
      ggml_backend_sched_t   sched,]=]
    "abort callback setter")
sotto_replace_first(src
[=[        if (!ggml_graph_compute_helper(sched, gf, n_threads)) {
            return false;
        }
    }

    // cross]=]
[=[        // Sotto: the encoder is most of a short window's cost; a stop checked only after it
        // came up to its whole length late.
        sotto_set_abort_callback(sched, abort_callback, abort_callback_data);
        const bool computed = ggml_graph_compute_helper(sched, gf, n_threads);
        sotto_set_abort_callback(sched, nullptr, nullptr);
        if (!computed) {
            return false;
        }
    }

    // cross]=]
    "abort inside the encoder")

# 5
string(APPEND src [=[

// Sotto: marks a whisper.cpp built with Sotto's changes (src/asr/native.rs links to it).
extern "C" int sotto_whisper_patches(void) { return 1; }
]=])
sotto_write("${SOTTO_WHISPER_DIR}/src/whisper.cpp" "${src}")

# 3: ggml's llamafile sgemm
set(sgemm_rel "ggml/src/ggml-cpu/llamafile/sgemm.cpp")
file(READ "${SOTTO_PRISTINE_DIR}/${sgemm_rel}" src)
sotto_replace_first(src
[=[#include <type_traits>]=]
"#include <type_traits>\n#include \"${CMAKE_CURRENT_LIST_DIR}/bf16_gemm.inc\""
    "bf16 kernel include")
sotto_replace_first(src
[=[    case GGML_TYPE_BF16: {
#if defined(__AVX512BF16__)
        if (Btype == GGML_TYPE_BF16) {]=]
[=[    case GGML_TYPE_BF16: {
#if defined(__AVX512BF16__)
        if (Btype == GGML_TYPE_BF16 && n >= 16 &&
            sotto_gemm_bf16(params->ith, params->nth, m, n, k, A, lda, B, ldb, (float *)C, ldc)) {
            return true;
        }
        if (Btype == GGML_TYPE_BF16) {]=]
    "bf16 kernel call")
sotto_write("${SOTTO_WHISPER_DIR}/${sgemm_rel}" "${src}")

# 4: ggml-cpu's vector helpers
set(vec_rel "ggml/src/ggml-cpu/vec.h")
file(READ "${SOTTO_PRISTINE_DIR}/${vec_rel}" src)
sotto_replace_first(src
[=[#ifdef GGML_GELU_FP16
inline static void ggml_vec_gelu_f32(const int n, float * y, const float * x) {
    uint16_t t;
    for (int i = 0; i < n; ++i) {]=]
[=[#if defined(__AVX512F__) && defined(__AVX512DQ__)
inline static __m512 ggml_v_expf(__m512 x);
#endif
#ifdef GGML_GELU_FP16
inline static void ggml_vec_gelu_f32(const int n, float * y, const float * x) {
    int i = 0;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
    // Sotto: 0.5 x (1 + tanh u) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + a x^3), in f32;
    // 0 at x <= -10 as the table path (also for -inf, where the quotient would be NaN).
    const __m512 c1 = _mm512_set1_ps(-2.0f*SQRT_2_OVER_PI);
    const __m512 c3 = _mm512_set1_ps(-2.0f*SQRT_2_OVER_PI*GELU_COEF_A);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 low = _mm512_set1_ps(-10.0f);
    for (; i + 15 < n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __m512 e = ggml_v_expf(_mm512_mul_ps(v, _mm512_fmadd_ps(c3, _mm512_mul_ps(v, v), c1)));
        const __mmask16 keep = _mm512_cmp_ps_mask(v, low, _CMP_NLE_UQ);
        _mm512_storeu_ps(y + i, _mm512_maskz_div_ps(keep, v, _mm512_add_ps(one, e)));
    }
#endif
    uint16_t t;
    for (; i < n; ++i) {]=]
    "vector GELU")
sotto_replace_first(src
[=[inline static void ggml_vec_max_f32(const int n, float * s, const float * x) {
#ifndef GGML_USE_ACCELERATE
    float max = -INFINITY;
    for (int i = 0; i < n; ++i) {]=]
[=[inline static void ggml_vec_max_f32(const int n, float * s, const float * x) {
#ifndef GGML_USE_ACCELERATE
    float max = -INFINITY;
    int i = 0;
#if defined(__AVX512F__)
    // Sotto: 16 lanes at a time (softmax rows carry no NaN; ggml asserts it in debug builds).
    if (n >= 16) {
        __m512 m = _mm512_loadu_ps(x);
        for (i = 16; i + 15 < n; i += 16) {
            m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
        }
        max = _mm512_reduce_max_ps(m);
    }
#endif
    for (; i < n; ++i) {]=]
    "vector max")
sotto_write("${SOTTO_WHISPER_DIR}/${vec_rel}" "${src}")

# 6: the CPU backend's proc-address table
set(cpu_rel "ggml/src/ggml-cpu/ggml-cpu.cpp")
file(READ "${SOTTO_PRISTINE_DIR}/${cpu_rel}" src)
sotto_replace_first(src
[=[static void * ggml_backend_cpu_get_proc_address(ggml_backend_reg_t reg, const char * name) {]=]
[=[#if defined(__AVX512BF16__) && defined(__AVX512F__) && defined(GGML_USE_LLAMAFILE)
// Sotto: defined in llamafile/sgemm.cpp (bf16_gemm.inc).
extern "C" bool sotto_gemm_bf16(int ith, int nth, int64_t m, int64_t n, int64_t k, const void *A,
                                int64_t lda, const void *B, int64_t ldb, float *C, int64_t ldc);
#endif

static void * ggml_backend_cpu_get_proc_address(ggml_backend_reg_t reg, const char * name) {
#if defined(__AVX512BF16__) && defined(__AVX512F__) && defined(GGML_USE_LLAMAFILE)
    // Sotto: present only in variants whose sgemm multiplies bf16 natively (asr::bf16_native).
    if (strcmp(name, "sotto_gemm_bf16") == 0) {
        return (void *)sotto_gemm_bf16;
    }
#endif]=]
    "bf16 kernel entry")
sotto_write("${SOTTO_WHISPER_DIR}/${cpu_rel}" "${src}")

# 7: ggml's x86 CPU variants. Dropped from upstream's list: ivybridge and piledriver (sandybridge
# plus F16C/FMA: they fall back to it), cannonlake (rare), cascadelake and cooperlake (servers:
# they fall back to skylakex).
set(variants_rel "ggml/src/CMakeLists.txt")
file(READ "${SOTTO_PRISTINE_DIR}/${variants_rel}" src)
sotto_replace_first(src
[=[        ggml_add_cpu_backend_variant(x64)
        ggml_add_cpu_backend_variant(sse42              SSE42)
        ggml_add_cpu_backend_variant(sandybridge        SSE42 AVX)
        if (NOT MSVC)
            # __FMA__ and __F16C__ are not defined in MSVC, however they are implied with AVX2/AVX512
            ggml_add_cpu_backend_variant(ivybridge      SSE42 AVX F16C)
            ggml_add_cpu_backend_variant(piledriver     SSE42 AVX F16C FMA)
        endif()
        ggml_add_cpu_backend_variant(haswell            SSE42 AVX F16C FMA AVX2 BMI2)
        ggml_add_cpu_backend_variant(skylakex           SSE42 AVX F16C FMA AVX2 BMI2 AVX512)
        ggml_add_cpu_backend_variant(cannonlake         SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI)
        ggml_add_cpu_backend_variant(cascadelake        SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VNNI)
        ggml_add_cpu_backend_variant(icelake            SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI)
        if (NOT MSVC)
            # MSVC 2022 doesn't support BF16 intrinsics without `/arch:AVX10.1` ?!
            # https://learn.microsoft.com/en-us/cpp/intrinsics/x64-amd64-intrinsics-list?view=msvc-170
            # https://learn.microsoft.com/en-us/cpp/build/reference/arch-x64?view=msvc-170
            ggml_add_cpu_backend_variant(cooperlake     SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VNNI AVX512_BF16)
            ggml_add_cpu_backend_variant(zen4           SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16)
        endif()]=]
[=[        # Sotto: 9 of upstream's 14 variants (crates/whisper-rs-sys/sotto/patches.cmake, change 7).
        ggml_add_cpu_backend_variant(x64)
        ggml_add_cpu_backend_variant(sse42              SSE42)
        ggml_add_cpu_backend_variant(sandybridge        SSE42 AVX)
        ggml_add_cpu_backend_variant(haswell            SSE42 AVX F16C FMA AVX2 BMI2)
        ggml_add_cpu_backend_variant(skylakex           SSE42 AVX F16C FMA AVX2 BMI2 AVX512)
        ggml_add_cpu_backend_variant(icelake            SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI)
        if (NOT MSVC)
            ggml_add_cpu_backend_variant(zen4           SSE42 AVX F16C FMA AVX2 BMI2 AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16)
        endif()]=]
    "CPU variants")
sotto_write("${SOTTO_WHISPER_DIR}/${variants_rel}" "${src}")
