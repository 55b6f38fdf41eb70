#!/usr/bin/env bash
# Files a device call of scripts/gpu_session.sh brought back (summary.md, results.tar.gz) into
# bench/results/gpu-<date>-<commit>[-<n>]/ (RESULTS_DIR, relative to the repository, instead of bench/results): the summary, the archive
# (logs, Nsight Compute CSVs) and, read from it, the JSON and Markdown results. Prints where they went and
# what reads them next.
#   bash scripts/gpu_import.sh FILES_AT
set -euo pipefail
src="${1:?usage: bash scripts/gpu_import.sh FOLDER (the files_at of a gpu_session.sh call)}"
[[ -f "$src/summary.md" ]] || { echo "error: no summary.md in $src" >&2; exit 1; }
src="$(cd "$src" && pwd)"
date="$(sed -n 's/^- date: \([0-9-]*\).*/\1/p' "$src/summary.md")"
commit="$(sed -n 's/^- commit: \([0-9a-f]\{8\}\).*/\1/p' "$src/summary.md")"
[[ -n "$date" && -n "$commit" ]] || { echo "error: $src/summary.md names no date or commit" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dest="${RESULTS_DIR:-bench/results}/gpu-$date-$commit"
n=2
base="$dest"
while [[ -e "$dest" ]]; do dest="$base-$n"; n=$((n + 1)); done
mkdir -p "$dest"
cp "$src/summary.md" "$dest/"
if [[ -f "$src/results.tar.gz" ]]; then
  cp "$src/results.tar.gz" "$dest/"
  tar -xzf "$dest/results.tar.gz" -C "$dest" --strip-components=1 --wildcards '*.json' '*.jsonl' '*.md' 2>/dev/null || true
fi
echo "imported into $dest:"
ls "$dest"
cat <<EOF
next: sj=/work/sjvenv/bin/python (any Python with matplotlib)
  \$sj bench/compare/plot.py $dest/compare.json --out-dir docs/img      # and sweep.json
  python3 bench/kernel_breakdown.py $dest/results.tar.gz --markdown     # where the step's GPU time goes
EOF
