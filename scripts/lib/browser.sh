# shellcheck shell=bash
# shellcheck disable=SC2034  # BROWSER_DESCRIPTION and BROWSER_UNAVAILABLE_REASON are the caller's
# provide_browser: headless Chromium and its WebDriver for the web console's browser tests
# (tests/browser). Sourced by scripts/test (after scripts/lib/common.sh).
#
# Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver), with
# `fonts-noto-cjk` so that the screenshots show Chinese. When they are missing and we are root
# with apt-get, they are installed (output in a log file, shown on failure). Returns 0 with
# BROWSER_DESCRIPTION set, or 1 with the reason in BROWSER_UNAVAILABLE_REASON; the tests then
# skip themselves, except with CI=true, where tests/browser/conftest.py fails them.

BROWSER_DESCRIPTION=''
BROWSER_UNAVAILABLE_REASON=''
CHROMIUM_BIN=/usr/bin/chromium
CHROMEDRIVER_BIN=/usr/bin/chromedriver

_browser_present() { [[ -x $CHROMIUM_BIN && -x $CHROMEDRIVER_BIN ]]; }

provide_browser() {
    if ! _browser_present; then
        if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
            BROWSER_UNAVAILABLE_REASON="no $CHROMIUM_BIN or $CHROMEDRIVER_BIN; install them"
            BROWSER_UNAVAILABLE_REASON+=" with 'sudo apt-get install chromium chromium-driver"
            BROWSER_UNAVAILABLE_REASON+=" fonts-noto-cjk'"
            return 1
        fi
        local log
        log=$(mktemp /tmp/shebao-apt-chromium.XXXXXX)
        info "no Chromium found; installing chromium, chromium-driver and fonts-noto-cjk" \
            "with apt-get (log: $log)"
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                chromium chromium-driver fonts-noto-cjk >>"$log" 2>&1; }; then
            tail -n 20 -- "$log" >&2
            BROWSER_UNAVAILABLE_REASON="apt-get install chromium chromium-driver failed"
            return 1
        fi
        rm -f -- "$log"
        _browser_present || {
            BROWSER_UNAVAILABLE_REASON="chromium was installed but $CHROMEDRIVER_BIN is missing"
            return 1
        }
    fi
    BROWSER_DESCRIPTION="$("$CHROMIUM_BIN" --version 2>/dev/null || echo chromium) (headless)"
    return 0
}
