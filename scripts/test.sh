#!/usr/bin/env bash
# The project's one test command (`npm test`, and CI through .ci/run). Every check runs even
# when an earlier one fails, so the closing `tests: N passed, M failed` line always covers
# everything; a failed static step counts as one failed test.
set -euo pipefail
cd "$(dirname "$0")/.."

failed_steps=()

step() {
  local name="$1"
  shift
  echo "==> $name: $*" >&2
  # Tools' reports go to stderr with jest's, so stdout ends with the summary alone.
  if ! "$@" >&2; then
    echo "==> $name FAILED" >&2
    failed_steps+=("$name")
  fi
}

step install-test-deps bash scripts/install-test-deps.sh
# test/generated/openapi.ts (the typed client's types, openapi-typescript) must match openapi.yaml
# before the type-check reads it; `npm run openapi` rewrites both.
step openapi-client-drift npm run -s openapi:types -- --check
step eslint npx eslint .
step prettier npx prettier --check .
step typecheck npm run -s typecheck
step build npm run build
step migration-drift node dist/bin/schema-drift.js
# A smoke run only, to prove the benchmark works; it asserts no time (see bench/README.md).
step bench-smoke node bench/run.mjs --quick
step openapi-drift node dist/bin/openapi.js --check
# The /api contract under a fuzzer: schemathesis against the served document (README, Tests).
step api-fuzz bash scripts/fuzz-api.sh
step deploy bash scripts/check-deploy.sh
# rulecheck validates the chart's alert rules (test/deploy/observability.spec.ts); built once, cached.
step rulecheck bash scripts/tools/rulecheck.sh

results="$(mktemp -t byok-jest-XXXXXX)"
trap 'rm -f "$results"' EXIT
jest_status=0
NODE_OPTIONS=--experimental-vm-modules npx jest --json --outputFile="$results" >&2 || jest_status=$?

# Counts from jest's JSON. A suite that crashed before running its tests reports no failed
# test, so each such suite counts as one failure: a crash must never look green.
node - "$results" "$jest_status" "${failed_steps[@]}" <<'JS'
const fs = require('node:fs');
const [file, jestStatus, ...failedSteps] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const notes = [];
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch {
  report = undefined;
}
if (report) {
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  let crashed = 0;
  for (const suite of report.testResults ?? []) {
    const testFailed = (suite.assertionResults ?? []).some((a) => a.status === 'failed');
    if (suite.testExecError || (suite.status === 'failed' && !testFailed)) {
      crashed += 1;
      notes.push(`suite failed outside its tests: ${suite.name}`);
    }
  }
  failed += Math.max(crashed, report.numRuntimeErrorTestSuites ?? 0);
}
if (jestStatus !== '0' && failed === 0) {
  failed += 1;
  notes.push(`jest exited with status ${jestStatus}${report ? '' : ' and wrote no results'}`);
}
for (const step of failedSteps) notes.push(`failed step: ${step}`);
failed += failedSteps.length;
for (const note of notes) console.log(note);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed + failed === 0 ? 1 : 0);
JS
