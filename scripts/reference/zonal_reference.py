"""Reference zonal statistics from rasterstats (and exactextract) for lake's extraction tests
and benchmark.

    python zonal_reference.py VECTOR ID_FIELD RASTER[=BAND]... [--all-touched] [--nodata V] [--tool rasterstats|exactextract]

Prints CSV: id,band,count,mean,std,min,max,p25,p50,p75 (population std, numpy linear percentiles).
BAND names the raster in the output (default: the file name). Polygons are reprojected to each
raster's CRS. exactextract gives its unweighted statistics of the pixels whose centre is inside
(coverage fraction taken as 1 for every touched pixel is not the centre rule; see BENCHMARKS.md),
so only rasterstats is used as the reference for the centre rule.
"""
import argparse
import csv
import sys

import numpy as np


def rasterstats_rows(vector, id_field, raster, band, all_touched, nodata):
    import geopandas as gpd
    import rasterio
    from rasterstats import zonal_stats

    with rasterio.open(raster) as src:
        crs = src.crs
        nd = nodata if nodata is not None else src.nodata
    frame = gpd.read_file(vector).to_crs(crs)
    stats = zonal_stats(frame.geometry, raster, stats=["count", "mean", "std", "min", "max", "percentile_25",
                                                         "percentile_50", "percentile_75"],
                        all_touched=all_touched, nodata=nd)
    for ident, s in zip(frame[id_field], stats):
        if not s["count"]:
            continue
        yield [ident, band, s["count"], s["mean"], s["std"], s["min"], s["max"], s["percentile_25"],
               s["percentile_50"], s["percentile_75"]]


def categorical_rows(vector, id_field, raster, band, all_touched, nodata):
    """SCL-style class counts: id, band, then the counts of classes 0..11."""
    import geopandas as gpd
    import rasterio
    from rasterstats import zonal_stats

    with rasterio.open(raster) as src:
        crs = src.crs
        nd = nodata if nodata is not None else src.nodata
    frame = gpd.read_file(vector).to_crs(crs)
    for ident, s in zip(frame[id_field], zonal_stats(frame.geometry, raster, categorical=True, all_touched=all_touched, nodata=nd)):
        if s:
            yield [ident, band] + [s.get(k, 0) for k in range(12)]


def exactextract_rows(vector, id_field, raster, band, all_touched, nodata):
    import geopandas as gpd
    import rasterio
    from exactextract import exact_extract

    with rasterio.open(raster) as src:
        crs = src.crs
    frame = gpd.read_file(vector).to_crs(crs)
    ops = ["count", "mean", "stdev", "min", "max", "quantile(q=0.25)", "median", "quantile(q=0.75)"]
    result = exact_extract(raster, frame, ops, include_cols=[id_field], output="pandas")
    for _, r in result.iterrows():
        values = list(r.values)
        if not values[1]:
            continue
        yield [values[0], band] + values[1:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vector")
    parser.add_argument("id_field")
    parser.add_argument("rasters", nargs="+")
    parser.add_argument("--all-touched", action="store_true")
    parser.add_argument("--nodata", type=float)
    parser.add_argument("--tool", default="rasterstats", choices=["rasterstats", "exactextract", "categorical"])
    args = parser.parse_args()
    out = csv.writer(sys.stdout, lineterminator="\n")
    if args.tool == "categorical":
        out.writerow(["id", "band"] + ["c%d" % k for k in range(12)])
    else:
        out.writerow(["id", "band", "count", "mean", "std", "min", "max", "p25", "p50", "p75"])
    produce = {"rasterstats": rasterstats_rows, "exactextract": exactextract_rows, "categorical": categorical_rows}[args.tool]
    for spec in args.rasters:
        path, _, band = spec.partition("=")
        band = band or path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        for row in produce(args.vector, args.id_field, path, band, args.all_touched, args.nodata):
            values = [str(int(v)) for v in row[2:]] if args.tool == "categorical" else [repr(float(v)) for v in row[2:]]
            out.writerow([row[0], row[1]] + values)


if __name__ == "__main__":
    main()
