#!/usr/bin/env bash
# lake beside PostgreSQL + PostGIS with the JRC CbM schema, same data, same machine, same run:
# signature and SCL-histogram ingest against COPY, `lake query parcel` against `psql -c` as
# whole processes, and the point queries alone (lake in-process, lake-bench; PostGIS through
# pgbench with prepared statements). Prints each figure, PostGIS's figure and the ratio, with
# the load average. Needs the bench data of scripts/bench.sh (run it first; make bench does).
# PostgreSQL runs with fsync and synchronous commit off (its fastest, not a durable set-up),
# lake with its defaults (synchronous = NORMAL).
set -euo pipefail
cd "$(dirname "$0")/.."
P=${BENCH_PARCELS:-20000}; S=${BENCH_SCENES:-73}
BIN=.build/release; OUT=bench-out; DIR="$OUT/parcel-$P-$S"
[ -f "$DIR/signatures.csv" ] || { echo "bench-postgis: run scripts/bench.sh first ($DIR/signatures.csv missing)" >&2; exit 1; }
bash scripts/install-deps.sh hyperfine wrk postgresql postgresql-15-postgis-3 time >&2
source scripts/pg.sh
pg_start
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
rows=$((P * S * 8)); hists=$((P * S))
id=$(printf "P%06d" $((P / 2)))
results=()
record() { results+=("$(printf "%-58s %14s %14s %8s" "$1" "$2" "$3" "$4")"); echo "  $1: lake $2, PostGIS $3, ratio $4 (load $(load))" >&2; }
ratio() { echo "$1 / $2" | bc -l | xargs printf "%.2f"; }

# --- The same data in both --------------------------------------------------------------------
db="$DIR/pg-side.sqlite"; rm -f "$db"
$BIN/lake --db "$db" ingest parcels "$DIR/parcels.geojson" --aoi bench --year 2024 >/dev/null 2>&1
$BIN/lake --db "$db" ingest catalogue "$DIR/scenes.stac.json" >/dev/null 2>&1
pg_psql -q <<'SQL'
CREATE TABLE dias_catalogue (
    id serial NOT NULL PRIMARY KEY, obstime timestamp without time zone NOT NULL,
    reference character varying(120) NOT NULL, sensor character(2) NOT NULL, card character(2) NOT NULL,
    status character varying(24) DEFAULT 'ingested' NOT NULL, footprint geometry(Polygon, 4326));
CREATE UNIQUE INDEX dias_catalogue_reference_idx ON dias_catalogue USING btree (reference);
CREATE TABLE aoi_s2_signatures (pid integer, obsid integer, band character(3), count real, mean real, std real,
    min real, max real, p25 real, p50 real, p75 real);
CREATE INDEX aoi_s2_signatures_bidx ON aoi_s2_signatures USING btree (band);
CREATE INDEX aoi_s2_signatures_obsidx ON aoi_s2_signatures USING btree (obsid);
CREATE INDEX aoi_s2_signatures_pidx ON aoi_s2_signatures USING btree (pid);
CREATE TABLE aoi_s2_hists (pid integer, obsid integer, hist json);
CREATE INDEX aoi_s2_hists_pidx ON aoi_s2_hists USING btree (pid);
SQL
# Parcels through GDAL's PostgreSQL driver (COPY), keeping lake's pids; catalogue with lake's obsids.
ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$PGPORT user=$PGUSER dbname=lake" "$db" -nln aoi_2024 \
  -lco GEOMETRY_NAME=wkb_geometry -lco FID=ogc_fid -sql "SELECT pid + 0 AS pid, parcel_id, crop_code, crop_name, area, geom FROM parcels" >/dev/null
pg_psql -qc "CREATE UNIQUE INDEX aoi_2024_pid ON aoi_2024 (pid); ANALYZE aoi_2024"
sqlite3 -csv "$db" "SELECT obsid, replace(replace(obstime, 'T', ' '), 'Z', ''), reference, sensor, card, status FROM catalogue" \
  | pg_psql -qc "\\copy dias_catalogue (id, obstime, reference, sensor, card, status) FROM STDIN WITH (FORMAT csv)"
