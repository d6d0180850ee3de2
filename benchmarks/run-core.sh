#!/usr/bin/env bash
# Runs the spatial core benchmarks (BenchmarkDotNet, short in-process job, memory diagnoser) and writes
# one markdown file with all tables: benchmarks/results/core.md.
# Usage: bash benchmarks/run-core.sh [BenchmarkDotNet filter, default '*']
#   e.g. bash benchmarks/run-core.sh '*OffenderFix*'
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-*}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build benchmarks/Proximity.Benchmarks -c Release -nologo -v q -clp:ErrorsOnly
artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT
dotnet benchmarks/Proximity.Benchmarks/bin/Release/net10.0/Proximity.Benchmarks.dll \
  --filter "$filter" --artifacts "$artifacts"
mkdir -p benchmarks/results
out=benchmarks/results/core.md
{
  echo "# Spatial core benchmarks"
  echo
  echo "Command: \`bash benchmarks/run-core.sh '$filter'\` ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))."
  for f in "$artifacts"/results/*-report-github.md; do
    echo
    echo "## $(basename "$f" -report-github.md | sed 's/^Proximity\.Benchmarks\.//')"
    echo
    # BenchmarkDotNet's environment header is the same for every table: keep it once, above.
    sed -n '/^| /,$p' "$f" | sed "s/&#39;//g; s/'//g"
  done
  echo
  echo '```'
  sed -n '/^```/,/^```/p' "$(ls "$artifacts"/results/*-report-github.md | head -1)" | sed '1d;$d'
  echo '```'
} > "$out"
echo "wrote $out"
