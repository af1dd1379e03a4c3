#!/usr/bin/env bash
# The test command: installs what is missing, starts Kafka and Redis, checks types and
# lint, runs every test with vitest under Bun, and ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

bash scripts/setup.sh || die setup "installation failed"
bash scripts/kafka.sh start || die kafka "the broker did not start"
bash scripts/redis.sh start || die redis "Redis did not start"

mkdir -p "$RUN_DIR"
checks_failed=0
say check "tsc --noEmit"
bunx tsc --noEmit -p . || checks_failed=1
say check "biome check"
bunx biome check . || checks_failed=1

report="$RUN_DIR/vitest.json"
rm -f "$report"
bun --bun vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
vitest_status=$?

passed=0
failed=0
if [[ -f "$report" ]]; then
  read -r passed failed < <(bun -e "
    const r = JSON.parse(require('fs').readFileSync('$report', 'utf8'));
    // A file that failed without running its tests (an import or set-up error) counts once;
    // numFailedTestSuites would count every describe block around a failing test as well.
    const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
    console.log(r.numPassedTests, r.numFailedTests + brokenFiles);
  ")
fi
if [[ "$vitest_status" -ne 0 && "$failed" -eq 0 ]]; then failed=1; fi
if [[ "$checks_failed" -ne 0 ]]; then
  say check "type check or lint failed"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