# The JRC tables key rows by pid and obsid: the generated CSVs (parcel_id, reference) mapped once.
jrc="$DIR/jrc_s2_signatures.csv"; jrch="$DIR/jrc_s2_hists.csv"
# The scene-ordered histograms (as an extraction writes them, scene by scene) of scripts/bench.sh,
# when it made them: the same parcels and scenes, so the same keys.
SCENE="$OUT/scene-$P-$S"; jrchs="$SCENE/jrc_s2_hists.csv"; [ -f "$SCENE/scl.csv" ] || jrchs=""
# jrc_hists CSV OUT: the histogram CSV with parcel_id and reference replaced by pid and obsid.
jrc_hists() {
  awk -F, 'NR == FNR { if ($1 == "P") pid[$2] = $3; else obs[$2] = $3; next }
           FNR > 1 { p = pid[$1]; o = obs[$2]; sub(/^[^,]*,[^,]*,/, ""); print p "," o "," $0 }' "$DIR/keys.csv" "$1" > "$2.tmp" && mv "$2.tmp" "$2"
}
if [ ! -f "$jrc" ] || [ ! -f "$jrch" ] || { [ -n "$jrchs" ] && [ ! -f "$jrchs" ]; }; then
  sqlite3 -csv "$db" "SELECT 'P', parcel_id, pid FROM parcels UNION ALL SELECT 'S', reference, obsid FROM catalogue" > "$DIR/keys.csv"
  awk -F, 'NR == FNR { if ($1 == "P") pid[$2] = $3; else obs[$2] = $3; next }
           FNR > 1 { $1 = pid[$1]; $2 = obs[$2]; print }' OFS=, "$DIR/keys.csv" "$DIR/signatures.csv" > "$jrc.tmp" && mv "$jrc.tmp" "$jrc"
  jrc_hists "$DIR/scl.csv" "$jrch"
  [ -z "$jrchs" ] || jrc_hists "$SCENE/scl.csv" "$jrchs"
fi
# A lake with parcels and scenes only, for the scene-ordered histograms (copied before any ingest).
[ -z "$jrchs" ] || cp "$db" "$DIR/pg-side-scene.sqlite"

# --- Ingest: lake's ingest of the JRC-form CSV against COPY of the same rows ------------------------
echo "ingest ($rows signature rows, $hists SCL histograms):" >&2
# Each timed ingest starts on a quiet disk: `sync` (untimed) first, so that neither side pays
# for the other's writes still in the page cache (the histograms followed 2 GB of signatures).
sync; t0=$(now); $BIN/lake --db "$db" ingest signatures "$DIR/signatures.csv" >/dev/null 2>&1; t1=$(now)
lake_sig=$(echo "$rows / ($t1 - $t0)" | bc -l)
sync; t0=$(now); pg_psql -qc "\\copy aoi_s2_signatures FROM '$jrc' WITH (FORMAT csv)"; t1=$(now)
pg_sig=$(echo "$rows / ($t1 - $t0)" | bc -l)
record "signature ingest, rows/s (PostGIS: COPY, JRC indexes)" "$(printf %.0f "$lake_sig")" "$(printf %.0f "$pg_sig")" "$(ratio "$lake_sig" "$pg_sig")"
sync; t0=$(now); $BIN/lake --db "$db" ingest signatures "$DIR/scl.csv" >/dev/null 2>&1; t1=$(now)
lake_scl=$(echo "$hists / ($t1 - $t0)" | bc -l)
sync; t0=$(now); pg_psql -qc "\\copy aoi_s2_hists FROM '$jrch' WITH (FORMAT csv)"; t1=$(now)
pg_scl=$(echo "$hists / ($t1 - $t0)" | bc -l)
record "SCL histogram ingest, rows/s (PostGIS: COPY, json)" "$(printf %.0f "$lake_scl")" "$(printf %.0f "$pg_scl")" "$(ratio "$lake_scl" "$pg_scl")"
if [ -n "$jrchs" ]; then
  # Scene order: each scene's rows land on every parcel's pages in lake's (pid, obsid) key; a heap
  # table appends them wherever they come. Both into tables holding no histograms yet.
  pg_psql -qc "CREATE TABLE aoi_s2_hists_scene (pid integer, obsid integer, hist json); CREATE INDEX aoi_s2_hists_scene_pidx ON aoi_s2_hists_scene USING btree (pid)"
  t0=$(now); $BIN/lake --db "$DIR/pg-side-scene.sqlite" ingest signatures "$SCENE/scl.csv" >/dev/null 2>&1; t1=$(now)
  lake_scls=$(echo "$hists / ($t1 - $t0)" | bc -l)
  t0=$(now); pg_psql -qc "\\copy aoi_s2_hists_scene FROM '$jrchs' WITH (FORMAT csv)"; t1=$(now)
  pg_scls=$(echo "$hists / ($t1 - $t0)" | bc -l)
  record "SCL histogram ingest, scene-ordered, rows/s (COPY, json)" "$(printf %.0f "$lake_scls")" "$(printf %.0f "$pg_scls")" "$(ratio "$lake_scls" "$pg_scls")"
  rm -f "$DIR/pg-side-scene.sqlite"; pg_psql -qc "DROP TABLE aoi_s2_hists_scene"
