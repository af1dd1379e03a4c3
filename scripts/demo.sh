#!/usr/bin/env bash
# The main job: installs what is missing, starts Kafka and Redis, then runs the demo
# (built-in replica, held-out SpamAssassin emails through the pipeline, report).
# Flags go to the demo: --exit, --limit N, --partitions N, --slots N, --service-time-ms N.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

bash scripts/setup.sh
bash scripts/kafka.sh start
bash scripts/redis.sh start
exec bun src/main.ts demo "$@"
