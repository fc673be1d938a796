# shellcheck shell=bash
# ensure_venv: create ./.venv and install the project into it, editable, with the dev extras.
# Sourced by scripts/test and scripts/run (after scripts/lib/common.sh), from the repo root.
#
# - The virtualenv is created with `python3 -m venv` when .venv/bin/python is missing or no
#   longer runs (e.g. the Python it was made from was removed). $PYTHON picks the interpreter;
#   otherwise the first of python3, python3.13, python3.12, python3.11 that is >= 3.11
#   (pyproject's requires-python).
# - `pip install -e ".[dev]"` runs only when pyproject.toml changed since the last successful
#   install: a stamp file .venv/.installed-<sha256 of pyproject.toml> records it. Set
#   SHEBAO_REINSTALL=1 to force a reinstall (e.g. after breaking the venv by hand).
# - Two scripts starting at once (scripts/test in one terminal, scripts/run in another) are
#   serialised by a lock on .venv/.lock (when flock(1) exists), so they never pip-install into
#   the same venv concurrently.

VENV_DIR=.venv

# _python_ok INTERPRETER — true when INTERPRETER runs and is Python >= 3.11.
_python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

# _find_python — print the name of a suitable interpreter for creating the venv.
_find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [[ -n $candidate ]] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if _python_ok "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

# _create_venv — (re)create $VENV_DIR. Keeps the lock file (venv --clear would remove it, so we
# clear by hand). On Debian/Ubuntu, `python3 -m venv` fails without the python3-venv package
# (no ensurepip); as root with apt-get we install it and try once more.
_create_venv() {
    local py
    py=$(_find_python) || die "no Python >= 3.11 found (tried \$PYTHON, python3, python3.13," \
        "python3.12, python3.11). Install one, or point PYTHON at it: PYTHON=/path/to/python3.12 $0"
    info "creating $VENV_DIR with $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"
    # Remove whatever is left of a broken venv, except the lock we may be holding.
    find "$VENV_DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf -- {} +
    if "$py" -m venv "$VENV_DIR"; then
        return 0
    fi
    if is_root && command -v apt-get >/dev/null 2>&1; then
        local ver
        ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        warn "'$py -m venv' failed; installing python3-venv with apt-get and retrying"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || die "apt-get update failed"
        if ! apt-get install -y -qq "python${ver}-venv"; then
            apt-get install -y -qq python3-venv || die "could not install python3-venv with apt-get"
        fi
        find "$VENV_DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf -- {} +
        "$py" -m venv "$VENV_DIR" && return 0
    fi
    die "'$py -m venv $VENV_DIR' failed. On Debian/Ubuntu install the venv module:" \
        "sudo apt-get install python3-venv"
}

# ensure_venv — make $VENV_DIR exist, run, and hold the current project and dev tools.
ensure_venv() {
    [[ -f pyproject.toml ]] || die "pyproject.toml not found in $PWD (run from the repo)"
    mkdir -p "$VENV_DIR"

    # Serialise concurrent installs. The fd stays open (and the lock held) until we close it.
    local lock_fd=''
    if command -v flock >/dev/null 2>&1; then
        exec {lock_fd}>"$VENV_DIR/.lock"
        if ! flock -n "$lock_fd"; then
            info "waiting for another script that is installing into $VENV_DIR"
            flock "$lock_fd"
        fi
    fi

    if [[ ! -x $VENV_DIR/bin/python ]]; then
        _create_venv
    elif ! _python_ok "$VENV_DIR/bin/python"; then
        warn "$VENV_DIR/bin/python does not run or is older than 3.11; recreating $VENV_DIR"
        _create_venv
    fi

    local hash stamp
    hash=$(sha256_of pyproject.toml)
    stamp="$VENV_DIR/.installed-$hash"
    if [[ -e $stamp && -z ${SHEBAO_REINSTALL:-} ]]; then
        : # up to date: pyproject.toml unchanged since the last successful install
    else
        info "installing the project into $VENV_DIR (pip install -e \".[dev]\")"
        # PIP_* settings from the environment (index URL, proxy, cache) still apply.
        "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]" \
            || die "pip install -e \".[dev]\" failed (see pip's output above)"
        # Only now, after success, record the install; drop stamps of older pyproject.tomls.
        rm -f -- "$VENV_DIR"/.installed-*
        : >"$stamp"
    fi

    if [[ -n $lock_fd ]]; then
        exec {lock_fd}>&-
    fi
}
