#!/usr/bin/env python3
"""Real observations with another tool's verdicts: the eo-learn TestEOPatch of Slovenia
(../shared/realdata/eo-learn-testeopatch-slovenia: 68 Sentinel-2 L1C dates of NDVI, 2015-2017,
s2cloudless's cloud mask, 88 land-use polygons), made into a lake's input and scored.

  slovenia-series.py prepare DATA OUT   parcels.geojson (the polygons of at least 20 pixels
                                        inside the grid), ndvi.csv (field_id, date, ndvi: each
                                        polygon's mean NDVI over its valid pixels, per date) and
                                        clouds.csv (the share of those pixels s2cloudless masks)
  slovenia-series.py score OUT          lake's verdicts (OUT/screen.csv, `lake screen --csv`)
                                        against s2cloudless: clear (no pixel masked), partial,
                                        cloudy (more than half masked)

The lake has NDVI alone (no bands, no SCL): what screens it is the temporal context (a dip back
at the next observation) and the regional one (a drop shared by the area's parcels whatever they
grow). GDAL's command-line tools do the raster work; the rest is the standard library.
"""
import array
import csv
import json
import os
import subprocess
import sys
import tempfile

MIN_PIXELS = 20     # a polygon needs this many pixel centres inside the grid
MIN_VALID = 10      # … and this many valid ones on a date for that date to count


def gdal(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def raw(path, tmp, name):
    """A raster's bands as float32 values, band after band (ENVI, band-sequential)."""
    out = os.path.join(tmp, name + ".bin")
    gdal("gdal_translate", "-q", "-of", "ENVI", "-ot", "Float32", path, out)
    values = array.array("f")
    with open(out, "rb") as fh:
        values.frombytes(fh.read())
    if sys.byteorder != "little":
        values.byteswap()
    return values


def prepare(data, out):
    os.makedirs(out, exist_ok=True)
    tif = os.path.join(data, "geotiff")
    gpkg = os.path.join(data, "npy", "vector_timeless", "LULC.gpkg")
    info = json.loads(subprocess.run(["gdalinfo", "-json", os.path.join(tif, "NDVI_68dates.tif")],
                                     check=True, capture_output=True, text=True).stdout)
    width, height = info["size"]
    corners = info["cornerCoordinates"]
    xmin, ymax = corners["upperLeft"]; xmax, ymin = corners["lowerRight"]
    dates = [line.split(": ", 1)[1][:10] for line in open(os.path.join(tif, "band_dates.txt")) if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        ids_tif = os.path.join(tmp, "ids.tif")
        # Each polygon's number (its rowid) burnt at the pixel centres it covers, on the NDVI grid.
        gdal("gdal_rasterize", "-q", "-a", "id", "-ot", "Int32", "-init", "0",
             "-te", str(xmin), str(ymin), str(xmax), str(ymax), "-ts", str(width), str(height),
             "-sql", "SELECT rowid AS id, * FROM LULC", gpkg, ids_tif)
        ids = raw(ids_tif, tmp, "ids")
        ndvi = raw(os.path.join(tif, "NDVI_68dates.tif"), tmp, "ndvi")
        cloud = raw(os.path.join(tif, "CLM_68dates.tif"), tmp, "clm")
        valid = raw(os.path.join(tif, "IS_DATA_68dates.tif"), tmp, "valid")
    n = width * height
    pixels = {}
    for k in range(n):
        if ids[k] > 0:
            pixels.setdefault(int(ids[k]), []).append(k)
    kept = sorted(i for i, p in pixels.items() if len(p) >= MIN_PIXELS)
    with open(os.path.join(out, "ndvi.csv"), "w", newline="") as fn, open(os.path.join(out, "clouds.csv"), "w", newline="") as fc:
        wn, wc = csv.writer(fn), csv.writer(fc)
        wn.writerow(["field_id", "date", "ndvi"]); wc.writerow(["field_id", "date", "ndvi", "cloud_fraction"])
        for i in kept:
            for t, date in enumerate(dates):
                good = [k for k in pixels[i] if valid[t * n + k] > 0]
                if len(good) < MIN_VALID:
                    continue
                v = sum(ndvi[t * n + k] for k in good) / len(good)
                c = sum(1 for k in good if cloud[t * n + k] > 0) / len(good)
                wn.writerow([f"SI{i:03d}", date, f"{v:.4f}"]); wc.writerow([f"SI{i:03d}", date, f"{v:.4f}", f"{c:.3f}"])
    where = "rowid IN (" + ",".join(str(i) for i in kept) + ")"
    parcels = os.path.join(out, "parcels.geojson")
    if os.path.exists(parcels):
        os.remove(parcels)
    gdal("ogr2ogr", "-f", "GeoJSON", parcels, gpkg, "-sql",
         f"SELECT printf('SI%03d', rowid) AS parcel_id, LULC_NAME AS crop_name, * FROM LULC WHERE {where}")
    print(f"{len(kept)} polygons of at least {MIN_PIXELS} pixels, {len(dates)} dates", file=sys.stderr)


def score(out):
    clouds = {}
    for r in csv.DictReader(open(os.path.join(out, "clouds.csv"))):
        clouds.setdefault((r["field_id"], r["date"]), []).append((float(r["ndvi"]), float(r["cloud_fraction"])))
    matrix, columns = {}, []
    for r in csv.DictReader(open(os.path.join(out, "screen.csv"))):
        found = clouds.get((r["parcel_id"], r["date"]))
        if not found:
            continue
        # Two products of one date (overlapping tiles): the one lake kept, by its value.
        value = float(r["value"]) if r["value"] else found[0][0]
        share = min(found, key=lambda f: abs(f[0] - value))[1]
        truth = "cloudy" if share > 0.5 else "partial" if share > 0 else "clear"
        matrix.setdefault(truth, {}).setdefault(r["quality"], 0)
        matrix[truth][r["quality"]] += 1
        if r["quality"] not in columns:
            columns.append(r["quality"])
    columns.sort(key=lambda c: (c != "clear", c))
    print("s2cloudless \\ lake " + "".join(f"{c:>10}" for c in columns) + f"{'total':>10}")
    for truth in ("clear", "partial", "cloudy"):
        row = matrix.get(truth, {})
        print(f"{truth:<18} " + "".join(f"{row.get(c, 0):>10}" for c in columns) + f"{sum(row.values()):>10}")
    cloudy, clear = matrix.get("cloudy", {}), matrix.get("clear", {})
    out_cloudy = sum(v for c, v in cloudy.items() if c != "clear")
    out_clear = sum(v for c, v in clear.items() if c != "clear")
    print(f"cloudy (s2cloudless > 50 %) screened out {out_cloudy} of {sum(cloudy.values())} "
          f"({out_cloudy / max(1, sum(cloudy.values())):.3f}); clear screened out {out_clear} of {sum(clear.values())} "
          f"({out_clear / max(1, sum(clear.values())):.3f})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "score":
        score(sys.argv[2])
    else:
        sys.exit(__doc__)
