#!/usr/bin/env bash
# lake fuzz: coverage-guided fuzzing (libFuzzer) of every parser of
# outside input: signature tables (csv), catalogue documents (catalogue), marker option files
# (options), phenology expressions (expression) and the stored binary formats (series: packed
# signature series, pending rows, SCL summaries; geometry: the parcels' polygon BLOBs that the
# point and peers queries read in place). Each target runs for FUZZ_SECONDS (default 60)
# from a corpus seeded from the project's fixtures, option files and — when present — the real
# catalogue documents of ../shared/realdata. Prints executions, CPU time, coverage and crashes
# per target; crashing inputs are kept in bench-out/fuzz/crashes/TARGET/ and replay with
#   LAKE_FUZZ_TARGET=TARGET .build/release/lake-fuzz FILE...
# Swift's own crash backtracer is turned off so that libFuzzer keeps the crashing input.
# Exit 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"csv catalogue options expression series geometry"}
OUT=bench-out/fuzz
BIN=.build-fuzz/release/lake-fuzz
echo "building the fuzz driver (-sanitize=fuzzer) in .build-fuzz" >&2
LAKE_FUZZ=1 swift build -c release --product lake-fuzz --build-path .build-fuzz >&2

seed() {   # seed TARGET: a corpus folder with small real inputs
  local dir="$OUT/corpus/$1"; mkdir -p "$dir"
  case $1 in
    csv)
      head -40 fixtures/small/signatures.csv > "$dir/signatures.csv"
      head -20 fixtures/small/scl.csv > "$dir/scl.csv"
      printf 'pid,date,band,count,mean,std,min,max,p25,p50,p75,hist.4,hist.9\n1,2024-05-01,B04,10,1500,20,1400,1600,1490,1500,1510,3,1\n' > "$dir/hist-columns.csv"
      printf '{"date_part": [1714550400], "band": ["B4"], "count": [100], "mean": [1200.5], "std": [10], "min": [1100], "max": [1300], "p25": [1190], "p50": [1200], "p75": [1210], "hist": [{"4": 24}]}\n' > "$dir/timeseries.json"
      printf 'sample_id,timestamp,S2-L2A-B04,S2-L2A-B08,S1-SIGMA0-VV\nx1,2023-05-01,1200,3400,65535\n' > "$dir/wide.csv" ;;
    catalogue)
      cp fixtures/small/scenes.stac.json "$dir/"
      if [ -d ../shared/realdata/stac-items ]; then
        find ../shared/realdata/stac-items -type f \( -name '*.json' -o -name '*.xml' \) -size -64k | head -40 | while read -r f; do cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-12)-$(basename "$f")"; done
      fi ;;
    options) cp options/*.yaml "$dir/" ;;
    expression)
      sed -n 's/^ *- \(.*[<>=].*\)$/\1/p' options/crop-phenology.yaml | awk -v d="$dir" '{ print > (d "/e" NR) }' ;;
    series)
      local db="$OUT/seed.sqlite"; rm -f "$db"
      .build/release/lake --db "$db" init --srid 32632 >/dev/null
      .build/release/lake --db "$db" ingest parcels fixtures/small/parcels.geojson --aoi demo --year 2024 >/dev/null 2>&1
      .build/release/lake --db "$db" ingest catalogue fixtures/small/scenes.stac.json >/dev/null
      .build/release/lake --db "$db" ingest signatures fixtures/small/signatures.csv fixtures/small/scl.csv >/dev/null
      for pid in 1 2 3; do
        sqlite3 "$db" "SELECT hex(data) FROM signatures_packed WHERE pid = $pid" | xxd -r -p > "$dir/series$pid"
        sqlite3 "$db" "SELECT hex(data) FROM scl_summary WHERE pid = $pid" | xxd -r -p > "$dir/summary$pid"
      done ;;
    geometry)
      local db="$OUT/seed-geometry.sqlite"; rm -f "$db"
      .build/release/lake --db "$db" init --srid 32632 >/dev/null
      .build/release/lake --db "$db" ingest parcels fixtures/small/parcels.geojson --aoi demo --year 2024 >/dev/null 2>&1
      for pid in 1 2 3; do sqlite3 "$db" "SELECT hex(geom) FROM parcels WHERE pid = $pid" | xxd -r -p > "$dir/parcel$pid"; done ;;
  esac
}

failed=0
printf "%-11s %10s %9s %8s %8s %s\n" target executions cpu_s cov features crashes
for t in $TARGETS; do
  seed "$t"
  mkdir -p "$OUT/crashes/$t" "$OUT/work/$t"
  cp -n "$OUT"/corpus/"$t"/* "$OUT/work/$t/" 2>/dev/null || true
  log="$OUT/$t.log"
  start=$(awk '{print $14 + $15}' /proc/self/stat 2>/dev/null || echo 0)
  set +e
  SWIFT_BACKTRACE=enable=no LAKE_FUZZ_TARGET=$t /usr/bin/time -f "%U %S" -o "$OUT/$t.time" "$BIN" "$OUT/work/$t" -max_total_time="$SECONDS_EACH" \
    -timeout=10 -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$OUT/crashes/$t/" -print_final_stats=1 > "$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/.*stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$OUT/$t.time" 2>/dev/null || echo "?")
  crashes=$(find "$OUT/crashes/$t" -type f | wc -l)
  printf "%-11s %10s %9s %8s %8s %s\n" "$t" "${runs:-?}" "$cpu" "${cov:-?}" "${ft:-?}" "$crashes"
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then failed=1; grep -m3 -E "ERROR|panic|Fatal|fault" "$log" >&2 || true; fi
done
exit $failed
