#!/usr/bin/env bash
# lake accuracy: precision, recall and F1 of every decision task on generated fixtures with
# planted truth, for two seeds (a threshold tuned to one would show), mowing with Sentinel-1
# coherence across cloudy gaps, from Sentinel-2 alone and without SCL histograms, the observation-screening
# confusion matrix on the fixtures' true observation labels and on the labelled real
# observations of ../shared/realdata/cbm-nl2020-markers, and the per-crop agreement of the crop
# checks with the declared crop on real WorldCereal parcel series. For each seed, where the missed
# cuts were and what the data showed of them (scripts/mowing-misses.py).
#
#   ACCURACY_PARCELS (2000), ACCURACY_SEEDS ("2024 31"), ACCURACY_SCENES (73),
#   ACCURACY_OVERLAP_SEEDS ("31": the same fixtures with twice the scenes)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release; OUT=${ACCURACY_OUT:-bench-out/accuracy}
P=${ACCURACY_PARCELS:-2000}; S=${ACCURACY_SCENES:-73}
mkdir -p "$OUT"

# Confusion matrix of two label columns (truth first) read as "truth,lake" lines on stdin.
confusion() {
  awk -F, '{ n[$1","$2]++; t[$1]++; l[$2]++ }
    END {
      printf "%-14s", "truth \\ lake"; for (b in l) printf "%10s", b; printf "%10s\n", "total"
      for (a in t) { printf "%-14s", a; for (b in l) printf "%10d", n[a","b]; printf "%10d\n", t[a] }
    }'
}

# A fixtures lake (DIR/lake.sqlite) of SEED with SCENES scenes, every option file's chain run
# on it, the crop check, heterogeneity and the one light per parcel.
fixture_lake() {  # DIR SEED SCENES
  local dir=$1 seed=$2 scenes=$3 db="$1/lake.sqlite"
  $BIN/lake-fixtures --out "$dir" --parcels "$P" --scenes "$scenes" --seed "$seed" --quality --s1-days 6 2>/dev/null
  rm -f "$db"
  $BIN/lake --db "$db" init --srid 32632 >/dev/null
  $BIN/lake --db "$db" ingest parcels "$dir/parcels.geojson" --aoi demo --year 2024 >/dev/null 2>&1
  $BIN/lake --db "$db" ingest catalogue "$dir/scenes.stac.json" "$dir/s1-catalogue.csv" >/dev/null
  $BIN/lake --db "$db" ingest signatures "$dir/signatures.csv" "$dir/scl.csv" "$dir/s1.csv" >/dev/null
  for o in harvest bare-soil crop-phenology mowing; do $BIN/lake --db "$db" markers run "options/$o.yaml" >/dev/null; done
  $BIN/lake --db "$db" check crops >/dev/null
  $BIN/lake --db "$db" heterogeneity >/dev/null 2>&1
  $BIN/lake --db "$db" decide --schemes mowing crop heterogeneity >/dev/null
}

