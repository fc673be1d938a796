# shellcheck shell=bash
# shellcheck disable=SC2034  # PG_DESCRIPTION and PG_UNAVAILABLE_REASON are the caller's to read
# provide_postgres / stop_postgres: a PostgreSQL for the test suite's PostgreSQL half.
# Sourced by scripts/test (after scripts/lib/common.sh).
#
# provide_postgres exports SHEBAO_TEST_PG_DSN, a libpq DSN of a role that may CREATE DATABASE
# (the tests create and drop one database per test), and returns 0; or returns 1 with the
# reason in PG_UNAVAILABLE_REASON. In order:
#   a. SHEBAO_TEST_PG_DSN already set and non-empty: used as is.
#   b. Otherwise a throwaway cluster: initdb + pg_ctl from the newest /usr/lib/postgresql/*/bin
#      (Debian/Ubuntu layout), else from $PATH / pg_config. None found and we are root with
#      apt-get: `apt-get install postgresql` (the package may also create and start its own
#      `main` cluster on 5432; we leave that alone and never use it). The cluster lives in a
#      fresh /tmp/shebao-test-pg.XXXXXX (data, log, Unix socket), listens on 127.0.0.1 only, on
#      the first free port from 54320 up, with trust auth for user postgres, and without
#      durability (fsync, synchronous_commit, full_page_writes off: it is thrown away).
#      PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
#      (or `nobody` if there is no such user).
# After provide_postgres, PG_DESCRIPTION says in words what is used.
#
# The caller MUST call stop_postgres on exit (trap ... EXIT), also when provide_postgres failed
# half-way: it stops the throwaway server and removes its directory, and is a no-op otherwise.

PG_DESCRIPTION=''
PG_UNAVAILABLE_REASON=''
_PG_TMPDIR=''   # the throwaway cluster's directory, once created
_PG_BINDIR=''   # directory holding initdb, pg_ctl, psql
_PG_RUN_AS=''   # OS user that runs the server when we are root; empty: the current user

# _pg_find_bindir — set _PG_BINDIR to a directory with initdb and pg_ctl; false if none.
_pg_find_bindir() {
    local dir initdb_path
    # Newest major version first (sort -V orders 9.6 < 10 < 15 < 16 correctly).
    while IFS= read -r dir; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            _PG_BINDIR=$dir
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
    # Other layouts (Fedora, Homebrew, source builds): whatever initdb is on PATH.
    if initdb_path=$(command -v initdb 2>/dev/null); then
        dir=$(dirname -- "$(readlink -f -- "$initdb_path")")
        if [[ -x $dir/pg_ctl ]]; then
            _PG_BINDIR=$dir
            return 0
        fi
    fi
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null) || dir=''
        if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            _PG_BINDIR=$dir
            return 0
        fi
    fi
    return 1
}

# _pg_install — install PostgreSQL with apt-get (root only). Output goes to a log file, shown
# only on failure, because apt is chatty.
_pg_install() {
    local log
    log=$(mktemp /tmp/shebao-apt-postgresql.XXXXXX)
    info "no PostgreSQL found; installing it with apt-get (log: $log)"
    if DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            postgresql >>"$log" 2>&1; then
        rm -f -- "$log"
        return 0
    fi
    tail -n 20 -- "$log" >&2
    return 1
}

# _pg_as CMD [ARGS...] — run CMD as the server's OS user, inside the cluster directory (the
# postgres user usually cannot read our cwd, and initdb complains if it cannot chdir back).
_pg_as() {
    if [[ -z $_PG_RUN_AS ]]; then
        (cd -- "$_PG_TMPDIR" && "$@")
    elif command -v runuser >/dev/null 2>&1; then
        (cd -- "$_PG_TMPDIR" && runuser -u "$_PG_RUN_AS" -- "$@")
    else
        # su needs a command line; %q quotes for bash, so ask su for bash explicitly.
        (cd -- "$_PG_TMPDIR" && su -s /bin/bash "$_PG_RUN_AS" -c "$(printf '%q ' "$@")")
    fi
}

