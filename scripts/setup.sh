#!/usr/bin/env bash
# Installs what Tokenline needs on a fresh machine: Bun (from the npm registry), the
# project's packages (pinned by bun.lock), Apache Kafka's jars (from Maven Central), and
# Graphviz and Chromium (from Debian's packages: machine diagrams, the web page's test).
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

# Graphviz's `dot` renders the machine diagrams that the HTTP API serves; Chromium runs the
# operator page's browser test (playwright-core drives it; its own browser download is not used).
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]} > 0)); then
  sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  say setup "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
