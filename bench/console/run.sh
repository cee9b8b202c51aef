#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# run.sh - the console's numbers of issue 6: 2,000 units moving at one
# position a second and 500 open incidents, the console in Debian's headless
# Chromium (playwright-core, installed by scripts/test); frames per second
# (still, and panned every frame) and device -> screen latency. Builds
# build/ (scripts/build), starts its own amaned on a fresh demo database on
# loopback, and prints one JSON line.
#
# Usage: bench/console/run.sh [--units 2000] [--incidents 500] [--seconds 20] [--warmup 5]
# Targets (issue 6): at least 30 frames per second; an update on screen
# under 250 ms after the device sent it.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/build release >/dev/null
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
AMANE_BIN_DIR=$PWD/build AMANE_SOURCE_DIR=$PWD exec node bench/console/console_load.mjs "$@"