# _pg_start_cluster — initdb and start the throwaway cluster; export the DSN.
_pg_start_cluster() {
    local version port attempts=0 opts

    version=$("$_PG_BINDIR/pg_ctl" --version 2>/dev/null | awk '{print $3}') || version='?'

    _PG_TMPDIR=$(mktemp -d /tmp/shebao-test-pg.XXXXXX) || {
        PG_UNAVAILABLE_REASON="mktemp -d /tmp/shebao-test-pg.XXXXXX failed"
        return 1
    }
    if is_root; then
        if id -u postgres >/dev/null 2>&1; then
            _PG_RUN_AS=postgres
        else
            _PG_RUN_AS=nobody
        fi
        # The directory is ours (0700); hand it to the server's user.
        chown "$_PG_RUN_AS" -- "$_PG_TMPDIR"
    fi

    info "starting a throwaway PostgreSQL $version in $_PG_TMPDIR${_PG_RUN_AS:+ (as $_PG_RUN_AS)}"
    # -A trust -U postgres: any local TCP client may connect as postgres without a password.
    # --no-sync: no fsync during initdb; --locale=C -E UTF8: no dependence on installed locales.
    if ! _pg_as "$_PG_BINDIR/initdb" -D "$_PG_TMPDIR/data" -A trust -U postgres -E UTF8 \
        --locale=C --no-sync >"$_PG_TMPDIR/initdb.log" 2>&1; then
        tail -n 20 -- "$_PG_TMPDIR/initdb.log" >&2
        PG_UNAVAILABLE_REASON="initdb failed (output above)"
        return 1
    fi

    # Pick a free port from 54320 up. Another process (e.g. a parallel scripts/test) may take
    # it between our check and the server's bind, so a failed start moves on to the next port.
    port=54319
    while ((attempts < 10)); do
        port=$((port + 1))
        if ((port > 54420)); then
            break
        fi
        if port_in_use "$port"; then
            continue
        fi
        attempts=$((attempts + 1))
        # No spaces in any value, so this string survives pg_ctl's sh -c word splitting.
        opts="-p $port -c listen_addresses=127.0.0.1 -k $_PG_TMPDIR"
        opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if _pg_as "$_PG_BINDIR/pg_ctl" -D "$_PG_TMPDIR/data" -l "$_PG_TMPDIR/server.log" \
            -o "$opts" -w -t 60 start >/dev/null 2>&1; then
            export SHEBAO_TEST_PG_DSN="host=127.0.0.1 port=$port user=postgres dbname=postgres"
            PG_DESCRIPTION="throwaway PostgreSQL $version on 127.0.0.1:$port"
            return 0
        fi
        # Bind races are worth another port; anything else is not.
        if ! grep -q 'could not bind\|could not create listen socket\|Address already in use' \
            "$_PG_TMPDIR/server.log" 2>/dev/null; then
            break
        fi
        warn "port $port was taken while starting; trying the next one"
    done
    tail -n 20 -- "$_PG_TMPDIR/server.log" >&2 2>/dev/null || true
    PG_UNAVAILABLE_REASON="the throwaway PostgreSQL did not start (server log above)"
    return 1
}

# provide_postgres — see the top of this file.
provide_postgres() {
    if [[ -n ${SHEBAO_TEST_PG_DSN:-} ]]; then
        export SHEBAO_TEST_PG_DSN
        PG_DESCRIPTION="PostgreSQL from SHEBAO_TEST_PG_DSN (set by the caller)"
        return 0
    fi
    if ! _pg_find_bindir; then
        if is_root && command -v apt-get >/dev/null 2>&1; then
            if ! _pg_install; then
                PG_UNAVAILABLE_REASON="apt-get install postgresql failed (output above)"
                return 1
            fi
            if ! _pg_find_bindir; then
                PG_UNAVAILABLE_REASON="postgresql was installed but no initdb/pg_ctl was found"
                return 1
            fi
        else
            PG_UNAVAILABLE_REASON="no initdb/pg_ctl found (looked in /usr/lib/postgresql/*/bin"
            PG_UNAVAILABLE_REASON+=" and PATH); install PostgreSQL, e.g."
            PG_UNAVAILABLE_REASON+=" 'sudo apt-get install postgresql', or set SHEBAO_TEST_PG_DSN"
            return 1
        fi
    fi
    _pg_start_cluster
}

# stop_postgres — stop the throwaway cluster (if any) and remove its directory. Idempotent.
stop_postgres() {
    [[ -n $_PG_TMPDIR && -d $_PG_TMPDIR ]] || return 0
    if [[ -f $_PG_TMPDIR/data/postmaster.pid ]]; then
        # Immediate: nothing in it is worth a clean shutdown. Fall back to killing the
        # postmaster (first line of postmaster.pid) if pg_ctl cannot stop it.
        if ! _pg_as "$_PG_BINDIR/pg_ctl" -D "$_PG_TMPDIR/data" -m immediate -w -t 30 stop \
            >/dev/null 2>&1; then
            local pid
            pid=$(head -n 1 -- "$_PG_TMPDIR/data/postmaster.pid" 2>/dev/null) || pid=''
            if [[ $pid =~ ^[0-9]+$ ]]; then
                kill -QUIT "$pid" 2>/dev/null || true
                sleep 1
            fi
        fi
    fi
    rm -rf -- "$_PG_TMPDIR"
    _PG_TMPDIR=''
}