fi
pg_psql -qc "VACUUM ANALYZE"
lake_bytes=$(stat -c %s "$db"); pg_bytes=$(pg_psql -Atc "SELECT pg_database_size('lake')")
record "file / database size, MB" "$((lake_bytes / 1000000))" "$((pg_bytes / 1000000))" "$(ratio "$lake_bytes" "$pg_bytes")"

# --- Push and pull: the lake into the JRC tables and back ------------------------------------------
# Against PostgreSQL's own COPY of the same signature rows: from CSV (above) for push, to
# nowhere (COPY … TO, the server's side of a pull) for pull. Rates count signature rows only,
# over the whole command (parcels, scenes, histograms and runs ride along).
echo "push and pull ($rows signature rows, $hists histograms, $P parcels):" >&2
url="postgresql://$PGUSER@127.0.0.1:$PGPORT/lake"
t0=$(now); $BIN/lake --db "$db" push "$url" --schema lake_push --aoi bench --year 2024 >/dev/null; t1=$(now)
push_rate=$(echo "$rows / ($t1 - $t0)" | bc -l)
record "push, signature rows/s (PostGIS: COPY from CSV)" "$(printf %.0f "$push_rate")" "$(printf %.0f "$pg_sig")" "$(ratio "$push_rate" "$pg_sig")"
t0=$(now); $BIN/lake --db "$db" push "$url" --schema lake_push --aoi bench --year 2024 >/dev/null; t1=$(now)
record "push again (nothing to write), s" "$(printf %.1f "$(echo "$t1 - $t0" | bc -l)")" "-" "-"
rm -f "$DIR/pulled.sqlite"
t0=$(now); /usr/bin/time -f "%M" -o "$OUT/pull-rss" $BIN/lake --db "$DIR/pulled.sqlite" pull "$url" --schema lake_push --aoi bench --year 2024 >/dev/null; t1=$(now)
pull_rate=$(echo "$rows / ($t1 - $t0)" | bc -l)
t0=$(now); pg_psql -qc "\\copy (SELECT * FROM lake_push.bench_2024_s2_signatures) TO '/dev/null'"; t1=$(now)
pg_out=$(echo "$rows / ($t1 - $t0)" | bc -l)
record "pull, signature rows/s (PostGIS: COPY TO of the same rows)" "$(printf %.0f "$pull_rate")" "$(printf %.0f "$pg_out")" "$(ratio "$pull_rate" "$pg_out")"
record "pull, peak memory (MB)" "$(( $(cat "$OUT/pull-rss") / 1024 ))" "-" "-"
rm -f "$DIR/pulled.sqlite"

