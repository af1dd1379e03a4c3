#!/usr/bin/env bash
# Installs what Tokenline needs on a fresh machine: Bun (from the npm registry), the
# project's packages (pinned by bun.lock) and Apache Kafka's jars (from Maven Central).
# Safe to run again: each step is skipped when already done.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

BUN_VERSION="1.4.4"

if ! command -v bun >/dev/null 2>&1 || [[ "$(bun --version)" != "$BUN_VERSION" ]]; then
  say setup "installing bun $BUN_VERSION with npm"
  npm install --global --silent "bun@$BUN_VERSION" >/dev/null
fi

say setup "installing packages (bun install --frozen-lockfile)"
bun install --frozen-lockfile >/dev/null

bash scripts/kafka.sh fetch
