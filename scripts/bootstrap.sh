#!/usr/bin/env bash
# Installs every tool the local stack and the tests need, idempotently, from the package registries only.
# Safe to run again: each step is skipped when its tool is already at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

GARAGE_VERSION=2.5.0
# Firefox's WebDriver server (Marionette behind it); the other engines' come with their packages.
GECKODRIVER_VERSION=0.37.1
PY_PACKAGES=("moto[server]==5.2.5" "cargo-lambda==1.9.2" "cfn-lint==1.58.0" "aws-sam-translator==1.115.0" "boto3>=1.35")

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "python venv at $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import moto, cfnlint, samtranslator, boto3' 2>/dev/null || [ ! -x "$VENV/bin/cargo-lambda" ]; then
  step "pip install ${PY_PACKAGES[*]}"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
fi

if ! garage --version 2>/dev/null | grep -q "cargo:$GARAGE_VERSION "; then
  step "cargo install garage $GARAGE_VERSION (about 10 minutes on 2 cores, once)"
  cargo install garage --version "$GARAGE_VERSION" --locked
fi
# The engines users have, from Debian (a browser download cannot work here): Chromium with its
# WebDriver server, Firefox ESR, and WebKitGTK (WebKitWebDriver and MiniBrowser) in a virtual display.
BROWSER_PACKAGES=(chromium chromium-driver firefox-esr webkit2gtk-driver xvfb xauth)
missing=()
for package in "${BROWSER_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]} (the browser tests' engines)"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! geckodriver --version 2>/dev/null | grep -q "^geckodriver $GECKODRIVER_VERSION"; then
  step "cargo install geckodriver $GECKODRIVER_VERSION (about 3 minutes, once)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  step "npm ci (playwright-core, driving Debian's chromium; axe-core, the accessibility check)"
  npm ci --no-audit --no-fund --loglevel=error
fi

step "tools ready: garage $GARAGE_VERSION, geckodriver $GECKODRIVER_VERSION, moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)'), cargo-lambda $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("cargo-lambda"))')"
