# Sotto's changes to the whisper.cpp that whisper-rs-sys builds.
#
# whisper-rs-sys copies its whisper.cpp sources to OUT_DIR and forwards CMAKE_* variables from the
# environment to CMake; .cargo/config.toml sets CMAKE_PROJECT_INCLUDE to this file, so CMake runs it
# right after whisper.cpp's project() call, before any target is defined. It rewrites the copies
# from whisper-rs-sys's pristine sources, so it is idempotent and a new whisper-rs-sys with
# different code fails the build here instead of silently losing a change.
#
# The changes (why: README "Benchmark", bench/experiments/whisper-mixed-types):
# 1. bf16 models keep the encoder's K/V casts and the KV caches in bf16 instead of f16, so on CPUs
#    that multiply bf16 natively the attention products run at the bf16 rate as well.
# 2. The loader accepts decoder.token_embedding.weight in a smaller type than the rest of the file
#    (Sotto's bf16 variant stores it in q8_0: the decoder reads it for every token).
# 3. ggml's bf16 x bf16 products with at least 16 columns go to Sotto's AVX512-BF16 kernel
#    (bf16_gemm.inc), which packs the weights and accumulates without horizontal sums.

include_guard(GLOBAL)

set(SOTTO_WHISPER_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
if(DEFINED ENV{CARGO_MANIFEST_DIR} AND EXISTS "$ENV{CARGO_MANIFEST_DIR}/whisper.cpp/src/whisper.cpp")
    set(SOTTO_PRISTINE_DIR "$ENV{CARGO_MANIFEST_DIR}/whisper.cpp")
else()
    set(SOTTO_PRISTINE_DIR "${SOTTO_WHISPER_DIR}")
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
[=[            // Sotto: the token embedding may be stored in a smaller type than the other weights;
            // it fits in the space allocated for the file's type, so retype the tensor in place.
            if (ggml_type(ttype) != tensor->type && name == "decoder.token_embedding.weight" &&
                ttype >= 0 && ttype < GGML_TYPE_COUNT && ggml_blck_size(ggml_type(ttype)) > 0 &&
                ne[0] % ggml_blck_size(ggml_type(ttype)) == 0 &&
                ggml_row_size(ggml_type(ttype), ne[0]) * ne[1] <= ggml_nbytes(tensor)) {
                tensor->type = ggml_type(ttype);
                tensor->nb[0] = ggml_type_size(tensor->type);
                tensor->nb[1] = ggml_row_size(tensor->type, tensor->ne[0]);
                for (int i = 2; i < GGML_MAX_DIMS; i++) {
                    tensor->nb[i] = tensor->nb[i - 1] * tensor->ne[i - 1];
                }
            }

            const size_t bpe = ggml_type_size(ggml_type(ttype));]=]
    "mixed token embedding")
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
