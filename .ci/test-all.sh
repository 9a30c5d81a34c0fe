#!/usr/bin/env bash
# npm test – every check, in the order that fails fastest: typecheck, lint, unit, build, integration, e2e.
# Integration tests use the embedded PostgreSQL and the machine's PostgreSQL server (127.0.0.1:5432);
# e2e tests drive Debian's Chromium (/usr/bin/chromium) against a production build.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1

if [ ! -d node_modules ]; then
  echo "==> installing dependencies (npm ci)"
  npm ci
fi
if [ ! -x /usr/bin/chromium ] && [ -z "${PLAYWRIGHT_CHROMIUM:-}" ]; then
  echo "!! Chromium is missing: the browser tests cannot run. Install it with: apt-get install -y chromium" >&2
  exit 1
fi

results=$(mktemp -d)
started=$(date +%s)
step() { echo; echo "==> $1 ($(( $(date +%s) - started ))s)"; }

step "typecheck"
npx tsc --noEmit
step "lint"
npx eslint --max-warnings=0 .
step "build (next build)"
npx next build
step "unit and integration tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
step "end-to-end tests (playwright, Chromium)"
PLAYWRIGHT_JSON_OUTPUT_FILE="$results/playwright.json" npx playwright test --reporter=list,json

# One closing line for every runner together.
node -e '
  const fs = require("fs");
  const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const p = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).stats;
  const passed = v.numPassedTests + p.expected;
  const failed = v.numFailedTests + p.unexpected;
  const skipped = v.numPendingTests + v.numTodoTests + p.skipped;
  console.log(`\nTotal: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results/vitest.json" "$results/playwright.json"
echo "all checks passed in $(( $(date +%s) - started ))s"