# --- Queries ------------------------------------------------------------------------------------
pid=$(sqlite3 "$db" "SELECT pid FROM parcels WHERE parcel_id = '$id'")
series_sql="SELECT s.obsid, d.obstime, s.band, s.count, s.mean, s.std, s.min, s.max, s.p25, s.p50, s.p75
  FROM aoi_s2_signatures s JOIN dias_catalogue d ON d.id = s.obsid WHERE s.pid = :pid ORDER BY d.obstime, s.band;
SELECT h.obsid, h.hist FROM aoi_s2_hists h WHERE h.pid = :pid;"
peers_sql="SELECT p.pid, p.parcel_id, p.crop_name, ST_Distance(p.wkb_geometry, t.wkb_geometry) AS d FROM aoi_2024 p, aoi_2024 t
  WHERE t.pid = :pid AND p.pid <> t.pid AND p.crop_code = t.crop_code AND ST_DWithin(p.wkb_geometry, t.wkb_geometry, 1000)
  ORDER BY d, p.pid LIMIT 10;"
read -r lon lat < <(sqlite3 -separator ' ' "$db" "SELECT lon, lat FROM parcels WHERE pid = $pid")
at_sql="SELECT pid, parcel_id FROM aoi_2024 WHERE ST_Intersects(wkb_geometry, ST_Transform(ST_SetSRID(ST_MakePoint($lon, $lat), 4326), 3035));"

