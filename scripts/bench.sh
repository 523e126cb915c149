#!/usr/bin/env bash
# lake benchmark: signature ingest rows/s (parcel-ordered and scene-ordered input), bytes per
# signature row on disk, and `lake query parcel` time (whole process and query alone).
# Scale: BENCH_PARCELS (default 20000) × BENCH_SCENES (default 73) × 8 bands.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${BENCH_PARCELS:-20000}; S=${BENCH_SCENES:-73}
BIN=.build/release; OUT=bench-out
mkdir -p "$OUT"
now() { date +%s.%N; }

echo "lake bench: $P parcels × $S scenes × 8 bands = $((P * S * 8)) signature rows" >&2
for order in parcel scene; do
  dir="$OUT/$order-$P-$S"
  if [ ! -f "$dir/signatures.csv" ]; then
    flag=""; [ "$order" = scene ] && flag="--scene-order"
    $BIN/lake-fixtures --out "$dir" --parcels "$P" --scenes "$S" --seed 2024 $flag
  fi
  db="$dir/bench.sqlite"; rm -f "$db"
  $BIN/lake --db "$db" ingest parcels "$dir/parcels.geojson" --aoi bench --year 2024 >/dev/null 2>&1
  $BIN/lake --db "$db" ingest catalogue "$dir/scenes.stac.json" >/dev/null 2>&1
  before=$(stat -c %s "$db")
  t0=$(now)
  $BIN/lake --db "$db" ingest signatures "$dir/signatures.csv" >/dev/null 2>&1
  t1=$(now)
  rows=$((P * S * 8))
  secs=$(echo "$t1 - $t0" | bc -l)
  after=$(stat -c %s "$db")
  packed=$(sqlite3 "$db" "SELECT sum(pgsize) FROM dbstat WHERE name = 'signatures_packed'" 2>/dev/null || echo 0)
  printf "ingest %-6s-ordered: %d rows in %.2f s = %.0f rows/s\n" "$order" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)"
  printf "bytes per signature row (%s-ordered): %.2f (signatures table incl. its b-tree), %.2f (file growth)\n" \
    "$order" "$(echo "$packed / $rows" | bc -l)" "$(echo "($after - $before) / $rows" | bc -l)"
done

db="$OUT/parcel-$P-$S/bench.sqlite"
id=$(printf "P%06d" $((P / 2)))
n=20
t0=$(now)
for _ in $(seq $n); do $BIN/lake --db "$db" query parcel "$id" >/dev/null; done
t1=$(now)
alone=$(LAKE_TIMING=1 $BIN/lake --db "$db" query parcel "$id" 2>&1 >/dev/null | sed -n 's/query: \(.*\) ms/\1/p')
printf "query parcel %s: %.1f ms whole process (mean of %d), %s ms query alone\n" "$id" "$(echo "($t1 - $t0) * 1000 / $n" | bc -l)" "$n" "$alone"

# Analytics on the parcel-ordered lake (SCL histograms loaded first, not timed as signatures).
t0=$(now)
$BIN/lake --db "$db" ingest signatures "$OUT/parcel-$P-$S/scl.csv" >/dev/null 2>&1
t1=$(now)
printf "SCL histogram ingest: %d histograms in %.2f s = %.0f rows/s\n" "$((P * S))" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$P * $S / ($t1 - $t0)" | bc -l)"
peers_alone=$(LAKE_TIMING=1 $BIN/lake --db "$db" query peers "$id" --same any --distance 1000 --max 10 2>&1 >/dev/null | sed -n 's/query: //p')
t0=$(now); for _ in $(seq $n); do $BIN/lake --db "$db" query peers "$id" --same any --distance 1000 --max 10 >/dev/null; done; t1=$(now)
printf "query peers %s (10 nearest within 1 km): %s, %.1f ms whole process (mean of %d)\n" "$id" "$peers_alone" "$(echo "($t1 - $t0) * 1000 / $n" | bc -l)" "$n"
t0=$(now); $BIN/lake --db "$db" heterogeneity --top 1 >/dev/null 2>&1; t1=$(now)
printf "heterogeneity ranking of all %d parcels: %.2f s = %.0f parcels/s\n" "$P" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$P / ($t1 - $t0)" | bc -l)"
# The shipped mowing chain over every parcel (not only grassland): markers + decisions.
sed '/^parcels:/,/^  groups:/d' options/mowing.yaml > "$OUT/mowing-all-parcels.yaml"
summary=$($BIN/lake --db "$db" markers run "$OUT/mowing-all-parcels.yaml" --json | tr -d '\n ')
secs=$(echo "$summary" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p')
printf "mowing markers + decisions over all %d parcels: %.2f s = %.0f parcels/s (run alone; %s)\n" "$P" "$secs" "$(echo "$P / $secs" | bc -l)" \
  "$(echo "$summary" | sed -n 's/.*"decisions":{\([^}]*\)}.*/\1/p')"
# Where the writing thread's time went: set-up, waiting for the reading/analysing threads, writing.
printf "  markers run, writing thread: %s; goal 50,000 parcels/s: ratio %.2f\n" \
  "$(echo "$summary" | sed -n 's/.*"phases":{\([^}]*\)}.*/\1/p' | sed 's/"//g; s/,/, /g')" "$(echo "$P / $secs / 50000" | bc -l)"
# The same chain without observation screening (SCL alone): what screening costs.
sed 's/^  regional: true/  enabled: false/' "$OUT/mowing-all-parcels.yaml" > "$OUT/mowing-all-parcels-scl-only.yaml"
summary=$($BIN/lake --db "$db" markers run "$OUT/mowing-all-parcels-scl-only.yaml" --json | tr -d '\n ')
secs=$(echo "$summary" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p')
printf "  the same with SCL screening only: %.2f s = %.0f parcels/s\n" "$secs" "$(echo "$P / $secs" | bc -l)"
t0=$(now); $BIN/lake --db "$db" check crops >/dev/null; t1=$(now)
printf "crop check (peer envelopes) of all %d parcels: %.2f s = %.0f parcels/s\n" "$P" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$P / ($t1 - $t0)" | bc -l)"
t0=$(now); $BIN/lake --db "$db" decide >/dev/null; t1=$(now)
printf "decide (one light per parcel from the latest runs): %.2f s = %.0f parcels/s\n" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$P / ($t1 - $t0)" | bc -l)"
# Every scheme's latest decisions with geometry (the lake holds several runs by now).
t0=$(now); $BIN/lake --db "$db" report decisions --format geojson --out "$OUT/decisions.geojson" 2>/dev/null; t1=$(now)
printf "report decisions as GeoJSON (%s runs in the lake): %.2f s\n" "$(sqlite3 "$db" 'SELECT count(*) FROM runs')" "$(echo "$t1 - $t0" | bc -l)"
rm -f "$OUT/decisions.geojson"
# The signatures as the JRC table (CSV), every row of the packed series decoded and written.
t0=$(now); $BIN/lake --db "$db" export signatures --out "$OUT/signatures-export.csv" 2>/dev/null; t1=$(now)
printf "export signatures (JRC table form, CSV): %d rows in %.2f s = %.0f rows/s\n" "$((P * S * 8))" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$P * $S * 8 / ($t1 - $t0)" | bc -l)"
rm -f "$OUT/signatures-export.csv"
