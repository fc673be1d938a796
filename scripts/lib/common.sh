# shellcheck shell=bash
# Small helpers shared by scripts/test and scripts/run. Sourced, never executed.
#
# Messages go to stderr so that stdout stays free for the commands' own output.

# Colour only when stderr is a terminal and NO_COLOR is not set (https://no-color.org).
if [[ -t 2 && -z ${NO_COLOR:-} ]]; then
    _C_BOLD=$'\e[1m' _C_RED=$'\e[31m' _C_YELLOW=$'\e[33m' _C_RESET=$'\e[0m'
else
    _C_BOLD='' _C_RED='' _C_YELLOW='' _C_RESET=''
fi

# info MESSAGE...  — a progress line ("==> ...").
info() { printf '%s==> %s%s\n' "$_C_BOLD" "$*" "$_C_RESET" >&2; }

# warn MESSAGE...  — something the user should read, but not fatal.
warn() { printf '%swarning:%s %s\n' "$_C_YELLOW" "$_C_RESET" "$*" >&2; }

# die MESSAGE...  — print an error and exit 1 (runs the caller's EXIT trap).
die() { printf '%serror:%s %s\n' "$_C_RED" "$_C_RESET" "$*" >&2; exit 1; }

# is_root — true when running as uid 0.
is_root() { [[ $(id -u) -eq 0 ]]; }

# port_in_use PORT — true when something accepts TCP connections on 127.0.0.1:PORT.
# Uses bash's /dev/tcp, so needs no ss/netstat/lsof. A refused connection returns at once.
port_in_use() {
    local port=$1
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# sha256_of FILE — print the hex sha256 of FILE (coreutils, BSD/macOS, or Python fallback).
sha256_of() {
    local file=$1
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$file" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 -- "$file" | cut -d' ' -f1
    else
        python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$file"
    fi
}
