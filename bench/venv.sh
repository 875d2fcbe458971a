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
