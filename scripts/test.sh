#!/usr/bin/env bash
# The test command: unit tests, then integration tests against the real
# Docker engine and a docker-registry the tests start on 127.0.0.1.
# Integration tests run two at a time: each starts its own registry and sandboxes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -j2 --lib --bins
cargo test -j2 --test it -- --test-threads "${PRODBOX_TEST_THREADS:-2}"
