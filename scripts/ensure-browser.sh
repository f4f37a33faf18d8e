#!/usr/bin/env bash
# Make sure Debian's Chromium and a Chinese font are installed for the console's browser tests
# (tests/console). Playwright drives /usr/bin/chromium; `playwright install` is never used.
# Idempotent: does nothing when both are there. As root it installs them with apt-get and fails
# if that fails; otherwise it says what is missing and exits 0 (the browser tests then skip).
set -uo pipefail

PACKAGES=(chromium fonts-wqy-microhei)

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q "ok installed" || missing+=(fonts-wqy-microhei)

if [ ${#missing[@]} -eq 0 ]; then
    echo "Chromium and fonts-wqy-microhei are installed: the console browser tests will run."
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} with apt-get..."
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" >/dev/null; }; then
        echo "apt-get could not install ${PACKAGES[*]}: the console browser tests cannot run." >&2
        exit 1
    fi
fi
if [ -x /usr/bin/chromium ]; then
    echo "Chromium installed: the console browser tests will run."
else
    echo "Chromium is not installed (need root and apt-get for: ${PACKAGES[*]}): the console browser tests will be skipped."
fi
exit 0
