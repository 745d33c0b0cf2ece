#!/usr/bin/env bash
# Benchmarks (never part of `make test`). Each figure is printed beside an anchor measured in the same run,
# and their ratio; results go to BENCHMARKS.md. Release builds; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

out=BENCHMARKS.md
records=${BENCH_RECORDS:-1000000}
page=${BENCH_PAGE:-1000}

echo "bench: building the ABI benchmark (release)"
# Re-plan every time: the suite depends on the main package by path, and a file added there is not always
# noticed by a cached build description.
rm -f Benchmarks/Suite/.build/release.yaml Benchmarks/Suite/.build/*/release/description.json
log=$(mktemp)
if ! swift build -c release --package-path Benchmarks/Suite >"$log" 2>&1; then
  grep -Ev "unhandled|CMakeLists" "$log" >&2; echo "bench: build failed" >&2; exit 1
fi
bin=$(swift build -c release --package-path Benchmarks/Suite --show-bin-path)
echo "bench: building the in-tree plugins (release)"
for p in VOS Guanke WeCom ProjectSync Notify; do
  if ! swift build -c release --product "$p" >"$log" 2>&1; then grep -Ev "unhandled|CMakeLists" "$log" >&2; echo "bench: $p build failed" >&2; exit 1; fi
done
rel=$(swift build -c release --show-bin-path)
plugins=$(mktemp -d)
intree=$(mktemp -d)
trap 'rm -rf "$plugins" "$intree"' EXIT
for p in VOS Guanke WeCom ProjectSync Notify; do cp "$rel/lib$p.so" "$intree/"; done
cp "$bin/libBenchPlugin.so" "$plugins/"
# The plain-C test plugin, for the bare ABI crossing (no JSON on either side).
cc -O2 -shared -fPIC -pthread -fvisibility=hidden -I Sources/PluginABI/include -o "$plugins/tiny.so" Tests/Fixtures/CPlugin/tiny_plugin.c

echo "bench: ABI round trips and $records records in pages of $page"
abi=$(BENCH_WORKER="$bin/bench-worker" "$bin/abi-bench" "$plugins" "$records" "$page")
echo "$abi"

echo "bench: store — raw SQLite inserts vs batched upsert of $records CDRs"
storedir=$(mktemp -d)
store=$("$bin/store-bench" "$storedir" "$records" "$page")
rm -rf "$storedir"
echo "$store"

echo "bench: scheduler — next-fire cost, ${BENCH_SCHEDULES:-10000} schedules firing together, idle CPU (takes 1-2 minutes)"
scheddir=$(mktemp -d)
sched=$("$bin/scheduler-bench" "$plugins" "$scheddir" "${BENCH_SCHEDULES:-10000}")
rm -rf "$scheddir"
echo "$sched"

cdrs=${BENCH_CDRS:-1000000}
echo "bench: a $cdrs-CDR day from the VOS simulator (its own process) through the dlopen'd libVOS.so"
syncdir=$(mktemp -d)
coproc SIM { "$bin/sync-bench" sim "$cdrs" 20 2026-11-20; }
read -r -u "${SIM[0]}" simurl
sync=$("$bin/sync-bench" run "$intree" "$syncdir" "$simurl" 2026-11-20)
echo "$sync"
echo "bench: the same day with libVOS.so in a worker process (--isolate)"
syncdir2=$(mktemp -d)
syncproc=$("$bin/sync-bench" run "$intree" "$syncdir2" "$simurl" 2026-11-20 "$bin/bench-worker")
kill "$SIM_PID" 2>/dev/null || true
rm -rf "$syncdir" "$syncdir2"
echo "$syncproc"

echo "bench: reads — wrk at 64 connections; the live grade-stats path; start-up and idle RSS"
readdir=$(mktemp -d)
reads=$("$bin/read-bench" "$intree" "$readdir" "${BENCH_GRADE_RECORDS:-200000}" "${BENCH_PAGE_LATENCY_MS:-100}" "${BENCH_READ_WRK_SECONDS:-5}")
rm -rf "$readdir"
echo "$reads"

echo "bench: PostgreSQL — the store's upsert and the cached reads beside postgres-nio doing the same bare"
pgurl=$(scripts/postgres.sh)
pg=$(SYNCHOST_SECRET_KEY_FILE=Tests/Fixtures/postgres-secret.key "$bin/pg-bench" "$pgurl" "$intree" "${BENCH_PG_RECORDS:-200000}" "${BENCH_WRK_SECONDS:-10}")
echo "$pg"

python3 - "$abi" "$out" "$store" "$sched" "$sync" "$reads" "$pg" "$syncproc" <<'PY'
import json, platform, subprocess, sys, datetime, os
abi = json.loads(sys.argv[1]); out = sys.argv[2]; st = json.loads(sys.argv[3]); sc = json.loads(sys.argv[4])
sy = json.loads(sys.argv[5]); rd = json.loads(sys.argv[6]); pg = json.loads(sys.argv[7]); sp = json.loads(sys.argv[8])
cpu = next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
lines = [
    "# synchost benchmarks", "",
    f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu}, {os.cpu_count()} cores, "
    f"{int(mem)//1024} MiB RAM; {swift}; release builds. Produced by `make bench` (scripts/bench.sh).", "",
    "Every figure stands beside an anchor measured in the same run; the ratio is what to compare across machines.", "",
    "## Plugin ABI (issue: kernel)", "",
    "| what | through the C ABI | anchor: same code in-process | ratio |", "|---|---|---|---|",
    f"| bare crossing: host → C plugin → host completion, 64 bytes each way, {abi['bare_calls']:,} calls "
    f"| {abi['bare_abi_ns']:,.0f} ns | an async call resuming a continuation with the same bytes: {abi['bare_in_process_ns']:,.0f} ns | {abi['bare_abi_ns']/abi['bare_in_process_ns']:.1f}× |",
    f"| host → plugin → host round trip (run a job that makes one host service call; JSON request and result), {abi['round_trips']} calls "
    f"| {abi['abi_round_trip_us']:.2f} µs | {abi['in_process_round_trip_us']:.2f} µs | {abi['abi_round_trip_us']/abi['in_process_round_trip_us']:.2f}× |",
    f"| {abi['records']:,} CDRs (20 fields) plugin → host store in pages of {abi['page_size']} "
    f"| {abi['abi_records_per_s']:,.0f} rec/s | {abi['in_process_records_per_s']:,.0f} rec/s | {abi['abi_records_per_s']/abi['in_process_records_per_s']:.2f}× |",
    "", f"Peak RSS of the benchmark process: {abi['peak_rss_mib']:.0f} MiB.", "",
    "### The same crossings with each plugin in a worker process (`--isolate all`, issue: process isolation)", "",
    "The plugin's unchanged `.so` in a `plugin-worker` child process: every call and service call is framed over a socket pair.", "",
    "| what | process mode | anchor: in-process (above, same run) | ratio |", "|---|---|---|---|",
    f"| bare crossing, 64 bytes each way | {abi['process_bare_ns']:,.0f} ns | {abi['bare_abi_ns']:,.0f} ns | {abi['process_bare_ns']/abi['bare_abi_ns']:.1f}× |",
    f"| a job making one host service call | {abi['process_round_trip_us']:.2f} µs | {abi['abi_round_trip_us']:.2f} µs | {abi['process_round_trip_us']/abi['abi_round_trip_us']:.2f}× |",
    f"| {abi['records']:,} CDRs plugin → host store in pages of {abi['page_size']} | {abi['process_records_per_s']:,.0f} rec/s | {abi['abi_records_per_s']:,.0f} rec/s | {abi['abi_records_per_s']/abi['process_records_per_s']:.2f}× the time |",
    f"| a {sp['records']:,}-CDR VOS day synced (the ingest section below), wall time | {sp['sync_s']:.1f} s | {sy['sync_s']:.1f} s | **{sp['sync_s']/sy['sync_s']:.2f}×** (goal ≤ 1.3×) |",
    f"| peak RSS of the host (the worker's own aside) | {sp['peak_rss_mib']:.0f} MiB | {sy['peak_rss_mib']:.0f} MiB | – |",
    "",
    "## Store (issue: store)", "",
    f"{st['records']:,} realistic CDRs (~20 fields, {st['bytes_per_record']} bytes of JSON each), SQLite (system libsqlite3), "
    f"pages of {st['page_size']}; record generation excluded from both timings.", "",
    "| what | figure | anchor: raw sqlite3 prepared inserts, one transaction | ratio |", "|---|---|---|---|",
    f"| store batched upsert (a transaction per page: content hash, change detection, cursor) | {st['store_upsert_per_s']:,.0f} rec/s "
    f"| {st['raw_insert_per_s']:,.0f} rec/s | {st['store_upsert_per_s']/st['raw_insert_per_s']:.0%} |",
    f"| re-sync of the same records (all unchanged: only synced_at bumped) | {st['store_resync_unchanged_per_s']:,.0f} rec/s "
    f"| {st['raw_insert_per_s']:,.0f} rec/s | {st['store_resync_unchanged_per_s']/st['raw_insert_per_s']:.0%} |",
    f"| peak RSS | {st['store_peak_rss_mib']:.0f} MiB | {st['raw_peak_rss_mib']:.0f} MiB | {st['store_peak_rss_mib']/max(st['raw_peak_rss_mib'],1):.2f}× |",
    "",
    "## Scheduler (issue: scheduler)", "",
    "| what | figure | anchor | ratio |", "|---|---|---|---|",
    f"| one next-fire computation, `0 7 * * *` in Asia/Shanghai | {sc['next_fire_us']:.2f} µs | Foundation `Calendar.nextDate` for the same rule: {sc['calendar_next_date_us']:.2f} µs | {sc['next_fire_us']/sc['calendar_next_date_us']:.2f}× |",
    f"| one next-fire computation, `*/7 9-23 1,15 * mon-fri` | {sc['next_fire_complex_us']:.2f} µs | – | – |",
    f"| {sc['schedules']:,} schedules due at the same minute: first run started after the minute | {sc['first_started_late_ms']:.0f} ms | a bare task sleeping until the same minute woke {sc['anchor_timer_late_ms']:.1f} ms late | {sc['first_started_late_ms']/max(sc['anchor_timer_late_ms'],0.001):.0f}× |",
    f"| the same burst: start lateness p50 / p99 (the default 16 concurrent runs, `serve --max-concurrent-runs`, on the concurrency pool, each a plugin job through the ABI with its run records) | {sc['started_late_p50_ms']/1000:.1f} / {sc['started_late_p99_ms']/1000:.1f} s | all {sc['runs_at_boundary']:,} done after {sc['all_finished_after_s']:.1f} s = {sc['runs_per_s']:.0f} runs/s | – |",
    f"| idle CPU with {sc['schedules']:,} enabled schedules, none due | {sc['idle_cpu_percent']:.2f}% of a core | the same process only sleeping: {sc['anchor_sleep_cpu_percent']:.2f}% | – |",
    "",
    "## Ingest: a full VOS sync (issues: VOS, demo/bench)", "",
    f"One day of {sy['records']:,} CDRs, 20 accounts (one `GetCdr` per account, the VOS way; {sy['accounts']} store pages), from the VOS simulator in its own "
    "process over loopback, through the dlopen'd release `libVOS.so` (HTTP through the host, JSON parsing and keying in the plugin, "
    "pages of 5,000 across the C ABI) into SQLite.", "",
    "| what | figure | anchor | ratio |", "|---|---|---|---|",
    f"| full sync | {sy['sync_per_s']:,.0f} rec/s ({sy['sync_s']:.1f} s) | raw sqlite3 prepared inserts of the very records the sync stored ({sy['bytes_per_record']} bytes each, the node's own CDRs), one transaction, same run: {sy['raw_same_records_per_s']:,.0f} rec/s | **{sy['sync_per_s']/sy['raw_same_records_per_s']:.0%}** |",
    f"| the same sync | {sy['sync_per_s']:,.0f} rec/s | raw inserts of the store section's smaller generated CDRs ({st['bytes_per_record']} bytes): {st['raw_insert_per_s']:,.0f} rec/s | {sy['sync_per_s']/st['raw_insert_per_s']:.0%} |",
    f"| the same sync | {sy['sync_per_s']:,.0f} rec/s | the wire alone: the same 20 `GetCdr` answers ({sy['wire_mib']:,.0f} MiB, rendered ahead by the simulator) fetched by a plain HTTP client and discarded: {sy['wire_per_s']:,.0f} rec/s ({sy['wire_s']:.1f} s) | {sy['sync_per_s']/sy['wire_per_s']:.0%} |",
    f"| the store's share of the sync: the same records upserted again, store calls only | {sy['store_only_s']:.1f} s of {sy['sync_s']:.1f} s | – | {sy['store_share']:.0%} |",
    f"| peak RSS of the syncing host | {sy['peak_rss_mib']:.0f} MiB | store-bench's batched upsert: {st['store_peak_rss_mib']:.0f} MiB; raw inserts: {st['raw_peak_rss_mib']:.0f} MiB | {sy['peak_rss_mib']/max(st['store_peak_rss_mib'],1):.2f}× |",
    "",
    "## Cached reads (issues: Guanke, admin API, performance)", "",
    f"`wrk -t2 -c64 -d{rd['wrk_seconds']}s` on loopback, each target in turn for {rd['wrk_rounds']} rounds, medians kept (a slow spell of this noisy machine then hits every target alike), the server in the same 2-core machine as wrk. Guanke day of {rd['records']:,} call records; "
    f"the simulator's pages answer after {rd['page_latency_ms']} ms (standing for the legacy platform, whose days took 17–30 s). "
    "Two anchors: a bare Hummingbird route, and the host's own middleware (security headers, metrics, error mapping, token and role check) in front of a static body "
    f"of the record route's size ({rd['record_bytes']} bytes; the bare route's is {rd['bare_bytes']}, the plugin route's {rd['route_bytes']}): "
    "the first gap is what the middleware costs, the second what the read costs.", "",
    "| what | req/s | p50 | p99 | of the bare route | of the middleware anchor | p99 ÷ bare p99 |", "|---|---|---|---|---|---|---|",
    f"| anchor: a bare Hummingbird route (static JSON) | {rd['bare_rps']:,.0f} | {rd['bare_p50_ms']:.2f} ms | {rd['bare_p99_ms']:.2f} ms | – | – | – |",
    f"| anchor: the host's middleware, static body | {rd['middleware_rps']:,.0f} | {rd['middleware_p50_ms']:.2f} ms | {rd['middleware_p99_ms']:.2f} ms | {rd['middleware_rps']/rd['bare_rps']:.0%} | – | {rd['middleware_p99_ms']/rd['bare_p99_ms']:.1f}× |",
    f"| `GET /api/v1/plugins/guanke/instances/g/grade-stats?date=` (the plugin's answer reused: checked in the store, then kept until the next commit) | {rd['cached_rps']:,.0f} | {rd['cached_p50_ms']:.2f} ms | {rd['cached_p99_ms']:.2f} ms | **{rd['cached_rps']/rd['bare_rps']:.0%}** | {rd['cached_rps']/rd['middleware_rps']:.0%} | {rd['cached_p99_ms']/rd['bare_p99_ms']:.1f}× |",
    f"| `GET /api/v1/instances/g/collections/grade_stats/{{date}}` (host only: one statement, the answer kept until the next commit) | {rd['record_rps']:,.0f} | {rd['record_p50_ms']:.2f} ms | {rd['record_p99_ms']:.2f} ms | **{rd['record_rps']/rd['bare_rps']:.0%}** | {rd['record_rps']/rd['middleware_rps']:.0%} | {rd['record_p99_ms']/rd['bare_p99_ms']:.1f}× |",
    "",
    f"The same two reads while a writer commits every 5 ms ({rd['writer_commits_per_s']:,.0f} commits/s measured: answers are kept only between commits, so many reads go to the database; same rounds, medians):", "",
    "| what | req/s | p99 | of the bare route (above) | p99 ÷ bare p99 |", "|---|---|---|---|---|",
    f"| the plugin's grade-stats route | {rd['cachedw_rps']:,.0f} | {rd['cachedw_p99_ms']:.2f} ms | {rd['cachedw_rps']/rd['bare_rps']:.0%} | {rd['cachedw_p99_ms']/rd['bare_p99_ms']:.1f}× |",
    f"| the host's record route | {rd['recordw_rps']:,.0f} | {rd['recordw_p99_ms']:.2f} ms | {rd['recordw_rps']/rd['bare_rps']:.0%} | {rd['recordw_p99_ms']/rd['bare_p99_ms']:.1f}× |",
    "",
    f"**Headline**: the same date computed live (`cache=live`: every page from the platform) took {rd['live_ms']/1000:.1f} s; "
    f"cached, its p50 under 64 connections is {rd['cached_p50_ms']:.2f} ms — **{rd['live_ms']/max(rd['cached_p50_ms'],0.001):,.0f}× faster**.",
    "",
    f"At a moderate load — `wrk -t1 -c8 -d{rd['latency_seconds']}s`, {rd['wrk_rounds']} rounds in turn, medians, one wrk thread, so the server has a core of its own:", "",
    "| what | req/s | p50 | p99 | p99 ÷ bare p99 |", "|---|---|---|---|---|",
    f"| anchor: the bare route | {rd['bare8_rps']:,.0f} | {rd['bare8_p50_ms']:.2f} ms | {rd['bare8_p99_ms']:.2f} ms | – |",
    f"| the plugin's grade-stats route, reused | {rd['cached8_rps']:,.0f} | {rd['cached8_p50_ms']:.2f} ms | {rd['cached8_p99_ms']:.2f} ms | {rd['cached8_p99_ms']/rd['bare8_p99_ms']:.1f}× |",
    f"| the host's record route | {rd['record8_rps']:,.0f} | {rd['record8_p50_ms']:.2f} ms | {rd['record8_p99_ms']:.2f} ms | {rd['record8_p99_ms']/rd['bare8_p99_ms']:.1f}× |",
    "",
    "## PostgreSQL (issues: store, performance)", "",
    f"The same store and the same reads on {pg['server']} (the throwaway cluster of `scripts/postgres.sh`, same machine, default settings: "
    "every commit is flushed). Anchors through postgres-nio in the same run.", "",
    "| what | figure | anchor | ratio |", "|---|---|---|---|",
    f"| store batched upsert of {pg['records']:,} CDRs (a transaction per page of {pg['page_size']}: lock, existing keys, insert, last sync) "
    f"| {pg['store_upsert_per_s']:,.0f} rec/s | multi-row inserts (UNNEST, pages of {pg['page_size']}, one transaction) into a table of the same shape: {pg['raw_insert_per_s']:,.0f} rec/s "
    f"| {pg['store_upsert_per_s']/pg['raw_insert_per_s']:.0%} |",
    f"| `GET /api/v1/instances/g/collections/grade_stats/{{date}}`, wrk -c64 | {pg['record_rps']:,.0f} req/s, p50 {pg['record_p50_ms']:.2f} ms, p99 {pg['record_p99_ms']:.2f} ms "
    f"| a bare route answering the same primary-key SELECT through postgres-nio (8 connections, as the store's pool): {pg['anchor_rps']:,.0f} req/s, p99 {pg['anchor_p99_ms']:.2f} ms "
    f"| {pg['record_rps']/pg['anchor_rps']:.0%} |",
    f"| the plugin's grade-stats route, its answer reused after re-checking the read | {pg['route_rps']:,.0f} req/s, p50 {pg['route_p50_ms']:.2f} ms, p99 {pg['route_p99_ms']:.2f} ms "
    f"| the same anchor | {pg['route_rps']/pg['anchor_rps']:.0%} |",
    "",
    "## Start-up (issue: demo/bench)", "",
    "| what | figure | anchor | ratio |", "|---|---|---|---|",
    f"| kernel + store opened + {rd['plugins_loaded']} plugins dlopen'd and checked + admin API answering `/healthz` | {rd['startup_ms']:.0f} ms | a bare Hummingbird app started and answering, same process: {rd['bare_startup_ms']:.1f} ms | {rd['startup_ms']/max(rd['bare_startup_ms'],0.001):.0f}× |",
    f"| idle RSS after start-up, all plugins loaded | {rd['idle_rss_mib']:.0f} MiB | – | – |",
    "",
]
open(out, "w").write("\n".join(lines))
print(f"bench: wrote {out}")
PY