for seed in ${ACCURACY_SEEDS:-2024 31}; do
  dir="$OUT/fixtures-$seed"
  echo "== fixtures: $P parcels × $S scenes, seed $seed (planted truth: truth.csv, observation labels: quality.csv)"
  fixture_lake "$dir" "$seed" "$S"
  db="$dir/lake.sqlite"
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --quality "$dir/quality.csv" --db "$db"
  echo "-- observation screening (options/mowing.yaml, every parcel) against what each observation really was"
  $BIN/lake --db "$db" screen options/mowing.yaml --all --csv > "$dir/screen.csv"
  awk -F, 'NR == FNR { if (FNR > 1) truth[$1","$2] = $3; next } FNR > 1 { print truth[$1","$2] "," $4 }' \
    "$dir/quality.csv" "$dir/screen.csv" | confusion
  echo "-- the same mowing chain from Sentinel-2 alone (coherence: false), and the overall light from it"
  sed 's/^    coherence: true/    coherence: false/' options/mowing.yaml > "$dir/mowing-s2-only.yaml"
  $BIN/lake --db "$db" markers run "$dir/mowing-s2-only.yaml" >/dev/null
  $BIN/lake --db "$db" decide --schemes mowing crop heterogeneity >/dev/null
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --quality "$dir/quality.csv" --db "$db" | grep -E '^(mowing|overall light)'
  echo "-- the harvest from Sentinel-2 alone (coherence: false: dated in the middle of a cloudy gap)"
  sed 's/^    coherence: true/    coherence: false/' options/harvest.yaml > "$dir/harvest-s2-only.yaml"
  $BIN/lake --db "$db" markers run "$dir/harvest-s2-only.yaml" >/dev/null
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --db "$db" | grep -E '^harvest'
  echo "-- Sentinel-2 alone and without SCL histograms (band statistics only: lake's own screening decides alone)"
  bare="$dir/no-scl.sqlite"; rm -f "$bare"
  $BIN/lake --db "$bare" init --srid 32632 >/dev/null
  $BIN/lake --db "$bare" ingest parcels "$dir/parcels.geojson" --aoi demo --year 2024 >/dev/null 2>&1
  $BIN/lake --db "$bare" ingest catalogue "$dir/scenes.stac.json" >/dev/null
  $BIN/lake --db "$bare" ingest signatures "$dir/signatures.csv" >/dev/null
  $BIN/lake --db "$bare" markers run options/mowing.yaml >/dev/null
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --db "$bare" | grep -E '^mowing (events|decisions)'
  echo "-- a lake of the declared meadows only (as mowing data sets come: no other crops to tell atmosphere from management), with coherence, then Sentinel-2 alone"
  meadows="$dir/meadows.sqlite"; rm -f "$meadows"
  rm -f "$dir/meadows.geojson"
  ogr2ogr -f GeoJSON -where "crop_code = '6100'" "$dir/meadows.geojson" "$dir/parcels.geojson"
  $BIN/lake --db "$meadows" init --srid 32632 >/dev/null
  $BIN/lake --db "$meadows" ingest parcels "$dir/meadows.geojson" --aoi demo --year 2024 >/dev/null 2>&1
  $BIN/lake --db "$meadows" ingest catalogue "$dir/scenes.stac.json" "$dir/s1-catalogue.csv" >/dev/null
  # Rows of the other parcels are rejected (exit 7): expected here.
  $BIN/lake --db "$meadows" ingest signatures "$dir/signatures.csv" "$dir/scl.csv" "$dir/s1.csv" >/dev/null 2>&1 || [ $? -eq 7 ]
  $BIN/lake --db "$meadows" markers run options/mowing.yaml >/dev/null
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --db "$meadows" | grep -E '^mowing events'
  $BIN/lake --db "$meadows" markers run "$dir/mowing-s2-only.yaml" >/dev/null
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --db "$meadows" | grep -E '^mowing events'
  echo "-- the cuts the mowing chain with coherence missed: where they were, what Sentinel-2 and coherence showed of them"
  if command -v python3 >/dev/null; then python3 scripts/mowing-misses.py "$dir"; fi
done

# The same fixtures where two relative orbits overlap: twice the scenes (every 2.5 days), so a
# rule that counts observations rather than days would show (the harvest's did, stop 34).
for seed in ${ACCURACY_OVERLAP_SEEDS:-31}; do
  dir="$OUT/fixtures-$seed-overlap"
  echo "== fixtures: $P parcels × $((2 * S)) scenes (every 2.5 days, as where two relative orbits overlap), seed $seed"
  fixture_lake "$dir" "$seed" "$((2 * S))"
  db="$dir/lake.sqlite"
  $BIN/lake-fixtures score --truth "$dir/truth.csv" --quality "$dir/quality.csv" --db "$db" \
    | grep -E '^(mowing events|harvest|crop check|overall light|heterogeneity)'
done

