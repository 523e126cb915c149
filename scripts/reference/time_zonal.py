"""Times one zonal-statistics tool on a vector and one raster band, as lake's benchmark runs it:

    python time_zonal.py rasterstats|exactextract VECTOR RASTER [--all-touched]

Prints "seconds parcels" on stdout: wall time (after the Python imports) of reading the polygons and computing count, mean,
std, min, max and the 25/50/75th percentiles for every polygon (rasterstats: centre rule, like
lake's default; exactextract: its coverage-fraction engine, the fastest open tool).
"""
import sys
import time

import geopandas as gpd  # noqa: E402
from exactextract import exact_extract  # noqa: E402
from rasterstats import zonal_stats  # noqa: E402

tool, vector, raster = sys.argv[1:4]
all_touched = "--all-touched" in sys.argv
t0 = time.perf_counter()   # after the imports: reading the polygons and the statistics
frame = gpd.read_file(vector)
if tool == "rasterstats":
    stats = zonal_stats(frame.geometry, raster, all_touched=all_touched, nodata=0,
                        stats=["count", "mean", "std", "min", "max", "percentile_25", "percentile_50", "percentile_75"])
    n = sum(1 for s in stats if s["count"])
else:
    result = exact_extract(raster, frame, ["count", "mean", "stdev", "min", "max", "quantile(q=0.25)", "median",
                                           "quantile(q=0.75)"], output="pandas")
    n = int((result["count"] > 0).sum())
print("%.3f %d" % (time.perf_counter() - t0, n))
