#!/usr/bin/env python3
"""What the mowing chain's missed cuts looked like in the data, on a `make accuracy` fixtures lake.

    python3 scripts/mowing-misses.py [bench-out/accuracy/fixtures-2024] [--run N]

Reads the fixtures (truth.csv, quality.csv, signatures.csv, scenes.stac.json, s1.csv,
s1-catalogue.csv) and the markers of one mowing run in lake.sqlite (default: the first run of
the `grassland-mowing` option file, the chain with coherence), and prints:

1. the missed cuts, split into those Sentinel-2 could show (a truly clear observation within
   20 days before and 10 days after, as `lake-fixtures score` counts them) and those in gaps;
2. for gaps of 18 days or more between truly clear observations (April to October, declared
   meadows): how far NDVI fell across the gap, for gaps holding a missed cut, a found cut, or
   none (a cut whose sward regrew before the next clear scene leaves no fall to see);
3. how well Sentinel-1 coherence alone tells a cut from no cut where Sentinel-2 cannot (pairs
   in gaps): the pair after the cut against every other pair, scored by its step over the pair
   before once the area's weather (the median of all parcels' pairs as a share of their own
   level) is divided out: the cuts found at 10 to 160 false pairs.

Only the standard library; the truth is the generator's, which lake itself never reads.
"""
import collections
import csv
import datetime as dt
import json
import sqlite3
import statistics
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = args[0] if args else "bench-out/accuracy/fixtures-2024"
    run = int(sys.argv[sys.argv.index("--run") + 1]) if "--run" in sys.argv else None
    db = sqlite3.connect(f"{folder}/lake.sqlite")
    if run is None:
        row = db.execute("SELECT min(run_id) FROM runs WHERE kind = 'markers' AND json_extract(inputs, '$.option_file') = 'grassland-mowing'").fetchone()
        if row[0] is None:
            sys.exit(f"{folder}/lake.sqlite: no grassland-mowing run (run make accuracy first)")
        run = row[0]
    year = int(db.execute("SELECT min(year) FROM parcels").fetchone()[0])

    def day(s):
        return (dt.date.fromisoformat(s[:10]) - dt.date(year, 1, 1)).days

    truth = {r["parcel_id"]: r for r in csv.DictReader(open(f"{folder}/truth.csv"))}
    meadows = {p for p, r in truth.items() if r["declared_crop"] == "6100"}
    cuts = {p: [day(d) for d in truth[p]["mowing_dates"].split(";") if d] for p in truth}
    clear = collections.defaultdict(list)
    for r in csv.DictReader(open(f"{folder}/quality.csv")):
        if r["label"] == "clear":
            clear[r["parcel_id"]].append(day(r["date"]))
    found = collections.defaultdict(list)
    for pid, date in db.execute("SELECT p.parcel_id, m.date FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = ? AND m.detector = 'mowing'", (run,)):
        found[pid].append(day(date))
    analysed = [r[0] for r in db.execute("SELECT DISTINCT p.parcel_id FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ?", (run,))]

    # 1. Each true cut matched to the nearest unused marker within −3/+15 days (as the scorer does).
    missed = set()
    hits = 0
    for pid in analysed:
        markers = list(found[pid])
        for c in cuts[pid]:
            fits = [m for m in markers if -3 <= m - c <= 15]
            if fits:
                markers.remove(min(fits, key=lambda m: abs(m - c)))
                hits += 1
            else:
                missed.add((pid, c))
    visible = sum(1 for pid, c in missed
                  if any(c - 20 <= d < c for d in clear[pid]) and any(c < d <= c + 10 for d in clear[pid]))
    print(f"run {run}: {hits} cuts found, {len(missed)} missed: {visible} where Sentinel-2 could show them, "
          f"{len(missed) - visible} in its gaps (no truly clear observation within 20 days before or 10 after)")

    # 2. NDVI across long gaps between truly clear observations.
    scenes = {f["id"]: day(f["properties"]["datetime"]) for f in json.load(open(f"{folder}/scenes.stac.json"))["features"]}
    bands = collections.defaultdict(dict)
    for r in csv.DictReader(open(f"{folder}/signatures.csv")):
        if r["band"] in ("B04", "B08") and r["parcel_id"] in meadows:
            bands[(r["parcel_id"], scenes[r["reference"]])][r["band"]] = float(r["mean"])
    ndvi = collections.defaultdict(dict)
    for (pid, d), b in bands.items():
        if len(b) == 2 and b["B08"] + b["B04"] > 0:
            ndvi[pid][d] = (b["B08"] - b["B04"]) / (b["B08"] + b["B04"])
    falls = {"a missed cut": [], "a found cut": [], "no cut": []}
    for pid in meadows:
        days = sorted(d for d in clear[pid] if d in ndvi[pid])
        for a, b in zip(days, days[1:]):
            if b - a < 18 or not 90 <= a <= 280:
                continue
            inside = [c for c in cuts[pid] if a < c < b]
            if not inside and any(a - 30 <= c <= a for c in cuts[pid]):
                continue   # still regrowing from a cut before the gap
            kind = "no cut" if not inside else "a missed cut" if any((pid, c) in missed for c in inside) else "a found cut"
            falls[kind].append(ndvi[pid][a] - ndvi[pid][b])
    print("\nNDVI fall across gaps of 18 days or more between truly clear observations (declared meadows):")
    print(f"  {'gaps holding':<14}{'gaps':>6}{'median fall':>13}  share of falls below 0.08")
    for kind, xs in falls.items():
        if xs:
            print(f"  {kind:<14}{len(xs):>6}{statistics.median(xs):>13.3f}  {sum(1 for x in xs if x < 0.08) / len(xs):.2f}")

    # 3. Coherence alone where Sentinel-2 cannot see (pairs in its gaps).
    catalogue = {r["reference"]: day(r["obstime"]) for r in csv.DictReader(open(f"{folder}/s1-catalogue.csv"))}
    coherence = collections.defaultdict(dict)
    for r in csv.DictReader(open(f"{folder}/s1.csv")):
        if r["band"] == "VV":
            coherence[r["parcel_id"]][catalogue[r["reference"]]] = float(r["mean"])

    def levels(series):
        out = {}
        for k in series:
            near = [v for j, v in series.items() if 9 < abs(j - k) <= 30]
            out[k] = statistics.median(near) if len(near) >= 4 else statistics.median(series.values())
        return out
    shares = collections.defaultdict(list)
    for series in coherence.values():
        level = levels(series)
        for k, v in series.items():
            if level[k] > 0.02:
                shares[k].append(v / level[k])
    weather = {k: statistics.median(v) for k, v in shares.items()}
    scored = []
    for pid in meadows:
        free = {k: v / max(0.2, weather[k]) for k, v in coherence[pid].items()}
        level = levels(free)
        pairs = sorted(free)
        for before, k in zip(pairs, pairs[1:]):
            cut = before - 8   # a rise's cut is dated 2 days before the pair before it began
            if k - before > 7 or not 90 <= k <= 300:
                continue
            if any(cut - 20 <= d < cut for d in clear[pid]) and any(cut < d <= cut + 10 for d in clear[pid]):
                continue   # Sentinel-2 watched: its evidence decides there
            step = (free[k] - level[k]) - (free[before] - level[before])
            inside = [c for c in cuts[pid] if before - 6 < c <= before]
            scored.append((step, bool(inside), any((pid, c) in missed for c in inside)))
    positives = sum(1 for _, p, _ in scored if p)
    unseen = sum(1 for _, _, m in scored if m)
    print(f"\nCoherence alone in Sentinel-2's gaps: {positives} pairs right after a cut ({unseen} of them after a cut run {run} missed), "
          f"{len(scored) - positives} others;")
    print("the step over the pair before (weather divided out), cuts found at a number of false pairs:")
    scored.sort(key=lambda s: -s[0])
    tp = fp = tm = 0
    marks = [10, 20, 40, 80, 160]
    for step, positive, miss in scored:
        tp, fp, tm = tp + positive, fp + (not positive), tm + miss
        if not positive and marks and fp == marks[0]:
            print(f"  {fp:>4} false: {tp:>4} cuts ({tp / max(positives, 1):.2f}), {tm:>3} of the missed ones, step ≥ {step:.3f}")
            marks.pop(0)


if __name__ == "__main__":
    main()
