#!/usr/bin/env bash
# The test command: installs and starts what the tests need, builds, runs every test project,
# and ends with one line "N passed, N failed".
# Usage: bash tests/run.sh
set -uo pipefail
cd "$(dirname "$0")/.."

bash tests/install-services.sh || { echo "tests/run.sh: installing services failed"; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build Proximity.sln -c Release -nologo -v q -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
dotnet test --solution Proximity.sln -c Release --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

passed=$(grep -E '^\s+succeeded: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s+failed: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$rc"