echo "whole processes (hyperfine, 30 runs each, interleaved warm-up):" >&2
psql_series="psql -X -At -h 127.0.0.1 -p $PGPORT -U $PGUSER lake -c \"$(echo "${series_sql//:pid/$pid}" | tr '\n' ' ')\""
hyperfine -N -w 5 -r 30 --export-json "$OUT/hyperfine-query.json" \
  "$BIN/lake --db $db query parcel $id" "$psql_series" "$BIN/lake --version" >/dev/null 2>&1
read -r lake_q psql_q version_q < <(python3 -c "
import json; r = json.load(open('$OUT/hyperfine-query.json'))['results']
print(' '.join('%.2f' % (x['mean'] * 1000) for x in r))")
record "lake query parcel (ms, whole process; PostGIS: psql -c)" "$lake_q" "$psql_q" "$(ratio "$lake_q" "$psql_q")"
record "lake --version (ms, whole process)" "$version_q" "-" "-"

echo "point queries alone (lake in-process; PostGIS pgbench -M prepared, 10 s each):" >&2
bench_json=$($BIN/lake-bench "$db" "$id" 2000)
pgb() {
  printf '%s\n' "$2" > "$OUT/pgbench-$1.sql"
  "$(pg_bin)/pgbench" -n -M prepared -T 10 -c 1 -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" -D pid="$pid" -f "$OUT/pgbench-$1.sql" lake 2>/dev/null \
    | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}
lakev() { echo "$bench_json" | python3 -c "import json,sys; q=[x for x in json.load(sys.stdin)['queries'] if x['query']=='$1'][0]; print('%.3f %.3f %.3f' % (q['cold_ms'], q['warm_median_ms'], q['warm_p99_ms']))"; }
for q in "time series|series|$series_sql" "peers|peers|$peers_sql" "parcel at a point|at|$at_sql"; do
  name=${q%%|*}; rest=${q#*|}; tag=${rest%%|*}; sql=${rest#*|}
  read -r cold warm p99 < <(lakev "$name")
  pg=$(pgb "$tag" "$sql")
  record "$name, query alone (ms; lake warm median)" "$warm" "$pg" "$(ratio "$warm" "$pg")"
  record "$name, lake cold / warm p99 (ms)" "$cold / $p99" "-" "-"
done

# --- Over HTTP: lake serve under wrk against the same queries on PostgreSQL under pgbench -------
# (the JRC server is such a database behind an HTTP layer: its throughput is at most the
# database's). 4 connections, 10 s each, 127.0.0.1 only.
echo "served (wrk, 4 connections, 10 s; PostGIS: pgbench, 4 clients, 10 s, prepared):" >&2
$BIN/lake --db "$db" serve --port 0 2> "$OUT/serve.log" &
serve_pid=$!
for _ in $(seq 100); do port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/query.*/\1/p' "$OUT/serve.log" | head -1); [ -n "$port" ] && break; sleep 0.1; done
wrkq() {  # requests/s, p50 ms, p99 ms
  wrk -t2 -c4 -d10s --latency "http://127.0.0.1:$port/query/$1" 2>/dev/null | awk '
    /Requests\/sec/ { rps = $2 }
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }'
}
pgq() {  # transactions/s, p50 ms, p99 ms from pgbench's per-transaction log
  rm -rf "$OUT/pgbench-log"; mkdir -p "$OUT/pgbench-log"
  (cd "$OUT/pgbench-log" && "$(pg_bin)/pgbench" -n -M prepared -T 10 -c 4 -j 2 -l -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" -D pid="$pid" -f "../pgbench-$1.sql" lake >/dev/null 2>&1)
  cat "$OUT"/pgbench-log/pgbench_log.* | awk '{ print $3 / 1000 }' | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f %.3f %.3f\n", NR / 10, v[int(NR * 0.5)], v[int(NR * 0.99)] }'
}
for q in "parcelTimeSeries|series|parcelTimeSeries?aoi=bench&year=2024&pid=$id" "parcelPeers|peers|parcelPeers?aoi=bench&year=2024&pid=$id"; do
  name=${q%%|*}; rest=${q#*|}; tag=${rest%%|*}; path=${rest#*|}
  read -r lrps lp50 lp99 < <(wrkq "$path")
  read -r prps pp50 pp99 < <(pgq "$tag")
  record "$name over HTTP, requests/s (PostGIS: pgbench tps)" "$lrps" "$prps" "$(ratio "$lrps" "$prps")"
  record "$name over HTTP, p50 / p99 ms" "$lp50 / $lp99" "$pp50 / $pp99" "$(ratio "$lp99" "$pp50")"
done
# One request at a time: the point-query figures (issue 12: series ≤ 0.3 ms, peers ≤ 0.5, point
# ≤ 0.3) through HTTP, beside the same query on PostgreSQL without HTTP (pgbench, 1 client).
wrk1() {  # p50 ms of one connection for 5 s
  wrk -t1 -c1 -d5s --latency "http://127.0.0.1:$port/query/$1" 2>/dev/null | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { printf "%.3f\n", ms($2) }'
}
for q in "parcelTimeSeries|series|parcelTimeSeries?aoi=bench&year=2024&pid=$id" "parcelPeers|peers|parcelPeers?aoi=bench&year=2024&pid=$id" \
         "parcelByLocation|at|parcelByLocation?aoi=bench&year=2024&lon=$lon&lat=$lat"; do
  name=${q%%|*}; rest=${q#*|}; tag=${rest%%|*}; path=${rest#*|}
  served=$(wrk1 "$path")
  pg1=$("$(pg_bin)/pgbench" -n -M prepared -T 5 -c 1 -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" -D pid="$pid" -f "$OUT/pgbench-$tag.sql" lake 2>/dev/null \
    | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  record "$name over HTTP one request at a time, p50 ms (PostGIS: the query alone)" "$served" "$pg1" "$(ratio "$served" "$pg1")"
done
kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true

echo
echo "lake beside PostgreSQL $(pg_psql -Atc 'SHOW server_version') + PostGIS $(pg_psql -Atc 'SELECT postgis_lib_version()'), JRC schema; $P parcels × $S scenes × 8 bands; load $(load)"
printf "%-58s %14s %14s %8s\n" "figure" "lake" "PostGIS" "lake/PG"
printf '%s\n' "${results[@]}"
echo "(ratios: for rates > 1 is lake faster; for times < 1 is lake faster; the p50/p99 row's ratio is lake's p99 over PostGIS's p50)"
