#!/usr/bin/env bash
# CPU cost of one cached read, per route: read-bench serves its targets (READ_BENCH_SERVE_SECONDS), wrk loads
# one route at a time, `perf stat` counts the server's task-clock over the load (µs of CPU per request), and
# `perf record -g` keeps its top frames. Run after `make bench` (it uses the release builds bench.sh made).
#   scripts/read-profile.sh [BIN_DIR [PLUGIN_SO_DIR]]   → a Markdown summary on stdout, progress on stderr
# BIN_DIR defaults to Benchmarks/Suite's release products, PLUGIN_SO_DIR to the package's release products.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$(swift build -c release --package-path Benchmarks/Suite --show-bin-path)}
rel=${2:-$(swift build -c release --show-bin-path)}
seconds=${PROFILE_SECONDS:-8}
for tool in perf wrk; do command -v "$tool" >/dev/null || { echo "read-profile: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }; done

work=$(mktemp -d)
plugins="$work/plugins"
mkdir -p "$plugins" "$work/data"
cp "$rel/libGuanke.so" "$plugins/"
READ_BENCH_SERVE_SECONDS=600 "$bin/read-bench" "$plugins" "$work/data" 200000 0 1 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 600); do grep -q '/bare' "$work/serve.log" 2>/dev/null && break; sleep 0.5; done
grep -q '/bare' "$work/serve.log" || { cat "$work/serve.log" >&2; echo "read-profile: read-bench did not start" >&2; exit 1; }
token=$(sed -n 's/.*(token \(.*\)):.*/\1/p' "$work/serve.log")
route=$(grep '/plugins/' "$work/serve.log")
record=$(grep '/collections/' "$work/serve.log")
bare=$(grep '/bare' "$work/serve.log")

echo "| target | req/s under wrk -c64 | server CPU per request | top frames (self, perf record -g) |"
echo "|---|---|---|---|"
for target in "bare|$bare" "plugin route|$route" "record route|$record"; do
  name=${target%%|*}; url=${target#*|}
  echo "read-profile: $name — $url" >&2
  wrk -t2 -c64 -d2s -H "Authorization: Bearer $token" "$url" >/dev/null  # warm-up
  wrk -t2 -c64 -d"${seconds}s" -H "Authorization: Bearer $token" "$url" > "$work/wrk.txt" &
  load=$!
  sleep 0.5
  perf stat -x, -e task-clock -p "$server" -o "$work/stat.txt" -- sleep $((seconds - 2)) 2>/dev/null
  wait "$load"
  grep -q "Non-2xx" "$work/wrk.txt" && { cat "$work/wrk.txt" >&2; echo "read-profile: errors on $url" >&2; exit 1; }
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  cpu_ms=$(awk -F, '/task-clock/ {print $1}' "$work/stat.txt")
  wrk -t2 -c64 -d"${seconds}s" -H "Authorization: Bearer $token" "$url" >/dev/null &
  load=$!
  sleep 0.5
  perf record -q -g -F 499 -p "$server" -o "$work/perf.data" -- sleep $((seconds - 2)) 2>/dev/null
  wait "$load"
  top=$(perf report -i "$work/perf.data" --no-children --stdio --sort symbol --percent-limit 2.5 2>/dev/null \
        | grep -E '^ +[0-9.]+%' | head -6 | sed -E 's/^ +([0-9.]+%) +\[.\] +/\1 /' | cut -c1-90 | sed -E 's/ +$//' | paste -sd ';' | sed 's/;/; /g; s/|/\\|/g')
  python3 - "$name" "$rps" "$cpu_ms" "$seconds" "$top" <<'PY'
import sys
name, rps, cpu_ms, secs, top = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
window = secs - 2  # perf stat counted this many seconds of the load
print(f"| {name} | {rps:,.0f} | {cpu_ms * 1000 / (rps * window):.1f} µs | {top} |")
PY
done