# A second planted lake from a generator written apart (scripts/second-generator.py: another
# weather, cloud and haze model, another meadow curve, slow declines, grazing, ploughing, names
# without codes): a threshold fitted to lake-fixtures would show here.
if command -v python3 >/dev/null; then
  # Suffixes: "o" the same area where two relative orbits overlap (146 scenes, each field seen
  # 2–3 times in 5 days from two angles, haze on consecutive acquisitions); "r" band statistics
  # as reflectance (0–1, offset taken off) for scenes whose catalogue offset is −1000; "b" no
  # blue or green band (B04, B08, B11, B12 only: the haze line cannot be drawn); "c" a cloudy
  # year (a third of the growing season's observations clear); "s" one satellite, every 10 days
  # (Sentinel-2 in 2022–2024); "h" shallow cuts (a high cut, lush stubble); "i" intensive
  # meadows (4–6 cuts from late April); "m" small fields (0.1–0.6 ha, edge pixels of the
  # neighbouring field mixed in); "d" Mediterranean meadows (cut in spring, dry from late June,
  # green again after the autumn rains); "a" planted anomalies too (8 % of the arable fields
  # declared as another arable crop, 7 % of all parcels split between two crops), scored on
  # every parcel for the crop check, heterogeneity and the one light per parcel; "j" and "k" the
  # cloudy year with Sentinel-1 coherence of the generator's own model, 6-day pairs (two
  # satellites) and 12-day pairs (Sentinel-1A alone, 2022-2024); "e" statistics exported
  # harmonised (the offset taken off, product names kept, as Earth Engine's S2_SR_HARMONIZED).
  for run in ${SECOND_SEEDS:-7 8 7o 7r 7b 7c 7s 7h 7i 7m 7d 7a 8a 7j 7k 7e}; do
    seed=${run%[orbcshimdajke]}; flag=""; scenes=73; what=""
    case "$run" in
      *c) flag="--cloudy"; what=", a cloudy year" ;;
      *o) flag="--overlap"; scenes=146; what=", two overlapping orbits" ;;
      *r) flag="--reflectance"; what=", statistics as reflectance" ;;
      *b) what=", no blue or green band" ;;
      *s) flag="--one-satellite"; scenes=37; what=", one satellite (every 10 days)" ;;
      *h) flag="--shallow"; what=", shallow cuts" ;;
      *i) flag="--intensive"; what=", intensive meadows (4–6 cuts)" ;;
      *m) flag="--small"; what=", small fields" ;;
      *d) flag="--dry-summer"; what=", Mediterranean meadows (dry summer)" ;;
      *a) flag="--anomalies"; what=", wrong declarations and split parcels" ;;
      *j) flag="--cloudy --s1-6"; what=", a cloudy year with 6-day Sentinel-1 coherence" ;;
      *k) flag="--cloudy --s1"; what=", a cloudy year with 12-day Sentinel-1 coherence" ;;
      *e) flag="--harmonised"; what=", statistics exported harmonised under baseline 05.09 names" ;;
    esac
    dir="$OUT/second-$run"; rm -rf "$dir"
    echo "== second generator (scripts/second-generator.py), 1200 parcels × $scenes scenes of 2023, seed $seed$what, scored on the declared meadows"
    python3 scripts/second-generator.py "$dir" --parcels 1200 --seed "$seed" $flag
    if [ "${run%b}" != "$run" ]; then
      awk -F, '$3 != "B02" && $3 != "B03"' "$dir/signatures.csv" > "$dir/red-nir-swir.csv" && mv "$dir/red-nir-swir.csv" "$dir/signatures.csv"
    fi
    db="$dir/lake.sqlite"
    $BIN/lake --db "$db" init --srid 32631 >/dev/null
    $BIN/lake --db "$db" ingest parcels "$dir/parcels.geojson" --aoi nl --year 2023 >/dev/null 2>&1
    [ -f "$dir/s1-catalogue.csv" ] && $BIN/lake --db "$db" ingest catalogue "$dir/s1-catalogue.csv" >/dev/null
    $BIN/lake --db "$db" ingest signatures "$dir/signatures.csv" "$dir/scl.csv" --create-scenes >/dev/null 2>&1
    [ -f "$dir/s1.csv" ] && $BIN/lake --db "$db" ingest signatures "$dir/s1.csv" >/dev/null
    $BIN/lake --db "$db" markers run options/mowing.yaml >/dev/null
    python3 scripts/second-generator.py score "$dir/truth.csv" "$db"
    python3 scripts/second-generator.py score "$dir/truth.csv" "$db" --naive
    case "$run" in 7|8|7o)
      # As mowing data sets come: the declared meadows alone, no other crop in the lake (where
      # one crop fills an area, the regional context learns no shared dates).
      echo "-- the same on a lake of the declared meadows only"
      rm -f "$dir/meadows.geojson" "$dir/meadows.sqlite"
      ogr2ogr -f GeoJSON -where "crop_name = 'permanent grassland'" "$dir/meadows.geojson" "$dir/parcels.geojson"
      $BIN/lake --db "$dir/meadows.sqlite" init --srid 32631 >/dev/null
      $BIN/lake --db "$dir/meadows.sqlite" ingest parcels "$dir/meadows.geojson" --aoi nl --year 2023 >/dev/null 2>&1
      # Rows of the other parcels are rejected (exit 7): expected here.
      $BIN/lake --db "$dir/meadows.sqlite" ingest signatures "$dir/signatures.csv" "$dir/scl.csv" --create-scenes >/dev/null 2>&1 || [ $? -eq 7 ]
      $BIN/lake --db "$dir/meadows.sqlite" markers run options/mowing.yaml >/dev/null
      python3 scripts/second-generator.py score "$dir/truth.csv" "$dir/meadows.sqlite" ;;
    esac
    if [ -f "$dir/crops.csv" ]; then
      $BIN/lake --db "$db" check crops >/dev/null
      $BIN/lake --db "$db" heterogeneity >/dev/null 2>&1
      $BIN/lake --db "$db" decide --schemes mowing crop heterogeneity >/dev/null
      python3 scripts/second-generator.py score-crops "$dir/crops.csv" "$db"
      # The harvest of its winter wheat (another generator's crop curve: ripening, a step to
      # stubble, volunteers a few weeks later), after the light so that the light is as before.
      $BIN/lake --db "$db" markers run options/harvest.yaml >/dev/null
      python3 scripts/second-generator.py score-harvest "$dir/crops.csv" "$db"
    fi
  done
  # A lake of a second-generator folder's parcels (AOI nl; PARCEL_OPTIONS such as --year 2023)
  # and these signature files, the mowing chain run on it and scored against DIR/truth.csv;
  # with DIR/crops.csv, the crop check, heterogeneity and the light too.
  form_lake() {  # DB DIR "PARCEL_OPTIONS" SIGNATURE_FILE...
    local db=$1 dir=$2 parcel_options=$3; shift 3
    rm -f "$db"
    $BIN/lake --db "$db" init --srid 32631 >/dev/null
    $BIN/lake --db "$db" ingest parcels "$dir/parcels.geojson" --aoi nl $parcel_options >/dev/null 2>&1
    $BIN/lake --db "$db" ingest signatures "$@" --create-scenes >/dev/null 2>&1
    $BIN/lake --db "$db" markers run options/mowing.yaml >/dev/null
    python3 scripts/second-generator.py score "$dir/truth.csv" "$db"
    if [ -f "$dir/crops.csv" ]; then
      $BIN/lake --db "$db" check crops >/dev/null
      $BIN/lake --db "$db" heterogeneity >/dev/null 2>&1
      $BIN/lake --db "$db" decide --schemes mowing crop heterogeneity >/dev/null
      python3 scripts/second-generator.py score-crops "$dir/crops.csv" "$db"
      # The harvest of its winter wheat (another generator's crop curve: ripening, a step to
      # stubble, volunteers a few weeks later), after the light so that the light is as before.
      $BIN/lake --db "$db" markers run options/harvest.yaml >/dev/null
      python3 scripts/second-generator.py score-harvest "$dir/crops.csv" "$db"
    fi
  }
  # A mowing data set as such sets come: its own polygons without a year, the series and the
  # field records of two seasons (seed 7 in 2023 and in 2024: the same fields).
  dir="$OUT/second-two-seasons"; rm -rf "$dir" "$OUT/second-7-2024"
  echo "== second generator, seed 7 in 2023 and 2024 under parcels without a year (each season analysed), scored on the declared meadows"
  python3 scripts/second-generator.py "$OUT/second-7-2024" --parcels 1200 --seed 7 --year 2024
  [ -d "$OUT/second-7" ] || python3 scripts/second-generator.py "$OUT/second-7" --parcels 1200 --seed 7
  python3 scripts/second-generator.py merge-seasons "$dir" "$OUT/second-7" "$OUT/second-7-2024"
  form_lake "$dir/lake.sqlite" "$dir" "" "$dir/signatures.csv" "$dir/scl.csv"
  # The same lake as a table of parcel NDVI by date, SCL's clouds masked: no bands, no SCL.
  echo "== second generator, seed 7 as a table of NDVI by date with SCL's clouds masked (no bands, no SCL), scored on the declared meadows"
  dir="$OUT/second-7"
  python3 scripts/second-generator.py ndvi-table "$dir"
  form_lake "$dir/ndvi.sqlite" "$dir" "--year 2023" "$dir/ndvi.csv"
  # The same table with nothing masked and a column saying which rows SCL saw cloudy.
  echo "== second generator, seed 7 as a table of NDVI by date with a cloud flag column (nothing masked, no bands, no SCL), scored on the declared meadows"
  python3 scripts/second-generator.py ndvi-table "$dir" --cloud-column
  form_lake "$dir/ndvi-cloud.sqlite" "$dir" "--year 2023" "$dir/ndvi-cloud.csv"
  # The same lake as an Earth Engine export: reflectance means, stdDev and count per band, a
  # cloud_fraction column instead of SCL histograms, scenes by date.
  echo "== second generator, seed 7 as an Earth Engine export (B4_mean, B4_stdDev, B4_count, …, cloud_fraction; no SCL), scored on the declared meadows"
  python3 scripts/second-generator.py wide-table "$dir"
  form_lake "$dir/wide.sqlite" "$dir" "--year 2023" "$dir/wide.csv"
  # The anomalies lake (7a: wrong declarations, split parcels) as such an export: the crop check
  # and heterogeneity read the std it carries.
  if [ -d "$OUT/second-7a" ]; then
    echo "== second generator, seed 7 with wrong declarations and split parcels as an Earth Engine export, crop check, heterogeneity and the light"
    wdir="$OUT/second-7a-wide"; rm -rf "$wdir"; mkdir -p "$wdir"
    cp "$OUT/second-7a/"{signatures.csv,scl.csv,parcels.geojson,truth.csv,crops.csv} "$wdir/"
    python3 scripts/second-generator.py wide-table "$wdir"
    form_lake "$wdir/lake.sqlite" "$wdir" "--year 2023" "$wdir/wide.csv"
  fi
  # The same lake with 30 % of the parcels on the edge of two tiles: each row twice, from both
  # tiles' products of the day, each with part of the pixels.
  echo "== second generator, seed 7 with 30 % of the parcels on two overlapping tiles (each day in two products, each with part of the pixels), scored on the declared meadows"
  dir="$OUT/second-7-tiles"; rm -rf "$dir"
  python3 scripts/second-generator.py split-tiles "$dir" "$OUT/second-7"
  form_lake "$dir/lake.sqlite" "$dir" "--year 2023" "$dir/signatures.csv" "$dir/scl.csv"
else
  echo "(python3 absent: the second generator skipped)"
fi

NL=../shared/realdata/cbm-nl2020-markers/nl2020_b08_b11_b04_classified_1000.csv
if [ -f "$NL" ]; then
  echo "== observation screening on 1,000 labelled real NL observations (cbm-nl2020-markers; classes 1 cloudy, 2 hazy, 3 shady, 4 maintained, 5-7 vegetated, 8 other)"
  $BIN/lake screen --table "$NL" --csv > "$OUT/nl-screen.csv"
  paste -d, <(awk -F, 'NR > 1 { split("cloudy hazy shady maintained vegetated-O vegetated-Y vegetated-D other", c, " "); print c[int($15)] }' "$NL") \
            <(awk -F, 'NR > 1 { print $3 }' "$OUT/nl-screen.csv") | confusion
else
  echo "($NL absent: real labelled observations skipped)"
fi

# Real Sentinel-2 NDVI (L1C) of 32 Slovenian land-use polygons over 68 dates of 2015-2017, with
# another tool's verdict on each: the share of the polygon's pixels s2cloudless masks. The lake
# gets NDVI alone (no bands, no SCL): its temporal and regional context screen it.
SI=../shared/realdata/eo-learn-testeopatch-slovenia
if [ -d "$SI/geotiff" ]; then
  echo "== observation screening on real Slovenian NDVI (eo-learn TestEOPatch: 32 land-use polygons × 68 dates, NDVI only) against s2cloudless's cloud mask"
  dir="$OUT/slovenia"; rm -rf "$dir"
  python3 scripts/slovenia-series.py prepare "$SI" "$dir" 2>/dev/null
  db="$dir/lake.sqlite"
  $BIN/lake --db "$db" init --srid 32633 >/dev/null
  $BIN/lake --db "$db" ingest parcels "$dir/parcels.geojson" --aoi si >/dev/null 2>&1
  $BIN/lake --db "$db" ingest signatures "$dir/ndvi.csv" --create-scenes >/dev/null 2>&1
  $BIN/lake --db "$db" screen options/mowing.yaml --all --csv > "$dir/screen.csv"
  python3 scripts/slovenia-series.py score "$dir"
else
  echo "($SI absent: real Slovenian series skipped)"
fi

WC=../shared/realdata/worldcereal-parcel-timeseries
if [ ! -d "$WC" ]; then echo "($WC absent: real-data agreement skipped)"; exit 0; fi
echo "== WorldCereal parcel series (real LPIS labels): share of parcels each check finds to follow their declared crop"
# The legend's ewoc codes carry dashes (11-01-06-000-0); the series write them without.
legend="$OUT/ewoc_groups.csv"
awk -F, 'NR == 1 { print "crop_code,group_code,group_name"; next } { c = $1; gsub("-", "", c); print c "," $10 "," $5 }' \
  "$WC/legend/eurocrops_map_wcr_edition.csv" > "$legend"
for set in dekad_fra_2023:2023 monthly_corsica_2022:2022 monthly_flanders_2021:2021; do
  folder=${set%%:*}; year=${set##*:}
  csv=$(ls "$WC/$folder"/*.csv | head -1)
  db="$OUT/wc-$folder.sqlite"; rm -f "$db"
  $BIN/lake --db "$db" init >/dev/null
  $BIN/lake --db "$db" ingest crops "$legend" >/dev/null 2>&1
  $BIN/lake --db "$db" ingest parcels "$csv" --id sample_id --crop-code ewoc_code --point-buffer 10 --aoi "$folder" --year "$year" >/dev/null 2>&1
  $BIN/lake --db "$db" ingest signatures "$csv" --create-scenes >/dev/null 2>&1
  $BIN/lake --db "$db" markers run options/crop-phenology.yaml >/dev/null
  $BIN/lake --db "$db" check crops --min-peers 10 >/dev/null
  echo "-- $folder (year $year): rule-based phenology (crops with a rule) and the peer-envelope crop check (crops with ≥ 10 parcels)"
  $BIN/lake --db "$db" sql "
    SELECT g.group_name AS crop, count(*) AS parcels,
           sum(r.colour = 'green') AS rule_green, sum(r.colour = 'red') AS rule_red,
           sum(c.colour = 'green') AS check_green, sum(c.colour = 'red') AS check_red, sum(c.colour = 'yellow') AS check_yellow,
           sum(c.colour = 'grey') AS check_grey,
           round(1.0 * sum(c.colour = 'green') / nullif(sum(c.colour <> 'grey'), 0), 3) AS check_agreement
    FROM parcel_groups g
    LEFT JOIN decisions r ON r.pid = g.pid AND r.scheme = 'crop-phenology' AND r.reasons NOT LIKE '%no phenology rule%'
    LEFT JOIN decisions c ON c.pid = g.pid AND c.scheme = 'crop'
    GROUP BY 1 ORDER BY 2 DESC"
done
