#!/usr/bin/env bash
# lake accuracy: precision and recall of markers and decisions on generated fixtures with planted
# events and anomalies (mowing dates, barley harvests, wrong declarations, split parcels,
# unmown meadows, cloudy scenes), and how often the crop phenology check agrees with the
# declared crop on real WorldCereal parcel series (../shared/realdata), per crop.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release; OUT=bench-out/accuracy
P=${ACCURACY_PARCELS:-2000}
mkdir -p "$OUT"

echo "== fixtures: $P parcels × 73 scenes, seed 2024 (planted truth in truth.csv)"
$BIN/lake-fixtures --out "$OUT/fixtures" --parcels "$P" --scenes 73 --seed 2024 2>/dev/null
db="$OUT/fixtures.sqlite"; rm -f "$db"
$BIN/lake --db "$db" init --srid 32632 >/dev/null
$BIN/lake --db "$db" ingest parcels "$OUT/fixtures/parcels.geojson" --aoi demo --year 2024 >/dev/null 2>&1
$BIN/lake --db "$db" ingest catalogue "$OUT/fixtures/scenes.stac.json" >/dev/null
$BIN/lake --db "$db" ingest signatures "$OUT/fixtures/signatures.csv" "$OUT/fixtures/scl.csv" >/dev/null
for o in mowing harvest bare-soil crop-phenology; do $BIN/lake --db "$db" markers run "options/$o.yaml" >/dev/null; done
$BIN/lake --db "$db" heterogeneity >/dev/null 2>&1
$BIN/lake-fixtures score --truth "$OUT/fixtures/truth.csv" --db "$db"

WC=../shared/realdata/worldcereal-parcel-timeseries
if [ ! -d "$WC" ]; then echo "($WC absent: real-data agreement skipped)"; exit 0; fi
echo "== WorldCereal parcel series (real LPIS labels): crop phenology check vs declared crop"
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
  echo "-- $folder (year $year)"
  $BIN/lake --db "$db" sql "
    SELECT g.group_name AS crop, count(*) AS parcels, sum(d.colour = 'green') AS agree, sum(d.colour = 'red') AS disagree,
           sum(d.colour = 'yellow') AS undecided, round(1.0 * sum(d.colour = 'green') / count(*), 3) AS agreement
    FROM decisions d JOIN parcel_groups g USING (pid)
    WHERE d.run_id = (SELECT max(run_id) FROM decisions) AND d.reasons NOT LIKE '%no phenology rule%'
    GROUP BY 1 ORDER BY 2 DESC"
done
