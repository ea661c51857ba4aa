#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs: Debian's packages (only those missing), then the
# pinned npm dependencies. No browser or binary is downloaded: Playwright drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in mkdocs mkdocs-material python3-pymdownx chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Playwright must never fetch its own browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund
