#!/usr/bin/env python3
"""A second planted-anomaly lake, written apart from lake-fixtures, to check that lake's mowing
chain is not tuned to one generator.

Everything that matters is modelled differently from lake-fixtures (Sources/lake-fixtures):
another year (2023), CRS (EPSG:32631) and region; weather as a persistent day-by-day cloud
process; clouds as discs drifting over the area, each with its shadow cast to the north-west
and a thin, mostly unflagged rim; scene-wide haze as path radiance added band by band; a
meadow whose cut leaves a green swath for a few days before the hay is taken, then regrows
after a lag along a logistic curve (slower in summer); grazing as shallow irregular dips;
declared meadows that are really cereals, maize or ploughed and resown; an SCL that misses
some clouds and most rims, flags some shadows, and sees false clouds on bright soil; an
illumination difference between the two relative orbits; the +1000 DN offset of processing
baselines 04.00 and later.

Writes into OUT: parcels.geojson, signatures.csv (JRC form, product references), scl.csv
(hist JSON) and truth.csv (declared crop, what the field really was, its cut dates). With
--anomalies also wrong declarations (arable fields as another arable crop, meadows as an
arable crop) and split parcels (two crops under one declaration, the pixel percentiles those of
the two populations' mixture), and crops.csv (every parcel's declared and true crop, its
second crop, the crop check's and the one light's expected colours).

  python3 scripts/second-generator.py OUT [--parcels 1200] [--seed 7] [--overlap] [--reflectance] [--cloudy] [--anomalies] …
  python3 scripts/second-generator.py score OUT/truth.csv LAKE.sqlite [--naive]
  python3 scripts/second-generator.py score-crops OUT/crops.csv LAKE.sqlite   # after check crops, heterogeneity, decide
  python3 scripts/second-generator.py score-harvest OUT/crops.csv LAKE.sqlite # after markers run options/harvest.yaml
  python3 scripts/second-generator.py merge-seasons OUT A B   # two seasons (OUT A --year 2023, B --year 2024) under year-less parcels
  python3 scripts/second-generator.py ndvi-table OUT [--cloud-column]   # OUT/ndvi.csv: parcel NDVI by date, SCL's clouds masked
                                                              # (--cloud-column: OUT/ndvi-cloud.csv, nothing masked, a cloud flag)
  python3 scripts/second-generator.py split-tiles OUT IN      # IN's parcels, 30 % of them on the edge of two tiles
  python3 scripts/second-generator.py wide-table OUT          # OUT/wide.csv: an Earth Engine export (B4_mean, B4_stdDev, …, cloud_fraction)

Standard library only.
"""
import argparse, csv, datetime as dt, json, math, os, random, shutil, sqlite3, sys, zlib

YEAR = 2023
BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]
# Path radiance of haze, per band, relative to B02 (scattering falls with wavelength).
HAZE = {"B02": 1.0, "B03": 0.8, "B04": 0.62, "B08": 0.38, "B11": 0.12, "B12": 0.07}
CLOUD = {"B02": 0.52, "B03": 0.50, "B04": 0.49, "B08": 0.52, "B11": 0.38, "B12": 0.28}
ARABLE = ["winter wheat", "maize", "sugar beet", "potatoes"]


def logistic(x, mid, width):
    return 1 / (1 + math.exp(-(x - mid) / width))


def mixture_quantile(comps, q):
    """The q-quantile of a mixture of normals given as (weight, mean, sd)."""
    total = sum(c[0] for c in comps)
    cdf = lambda x: sum(c[0] * 0.5 * (1 + math.erf((x - c[1]) / (max(c[2], 1e-6) * math.sqrt(2)))) for c in comps) / total
    lo = min(c[1] - 6 * c[2] for c in comps)
    hi = max(c[1] + 6 * c[2] for c in comps)
    for _ in range(50):
        mid = (lo + hi) / 2
        if cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def reflectance(ndvi, soil_moisture):
    """Vegetation of a given NDVI as surface reflectance per band."""
    ndvi = max(0.05, min(0.93, ndvi))
    red = 0.028 + 0.105 * (1 - ndvi) ** 1.2
    nir = red * (1 + ndvi) / (1 - ndvi)
    return {"B02": 0.7 * red + 0.012, "B03": 1.05 * red + 0.025, "B04": red, "B08": nir,
            "B11": 0.31 - 0.17 * ndvi - 0.05 * soil_moisture, "B12": 0.24 - 0.17 * ndvi - 0.05 * soil_moisture}


class Field:
    def __init__(self, rng, kind, area, variant=frozenset()):
        self.kind, self.area = kind, area
        self.cuts, self.events = [], []
        self.green_up = rng.uniform(70, 110)
        self.winter = rng.uniform(0.42, 0.6)
        self.peak = rng.uniform(0.78, 0.9)
        self.sow = rng.uniform(-8, 8)        # crop calendar shift (days)
        self.swath = rng.uniform(0.05, 0.2)  # how green the cut grass lying in swaths still is
        self.residual_lift = rng.uniform(0.12, 0.25) if "shallow" in variant else 0.0
        self.dry = "dry-summer" in variant
        if self.dry:   # Mediterranean: green in winter and spring, dry from late June, green again after the autumn rains
            self.green_up = rng.uniform(40, 70)
            self.drought, self.rains = rng.uniform(165, 185), rng.uniform(270, 290)
        if kind == "mown":
            intensive = "intensive" in variant
            day = rng.uniform(112, 135) if intensive else rng.uniform(95, 120) if self.dry else rng.uniform(125, 170)
            last = 175 if self.dry else 272   # no cut in the dry summer
            while day < last:
                self.cuts.append(day)
                day += rng.uniform(26, 38) if intensive else rng.uniform(34, 62)
        elif kind == "grazed":
            self.dips = [(rng.uniform(110, 290), rng.uniform(0.04, 0.12), rng.uniform(8, 25)) for _ in range(rng.randint(3, 7))]
        elif kind == "ploughed":
            self.plough = rng.uniform(150, 230)
        elif kind == "arable":
            self.crop = rng.choice(ARABLE)

    def grass(self, d):
        if self.dry:
            season = logistic(d, self.green_up, 9) * (1 - logistic(d, self.drought, 8)) + 0.8 * logistic(d, self.rains, 8)
            return 0.3 + (self.peak - 0.3) * min(1, season)
        season = logistic(d, self.green_up, 9) * (1 - logistic(d, 300, 12))
        return self.winter + (self.peak - self.winter) * season

    def ndvi(self, d):
        k = self.kind
        if k == "arable":
            s = self.sow
            c = self.crop
            if c == "winter wheat":  # green from autumn, ripening in June, harvest mid-July
                v = 0.35 + 0.5 * logistic(d, 85 + s, 10) * (1 - logistic(d, 178 + s, 7))
                return v - 0.12 * logistic(d, 198 + s, 2) + 0.25 * logistic(d, 250 + s, 8)  # stubble, then volunteers
            if c == "maize":
                return 0.16 + 0.7 * logistic(d, 175 + s, 8) * (1 - logistic(d, 268 + s, 7))
            if c == "sugar beet":
                return 0.17 + 0.72 * logistic(d, 160 + s, 8) * (1 - logistic(d, 295 + s, 6))
            return 0.17 + 0.66 * logistic(d, 155 + s, 7) * (1 - logistic(d, 225 + s, 6))
        v = self.grass(d)
        if k == "unmown":  # left standing: it flowers, dries and lodges over the summer
            return v if self.dry else v - 0.22 * logistic(d, 200, 12)
        if k == "grazed":
            for day, depth, width in self.dips:
                v -= depth * math.exp(-((d - day) / width) ** 2)
            return v
        if k == "ploughed":
            if d < self.plough:
                return v
            return 0.18 + (v - 0.18) * logistic(d, self.plough + 40, 6)
        for c in self.cuts:
            if d < c:
                continue
            age = d - c
            residual = 0.28 + 0.1 * (self.winter - 0.42) / 0.18 + self.residual_lift
            low = residual + (self.swath if age < 4 else 0)
            lag = 8 + (6 if 180 < c < 240 else 0)          # slower regrowth in the summer drought
            regrown = logistic(age, lag + 6, 4.5)
            v = min(v, low + (v - low) * regrown)
        return v


def scenes(overlap, one_satellite=False):
    """A Sentinel-2 acquisition every 5 days, S2A and S2B on alternating relative orbits; with
    `overlap`, also those of the neighbouring relative orbit two days later (areas where two
    orbits overlap see every field two or three times in five days, from another angle)."""
    passes = [(dt.date(YEAR, 1, 2), ("R051", "R008"))]
    if overlap:
        passes.append((dt.date(YEAR, 1, 4), ("R094", "R137")))
    out = []
    for first, orbits in passes:
        day, n = first, 0
        while day.year == YEAR:
            sat = "S2A" if n % 2 == 0 else "S2B"
            if one_satellite and sat == "S2B":   # as in 2022-2024, after S2B's failure: every 10 days
                day += dt.timedelta(days=5)
                n += 1
                continue
            stamp = day.strftime("%Y%m%d")
            out.append((day, sat, orbits[n % 2], f"{sat}_MSIL2A_{stamp}T105031_N0509_{orbits[n % 2]}_T31UFT_{stamp}T131512"))
            day += dt.timedelta(days=5)
            n += 1
    return sorted(out)


def generate(out, parcels, seed, overlap=False, as_reflectance=False, cloudy=False, variant=frozenset()):
    rng = random.Random(seed)
    # The anomalies draw from their own stream, so that a lake without them is the same lake.
    arng = random.Random(seed * 7919 + 1)
    anomalies = "anomalies" in variant
    os.makedirs(out, exist_ok=True)
    # Parcels on a jittered grid over ~12 × 12 km.
    side = math.ceil(math.sqrt(parcels))
    step = 12000 / side
    x0, y0 = 640000, 5740000
    fields, features = [], []
    for i in range(parcels):
        cx = x0 + (i % side + 0.5) * step + rng.uniform(-0.2, 0.2) * step
        cy = y0 + (i // side + 0.5) * step + rng.uniform(-0.2, 0.2) * step
        w, h = rng.uniform(60, 0.6 * step), rng.uniform(40, 0.45 * step)
        if "small" in variant:   # 0.1-0.6 ha: 10-60 pixels of 10 m, a handful at 20 m
            w, h = w * 0.3, h * 0.3
        a = rng.uniform(0, math.pi)
        corners = [(cx + dx * math.cos(a) - dy * math.sin(a), cy + dx * math.sin(a) + dy * math.cos(a))
                   for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]
        r = rng.random()
        if r < 0.5:   # declared meadow
            q = rng.random()
            kind = "mown" if q < 0.62 else "unmown" if q < 0.72 else "grazed" if q < 0.84 else "arable" if q < 0.94 else "ploughed"
            declared = "permanent grassland"
        else:
            kind = "arable"
            declared = None
        f = Field(rng, kind, w * h, variant)
        if "small" in variant:   # a small field's edge pixels mix in what lies around it (a maize or wheat field, a track)
            f.neighbour, f.mix = Field(rng, "arable", 1e4), rng.uniform(0.1, 0.3)
        if declared is None:
            declared = f.crop
        f.other, f.share = None, 1.0
        if anomalies:
            u = arng.random()
            if kind == "arable" and declared != "permanent grassland" and u < 0.08:
                # A wrong declaration: an arable field declared as another arable crop.
                declared = arng.choice([c for c in ARABLE if c != f.crop])
            elif kind in ("mown", "unmown", "grazed") and u < 0.05:
                # … or a meadow declared as an arable crop.
                declared = arng.choice(ARABLE)
            elif 0.08 <= u < 0.15:
                # A split parcel: one declaration over two fields, the second another crop
                # (a meadow with maize beside it, wheat with beet), 30-70 % of the area.
                crop = f.crop if kind == "arable" else "permanent grassland"
                other = arng.choice([c for c in ARABLE + ["permanent grassland"] if c != crop])
                f.other = Field(arng, "unmown" if other == "permanent grassland" else "arable", w * h, variant)
                if other != "permanent grassland":
                    f.other.crop = other
                f.share = arng.uniform(0.3, 0.7)
        f.id, f.declared, f.centre, f.radius = f"F{i + 1:05d}", declared, (cx, cy), math.sqrt(w * h / math.pi)
        f.moisture = rng.uniform(0, 1)
        f.texture = rng.uniform(0.012, 0.035)   # within-field spread of reflectance
        fields.append(f)
        ring = [[round(x, 2), round(y, 2)] for x, y in corners + corners[:1]]
        features.append({"type": "Feature", "properties": {"parcel_id": f.id, "crop_name": declared},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    with open(os.path.join(out, "parcels.geojson"), "w") as fh:
        json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32631"}},
                   "features": features}, fh)

    sig = csv.writer(open(os.path.join(out, "signatures.csv"), "w", newline=""))
    sig.writerow(["parcel_id", "reference", "band", "count", "mean", "std", "min", "max", "p25", "p50", "p75"])
    scl = csv.writer(open(os.path.join(out, "scl.csv"), "w", newline=""))
    scl.writerow(["parcel_id", "reference", "hist"])
    # What each observation really was: the shares of the parcel under cloud, shadow and cloud
    # rim, and the haze's path radiance in B02.
    sky = csv.writer(open(os.path.join(out, "sky.csv"), "w", newline=""))
    sky.writerow(["parcel_id", "date", "cloud", "shadow", "rim", "haze", "ndvi"])
    # Weather: a persistent daily cloudiness (logit AR(1)), cloudier in winter.
    logit, weather = rng.gauss(0, 1), {}
    for doy in range(1, 366):
        mean = 0.6 * math.cos(2 * math.pi * (doy - 15) / 365) + (0.5 if cloudy else -0.1)
        logit = 0.88 * logit + 0.12 * mean * 8 + rng.gauss(0, 0.75)
        weather[doy] = 1 / (1 + math.exp(-logit))
    cx0, cy0 = x0 + 6000, y0 + 6000
    for day, sat, orbit, ref in scenes(overlap, "one-satellite" in variant):
        doy = day.timetuple().tm_yday
        cover = weather[doy]
        # Cloud discs: numerous small cumulus on partly cloudy days, large decks on grey days.
        discs = []
        budget = cover * 1.6 * 144e6
        while budget > 0:
            radius = math.exp(rng.gauss(math.log(400 + 2500 * cover), 0.7))
            discs.append((cx0 + rng.uniform(-8000, 8000), cy0 + rng.uniform(-8000, 8000), radius, rng.uniform(0.4, 1.0)))
            budget -= math.pi * radius * radius
        shift = (-rng.uniform(300, 1500), rng.uniform(200, 1000))
        haze = rng.uniform(0.01, 0.09) if rng.random() < 0.3 else 0
        phase, wave = rng.uniform(0, 2 * math.pi), rng.uniform(2000, 9000)
        # Illumination and view angle differ between relative orbits.
        gain = {"R051": 1.0, "R008": 0.975, "R094": 1.04, "R137": 1.015}[orbit]
        for f in fields:
            x, y = f.centre
            cloud = shadow = rim = 0.0
            thick = 0.0
            for (dx, dy, r, t) in discs:
                d = math.hypot(x - dx, y - dy)
                cover_here = min(1, max(0, (r - d + f.radius) / (2 * f.radius)))
                if cover_here > cloud:
                    cloud, thick = cover_here, t
                rim = max(rim, min(1, max(0, (r + 250 - d + f.radius) / (2 * f.radius))) - cover_here)
                ds = math.hypot(x - dx - shift[0], y - dy - shift[1])
                shadow = max(shadow, min(1, max(0, (r - ds + f.radius) / (2 * f.radius))))
            shadow = min(shadow, 1 - cloud)
            rim = min(rim, 1 - cloud - shadow)
            clear = 1 - cloud - shadow - rim
            h = haze * (0.6 + 0.4 * math.sin(x / wave + phase))
            v = f.ndvi(doy) + rng.gauss(0, 0.012)
            if "small" in variant:
                v = (1 - f.mix) * v + f.mix * f.neighbour.ndvi(doy)
            surface = reflectance(v, f.moisture)
            v_own = v   # the field's own NDVI draws the scene classification's chances (same stream with or without anomalies)
            if f.other is not None:
                v2 = f.other.ndvi(doy) + arng.gauss(0, 0.012)
                surface2 = reflectance(v2, f.moisture)
                v = f.share * v + (1 - f.share) * v2
            pixels = max(4, int(f.area / 100))
            pix20 = max(1, int(f.area / 400))
            for b in BANDS:
                s = surface[b] * gain
                part = {"clear": s + HAZE[b] * h,
                        "rim": s * 0.8 + 0.12 * CLOUD[b] + HAZE[b] * (h + 0.03),
                        "shadow": s * 0.35 + 0.02 * HAZE[b] * (1 + 4 * h),
                        "cloud": CLOUD[b] * thick + s * (1 - thick) * 0.5}
                w = {"clear": clear, "rim": rim, "shadow": shadow, "cloud": cloud}
                if f.other is None:
                    mean = sum(w[k] * part[k] for k in w)
                    var = sum(w[k] * ((f.texture * part[k] / max(0.05, s)) ** 2 + (part[k] - mean) ** 2) for k in w)
                    sd = math.sqrt(var) * 10000
                    m = mean * 10000 + 1000
                    q = [max(1000, m + z * sd) for z in (-2.4, -0.674, 0, 0.674, 2.4)]
                    m = min(max(m, q[0]), q[4])
                else:
                    # Two fields under one declaration: the pixels are a mixture of two
                    # populations, so the percentiles are the mixture's, not a normal's.
                    s2 = surface2[b] * gain
                    part2 = {"clear": s2 + HAZE[b] * h,
                             "rim": s2 * 0.8 + 0.12 * CLOUD[b] + HAZE[b] * (h + 0.03),
                             "shadow": s2 * 0.35 + 0.02 * HAZE[b] * (1 + 4 * h),
                             "cloud": CLOUD[b] * thick + s2 * (1 - thick) * 0.5}
                    comps = [(w[k] * f.share, part[k], f.texture * part[k] / max(0.05, s)) for k in w if w[k] > 0]
                    comps += [(w[k] * (1 - f.share), part2[k], f.texture * part2[k] / max(0.05, s2)) for k in w if w[k] > 0]
                    mean = sum(c[0] * c[1] for c in comps)
                    sd = math.sqrt(sum(c[0] * (c[2] ** 2 + (c[1] - mean) ** 2) for c in comps)) * 10000
                    m = mean * 10000 + 1000
                    q = [max(1000, mixture_quantile(comps, z) * 10000 + 1000) for z in (0.008, 0.25, 0.5, 0.75, 0.992)]
                count = pixels if b not in ("B11", "B12") else pix20
                if as_reflectance:   # as openEO or Earth Engine export them: 0–1, the offset taken off
                    r = lambda dn: f"{max(0.0, (dn - 1000) / 10000):.5f}"
                    sig.writerow([f.id, ref, b, count, r(m), f"{sd / 10000:.5f}", r(int(q[0])), r(int(q[4]) + 1), r(q[1]), r(q[2]), r(q[3])])
                elif "harmonised" in variant:   # digital numbers with the offset taken off (S2_SR_HARMONIZED), product names kept
                    sig.writerow([f.id, ref, b, count, f"{m - 1000:.1f}", f"{sd:.1f}",
                                  int(q[0]) - 1000, int(q[4]) + 1 - 1000, f"{q[1] - 1000:.1f}", f"{q[2] - 1000:.1f}", f"{q[3] - 1000:.1f}"])
                else:
                    sig.writerow([f.id, ref, b, count, f"{m:.1f}", f"{sd:.1f}",
                                  int(q[0]), int(q[4]) + 1, f"{q[1]:.1f}", f"{q[2]:.1f}", f"{q[3]:.1f}"])
            # Scene classification: misses some cloud, most rims and half the shadows.
            hist = {}
            def put(cls, n):
                if n > 0:
                    hist[str(cls)] = hist.get(str(cls), 0) + n
            n_cloud = round(cloud * pix20)
            n_shadow = round(shadow * pix20)
            n_rim = round(rim * pix20)
            n_clear = pix20 - n_cloud - n_shadow - n_rim
            detected = thick > 0.55 or rng.random() < 0.5
            put(9 if thick > 0.8 else 8, n_cloud if detected else 0)
            put(4, 0 if detected else n_cloud)
            put(3 if rng.random() < 0.5 else 2, n_shadow)
            put(10 if rng.random() < 0.2 else 4, n_rim)
            veg = 4 if v > 0.35 else 5
            false_cloud = round(n_clear * 0.3) if v_own <= 0.35 and rng.random() < 0.1 else 0
            put(8, false_cloud)
            put(10 if h > 0.06 and rng.random() < 0.3 else veg, n_clear - false_cloud)
            scl.writerow([f.id, ref, json.dumps(hist)])
            sky.writerow([f.id, day.isoformat(), f"{cloud:.3f}", f"{shadow:.3f}", f"{rim:.3f}", f"{h:.4f}", f"{v:.4f}"])
    if "s1" in variant or "s1-6" in variant:
        write_coherence(out, fields, weather, seed, 6 if "s1-6" in variant else 12)
    if anomalies:
        # Every parcel's crop truth: what was declared, what grows there, the second field of a
        # split parcel, and the light each scheme should give (as lake-fixtures' truth.csv).
        with open(os.path.join(out, "crops.csv"), "w", newline="") as fh:
            t = csv.writer(fh)
            t.writerow(["parcel_id", "declared", "true_crop", "split_crop", "share", "expected_crop", "expected_light", "harvest_date"])
            for f in fields:
                true = f.crop if f.kind == "arable" else "permanent grassland"
                split = "" if f.other is None else (f.other.crop if f.other.kind == "arable" else "permanent grassland")
                wrong = true != f.declared
                mowing_red = f.declared == "permanent grassland" and not f.cuts
                crop = "red" if wrong else "yellow" if split else "green"
                light = "red" if wrong or mowing_red else "yellow" if split else "green"
                # Winter wheat's harvest: the step to stubble at day 198 + its calendar shift (see
                # `ndvi`); the other crops' curves have no harvest step.
                harvest = (dt.date(YEAR, 1, 1) + dt.timedelta(days=round(198 + f.sow) - 1)).isoformat() if true == "winter wheat" and not split else ""
                t.writerow([f.id, f.declared, true, split, f"{f.share:.2f}" if split else "", crop, light, harvest])
    with open(os.path.join(out, "truth.csv"), "w", newline="") as fh:
        t = csv.writer(fh)
        t.writerow(["parcel_id", "declared", "truth", "mowing_dates", "expected_mowing"])
        for f in fields:
            if f.declared != "permanent grassland":
                continue
            dates = [(dt.date(YEAR, 1, 1) + dt.timedelta(days=round(c) - 1)).isoformat() for c in f.cuts]
            t.writerow([f.id, f.declared, f.kind if f.kind != "arable" else f.crop, ";".join(dates),
                        "green" if dates else "red"])


def write_coherence(out, fields, weather, seed, days=12):
    """Sentinel-1 interferometric coherence (VV, VH) of one relative orbit: 12-day pairs as in
    2022-2024 when Sentinel-1A flew alone (card c12), or 6-day pairs of two satellites (c6),
    written as the JRC coherence signatures (s1-catalogue.csv, s1.csv).

    Modelled apart from lake-fixtures (which drives 6-day coherence by the canopy's NDVI): here
    a pair keeps its coherence where the surface holds still between the acquisitions. Volume
    scattering in a tall sward decorrelates in proportion to its height at the pair's middle;
    growth between the acquisitions decorrelates too (a sward regrowing after a cut loses
    coherence week by week); a cut, a harvest or ploughing during the pair destroys it; cattle
    trample a grazed sward. Rain falls on the cloudy days (its chance grows with the day's
    cloudiness) and wets the whole area, lowering coherence, VH more than VV; frozen ground in
    winter holds still. Each pixel's coherence is estimated over a window of looks, so it is
    biased upwards at low coherence; the parcel's mean is noisier the fewer pixels it has."""
    rng = random.Random(seed * 31 + 5)
    cat = csv.writer(open(os.path.join(out, "s1-catalogue.csv"), "w", newline=""))
    cat.writerow(["reference", "obstime", "card", "footprint"])
    sig = csv.writer(open(os.path.join(out, "s1.csv"), "w", newline=""))
    sig.writerow(["parcel_id", "reference", "band", "count", "mean", "std", "min", "max", "p25", "p50", "p75"])
    orbit = 46000 + seed % 500
    for end in range(5 + days, 366, days):
        start = end - days
        when = dt.datetime(YEAR, 1, 1, 5, 48, rng.randrange(60)) + dt.timedelta(days=end - 1)
        stamp = when.strftime("%Y%m%dT%H%M%S")
        ref = f"S1A_IW_SLC__1SDV_{stamp}_{(when + dt.timedelta(seconds=27)).strftime('%Y%m%dT%H%M%S')}_{orbit:06d}_{(orbit * 5) & 0xFFFFFF:06X}_{rng.randrange(65536):04X}"
        orbit += 175 * days // 12
        cat.writerow([ref, when.strftime("%Y-%m-%dT%H:%M:%SZ"), f"c{days}", "POLYGON((4.9 51.7, 6.4 51.7, 6.4 52.9, 4.9 52.9, 4.9 51.7))"])
        # Rain on either acquisition day (likelier the cloudier the day), frost in winter.
        wet = max(weather[min(365, start)], weather[min(365, end)])
        rain = rng.uniform(0.35, 0.8) if rng.random() < wet ** 2 else 1.0
        frost = rng.uniform(0.1, 0.3) if (end < 50 or end > 340) and rng.random() < 0.35 else 0.0
        for f in fields:
            mid = (start + end) / 2
            v0, v1, vm = f.ndvi(start), f.ndvi(end), f.ndvi(mid)
            height = min(1.0, max(0.0, (vm - 0.25) / 0.6))
            during = lambda d: start < d <= end
            if f.kind == "arable" or f.kind == "ploughed":
                event = (f.kind == "ploughed" and during(f.plough)) or abs(v1 - v0) > 0.25
            else:
                event = any(during(c) for c in f.cuts)
            g = 0.68 * math.exp(-2.2 * height) * math.exp(-6 * abs(v1 - v0))
            if event:
                g = min(g, 0.08)
            if f.kind == "grazed":
                g *= 0.8
            pol = {}
            for band, scale, wetness in (("VV", 1.0, 1.0), ("VH", 0.8, 1.25)):
                true = min(0.95, (g * scale) * (1 - (1 - rain) * wetness) + frost)
                # Each 20-m pixel's coherence is estimated over a window of L = 30 looks: biased
                # upwards (sqrt(g^2 + 1/L): 0.18 where nothing stayed the same) and spread by
                # (1 - g^2) / sqrt(2L); the parcel's mean averages its pixels, about four of
                # which share one estimation window.
                pixels = max(4, int(f.area / 400))
                looks = 30
                bias = math.sqrt(true ** 2 + 1.0 / looks)
                pixel_sd = (1 - true ** 2) / math.sqrt(2 * looks)
                est = min(0.99, max(0.0, rng.gauss(bias, pixel_sd / math.sqrt(max(1.0, pixels / 4)))))
                sd = pixel_sd + 0.05
                q = [min(1.0, max(0.0, est + z * sd)) for z in (-2.3, -0.674, 0, 0.674, 2.3)]
                sig.writerow([f.id, ref, band, pixels, f"{est:.4f}", f"{sd:.4f}", f"{q[0]:.4f}", f"{q[4]:.4f}", f"{q[1]:.4f}", f"{q[2]:.4f}", f"{q[3]:.4f}"])


def score(truth_path, lake_path, naive):
    truth = {r["parcel_id"]: r for r in csv.DictReader(open(truth_path))}
    db = sqlite3.connect(f"file:{lake_path}?mode=ro", uri=True)
    run = db.execute("SELECT max(run_id) FROM markers WHERE detector = 'mowing'").fetchone()[0]
    found = {}
    if naive:
        # The naive detector of issue 9, on the generated files: an NDVI drop of at least 0.1
        # between consecutive clear observations (SCL: no pixel of class 3, 8, 9 or 10), dated
        # at the lower one.
        folder = os.path.dirname(truth_path)
        cloudy = set()
        for r in csv.DictReader(open(os.path.join(folder, "scl.csv"))):
            if r["parcel_id"] in truth and any(json.loads(r["hist"]).get(k, 0) for k in ("3", "8", "9", "10")):
                cloudy.add((r["parcel_id"], r["reference"]))
        bands = {}
        # Digital numbers carry the +1000 offset unless they were exported harmonised (then red
        # is mostly below 1000: its lower quartile is).
        reds = sorted(float(r["mean"]) for r in csv.DictReader(open(os.path.join(folder, "signatures.csv"))) if r["band"] == "B04")
        offset = 1000 if reds and reds[len(reds) // 4] > 1000 else 0
        for r in csv.DictReader(open(os.path.join(folder, "signatures.csv"))):
            if r["parcel_id"] in truth and r["band"] in ("B04", "B08") and (r["parcel_id"], r["reference"]) not in cloudy:
                v = float(r["mean"])
                bands.setdefault((r["parcel_id"], r["reference"]), {})[r["band"]] = v if abs(v) <= 2 else v - offset
        last = {}
        for (pid, ref), b in sorted(bands.items(), key=lambda kv: (kv[0][0], kv[0][1][11:19])):
            v = (b["B08"] - b["B04"]) / (b["B08"] + b["B04"])
            when = f"{ref[11:15]}-{ref[15:17]}-{ref[17:19]}"
            if pid in last and last[pid] - v >= 0.1 and "04-01" <= when[5:] <= "10-31":
                found.setdefault(pid, []).append(when)
            last[pid] = v
    else:
        for pid, date in db.execute("SELECT p.parcel_id, m.date FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = ? AND m.detector = 'mowing'", (run,)):
            found.setdefault(pid, []).append(date)
    tp = fp = fn = 0
    errors = []
    day = lambda s: dt.date.fromisoformat(s[:10]).toordinal()
    for pid, t in truth.items():
        cuts = [day(s) for s in t["mowing_dates"].split(";") if s]
        marks = sorted(day(s) for s in found.get(pid, []))
        used = set()
        for c in cuts:
            best = None
            for i, m in enumerate(marks):
                if i not in used and -3 <= m - c <= 15 and (best is None or abs(m - c) < abs(marks[best] - c)):
                    best = i
            if best is None:
                fn += 1
            else:
                used.add(best); tp += 1; errors.append(marks[best] - c)
        fp += len(marks) - len(used)
    p = tp / (tp + fp) if tp + fp else 0
    r = tp / (tp + fn) if tp + fn else 0
    f1 = 2 * p * r / (p + r) if p + r else 0
    name = "naive NDVI drop ≥ 0.1" if naive else f"lake (run {run})"
    bias = sum(errors) / len(errors) if errors else 0
    print(f"mowing events (−3/+15 d), {name}: precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn})  F1 {f1:.3f}  bias {bias:+.1f} d")
    if not naive:
        counts = {}
        for pid, colour in db.execute("SELECT p.parcel_id, d.colour FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ?", (run,)):
            if pid in truth:
                key = (truth[pid]["expected_mowing"], colour)
                counts[key] = counts.get(key, 0) + 1
        print("mowing light (expected \\ lake):", ", ".join(f"{a}→{b} {n}" for (a, b), n in sorted(counts.items())))


def prf(tp, fp, fn):
    """Precision, recall and F1 of counts, as the scores print them."""
    p = tp / (tp + fp) if tp + fp else 0
    r = tp / (tp + fn) if tp + fn else 0
    return f"precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn})  F1 {2 * p * r / (p + r) if p + r else 0:.3f}"


def score_crops(crops_path, lake_path):
    """The crop check, heterogeneity and the one light per parcel against crops.csv."""
    truth = {r["parcel_id"]: r for r in csv.DictReader(open(crops_path))}
    db = sqlite3.connect(f"file:{lake_path}?mode=ro", uri=True)
    run = db.execute("SELECT max(run_id) FROM decisions WHERE scheme = 'crop'").fetchone()[0]
    if run is not None:
        tp = fp = fn = yellow = 0
        for pid, colour in db.execute("SELECT p.parcel_id, d.colour FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ? AND d.scheme = 'crop'", (run,)):
            t = truth.get(pid)
            if t is None or t["split_crop"]:
                continue   # a split parcel is neither a right nor a wrong declaration
            wrong, red = t["expected_crop"] == "red", colour == "red"
            tp += wrong and red; fp += red and not wrong; fn += wrong and not red; yellow += colour == "yellow"
        print(f"crop check, red = wrong declared crop (run {run}): {prf(tp, fp, fn)}  yellow {yellow}")
    run = db.execute("SELECT max(run_id) FROM heterogeneity").fetchone()[0]
    if run is not None:
        tp = fp = fn = 0
        ranked = []
        for pid, flag in db.execute("SELECT p.parcel_id, h.flag FROM heterogeneity h JOIN parcels p USING (pid) WHERE h.run_id = ? ORDER BY h.rank", (run,)):
            t = truth.get(pid)
            if t is None:
                continue
            split = bool(t["split_crop"])
            ranked.append(split)
            tp += split and flag == 1; fp += flag == 1 and not split; fn += split and flag != 1
        n = sum(ranked)
        print(f"heterogeneity flag = split parcel (run {run}): {prf(tp, fp, fn)}  {sum(ranked[:n])} of {n} splits in the top {n}")
    run = db.execute("SELECT max(run_id) FROM decisions WHERE scheme = 'overall'").fetchone()[0]
    if run is not None:
        agree = total = red_for_green = 0
        matrix = {}
        for pid, colour in db.execute("SELECT p.parcel_id, d.colour FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ? AND d.scheme = 'overall'", (run,)):
            t = truth.get(pid)
            if t is None:
                continue
            total += 1; agree += colour == t["expected_light"]; red_for_green += colour == "red" and t["expected_light"] == "green"
            matrix[(t["expected_light"], colour)] = matrix.get((t["expected_light"], colour), 0) + 1
        print(f"one light per parcel = expected light (run {run}): agreement {agree / max(total, 1):.3f}  red where green is due {100 * red_for_green / max(total, 1):.2f} %  of {total}")
        print("  expected \\ lake:", ", ".join(f"{a}→{b} {n}" for (a, b), n in sorted(matrix.items())))


def score_harvest(crops_path, lake_path):
    """The latest run of a detector named harvest against crops.csv's winter wheat harvest dates (−3/+15
    days), on the parcels of the run that truly grow winter wheat on the whole field; markers on
    the run's other parcels (declared a cereal, growing something else) are counted apart."""
    truth = {r["parcel_id"]: r for r in csv.DictReader(open(crops_path))}
    db = sqlite3.connect(f"file:{lake_path}?mode=ro", uri=True)
    run = db.execute("SELECT max(run_id) FROM markers WHERE detector = 'harvest'").fetchone()[0]
    if run is None:
        print("harvest events: no harvest markers run"); return
    day = lambda s: dt.date.fromisoformat(s).toordinal()
    found = {}
    for pid, date in db.execute("SELECT p.parcel_id, m.date FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = ? AND m.detector = 'harvest'", (run,)):
        found.setdefault(pid, []).append(day(date))
    tp = fp = fn = other = 0
    errors = []
    for (pid,) in db.execute("SELECT DISTINCT p.parcel_id FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ?", (run,)):
        t = truth.get(pid)
        markers = list(found.get(pid, []))
        if t is None or not t.get("harvest_date"):
            other += len(markers); continue
        h = day(t["harvest_date"])
        fits = [m for m in markers if -3 <= m - h <= 15]
        if fits:
            best = min(fits, key=lambda m: abs(m - h)); tp += 1; errors.append(best - h); markers.remove(best)
        else:
            fn += 1
        fp += len(markers)
    bias = sum(errors) / len(errors) if errors else float("nan")
    print(f"harvest events (−3/+15 d), winter wheat (run {run}): {prf(tp, fp, fn)}  bias {bias:+.1f} d; {other} markers on parcels declared a cereal that grow something else")


def merge_seasons(out, first, second):
    """One mowing data set of two seasons: `first`'s parcels without their year, the signatures
    and SCL histograms of both folders, each parcel's cut dates of both seasons."""
    os.makedirs(out, exist_ok=True)
    for name in ("signatures.csv", "scl.csv"):
        with open(os.path.join(out, name), "w") as w:
            for k, folder in enumerate((first, second)):
                with open(os.path.join(folder, name)) as r:
                    lines = r.readlines()
                w.writelines(lines if k == 0 else lines[1:])
    features = json.load(open(os.path.join(first, "parcels.geojson")))
    for f in features["features"]:
        f["properties"].pop("year", None)
    json.dump(features, open(os.path.join(out, "parcels.geojson"), "w"))
    later = {r["parcel_id"]: r for r in csv.DictReader(open(os.path.join(second, "truth.csv")))}
    rows = list(csv.DictReader(open(os.path.join(first, "truth.csv"))))
    with open(os.path.join(out, "truth.csv"), "w") as w:
        t = csv.DictWriter(w, fieldnames=list(rows[0].keys()))
        t.writeheader()
        for r in rows:
            other = later.get(r["parcel_id"], {}).get("mowing_dates", "")
            r["mowing_dates"] = ";".join(x for x in (r["mowing_dates"], other) if x)
            t.writerow(r)


def ndvi_table(folder, cloud_column=False):
    """The lake as a table of parcel NDVI by date with SCL's clouds masked (no bands, no SCL:
    as many users export one): folder/ndvi.csv (field_id, date, ndvi). With `cloud_column`,
    nothing is masked and a column says which rows SCL saw cloudy: folder/ndvi-cloud.csv
    (field_id, date, ndvi, cloud)."""
    cloudy = set()
    for r in csv.DictReader(open(os.path.join(folder, "scl.csv"))):
        if any(json.loads(r["hist"]).get(k, 0) for k in ("3", "8", "9", "10")):
            cloudy.add((r["parcel_id"], r["reference"]))
    bands = {}
    for r in csv.DictReader(open(os.path.join(folder, "signatures.csv"))):
        if r["band"] in ("B04", "B08") and (cloud_column or (r["parcel_id"], r["reference"]) not in cloudy):
            v = float(r["mean"])
            b = bands.setdefault((r["parcel_id"], r["reference"][11:19]), {})
            b[r["band"]] = v if abs(v) <= 2 else v - 1000
            b["cloud"] = b.get("cloud", 0) or int((r["parcel_id"], r["reference"]) in cloudy)
    with open(os.path.join(folder, "ndvi-cloud.csv" if cloud_column else "ndvi.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(["field_id", "date", "ndvi"] + (["cloud"] if cloud_column else []))
        for (pid, d), b in sorted(bands.items()):
            if "B04" in b and "B08" in b and b["B04"] + b["B08"] > 0:
                w.writerow([pid, f"{d[:4]}-{d[4:6]}-{d[6:]}", f"{(b['B08'] - b['B04']) / (b['B08'] + b['B04']):.4f}"]
                           + ([b["cloud"]] if cloud_column else []))


def wide_table(folder):
    """The lake as an Earth Engine reduceRegions export: one row per parcel and date, per band
    `B2_mean`, `B2_stdDev`, `B2_count` (band names without the zero, reflectance 0-1 with the
    offset taken off), no SCL histograms but the parcel's `cloud_fraction` (the share of its
    pixels in SCL classes 3, 8, 9, 10): folder/wide.csv."""
    cloud = {}
    for r in csv.DictReader(open(os.path.join(folder, "scl.csv"))):
        h = json.loads(r["hist"])
        total = sum(h.values())
        cloud[(r["parcel_id"], r["reference"])] = sum(h.get(k, 0) for k in ("3", "8", "9", "10")) / total if total else 0
    rows = {}
    names = []
    for r in csv.DictReader(open(os.path.join(folder, "signatures.csv"))):
        band = r["band"].replace("B0", "B")
        if band not in names:
            names.append(band)
        def refl(v):
            v = float(v)
            return v if abs(v) <= 2 else (v - 1000) / 10000
        rows.setdefault((r["parcel_id"], r["reference"]), {})[band] = (refl(r["mean"]), float(r["std"]) / (1 if abs(float(r["mean"])) <= 2 else 10000), r["count"])
    with open(os.path.join(folder, "wide.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["field_id", "date"] + [f"{b}_{s}" for b in names for s in ("mean", "stdDev", "count")] + ["cloud_fraction"])
        for (pid, ref), bands in sorted(rows.items()):
            d = ref[11:19]
            values = []
            for b in names:
                m, sd, n = bands.get(b, ("", "", ""))
                values += [f"{m:.5f}" if m != "" else "", f"{sd:.5f}" if sd != "" else "", n]
            w.writerow([pid, f"{d[:4]}-{d[4:6]}-{d[6:]}"] + values + [f"{cloud.get((pid, ref), 0):.3f}"])


def split_tiles(out, folder, share=0.3, seed=5):
    """`folder`'s lake with `share` of its parcels on the edge of two overlapping tiles: each of
    their rows comes twice, from the products of both tiles of the day, each with part of the
    parcel's pixels (20-80 %, per parcel) and part of its SCL histogram; a part's statistics
    differ from the whole by ~2 % (another part of the field), and the parts' pixel-weighted
    mean is the whole's. Extractions of tile-edge parcels
    come so, and a tenth or more of a region's parcels are on tile edges."""
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    def part(pid):
        h = zlib.crc32(pid.encode()) % 1000
        return None if h >= share * 1000 else 0.2 + 0.6 * (zlib.crc32((pid + "f").encode()) % 1000) / 1000
    def other(ref):
        # the neighbouring tile east: the grid square's column letter + 1
        p = ref.split("_")
        t = p[5]
        p[5] = t[:4] + chr(ord(t[4]) + 1) + t[5:]
        return "_".join(p)
    for name in ("signatures.csv", "scl.csv"):
        with open(os.path.join(folder, name)) as f, open(os.path.join(out, name), "w", newline="") as o:
            r = csv.DictReader(f)
            w = csv.writer(o)
            w.writerow(r.fieldnames)
            for row in r:
                f1 = part(row["parcel_id"])
                if f1 is None:
                    w.writerow([row[k] for k in r.fieldnames])
                    continue
                if name == "scl.csv":
                    h = json.loads(row["hist"])
                    h1 = {k: round(v * f1) for k, v in h.items()}
                    for hist, ref in ((h1, row["reference"]), ({k: v - h1[k] for k, v in h.items()}, other(row["reference"]))):
                        w.writerow([row["parcel_id"], ref, json.dumps({k: v for k, v in hist.items() if v})])
                    continue
                c = int(row["count"])
                c1 = max(1, round(c * f1))
                c2 = max(1, c - c1)
                # The parts' pixel-weighted mean is the whole's mean; the other statistics shift with it.
                d = rng.gauss(0, 0.02)
                for n, ref, shift in ((c1, row["reference"], d), (c2, other(row["reference"]), -d * c1 / c2)):
                    v = dict(row, reference=ref, count=str(n))
                    for k in ("mean", "min", "max", "p25", "p50", "p75"):
                        if v.get(k):
                            v[k] = "%.2f" % (float(row[k]) * (1 + shift))
                    w.writerow([v[k] for k in r.fieldnames])
    for name in ("parcels.geojson", "truth.csv", "crops.csv"):
        if os.path.exists(os.path.join(folder, name)):
            shutil.copy(os.path.join(folder, name), os.path.join(out, name))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "wide-table":
        wide_table(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "split-tiles":
        split_tiles(sys.argv[2], sys.argv[3])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "ndvi-table":
        ndvi_table(sys.argv[2], "--cloud-column" in sys.argv[3:])
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "merge-seasons":
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd"); ap.add_argument("out"); ap.add_argument("first"); ap.add_argument("second")
        a = ap.parse_args()
        merge_seasons(a.out, a.first, a.second)
        sys.exit(0)
    scorers = {"score-crops": score_crops, "score-harvest": score_harvest}   # both read crops.csv
    if len(sys.argv) > 1 and sys.argv[1] in scorers:
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd"); ap.add_argument("crops"); ap.add_argument("lake")
        a = ap.parse_args()
        scorers[a.cmd](a.crops, a.lake)
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "score":
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd"); ap.add_argument("truth"); ap.add_argument("lake")
        ap.add_argument("--naive", action="store_true")
        a = ap.parse_args()
        score(a.truth, a.lake, a.naive)
    else:
        ap = argparse.ArgumentParser()
        ap.add_argument("out")
        ap.add_argument("--parcels", type=int, default=1200)
        ap.add_argument("--seed", type=int, default=7)
        ap.add_argument("--overlap", action="store_true", help="also the acquisitions of an overlapping relative orbit (146 scenes)")
        ap.add_argument("--reflectance", action="store_true", help="band statistics as reflectance (0–1, offset taken off) instead of DN")
        ap.add_argument("--cloudy", action="store_true", help="a cloudy year: about a third of the growing season's observations clear")
        ap.add_argument("--one-satellite", action="store_true", help="Sentinel-2A alone, every 10 days (as in 2022-2024)")
        ap.add_argument("--shallow", action="store_true", help="cuts that leave more green (a high cut, lush stubble): 0.12-0.25 less deep")
        ap.add_argument("--intensive", action="store_true", help="intensive meadows: first cut late April to mid-May, then every 26-38 days")
        ap.add_argument("--small", action="store_true", help="small fields, 0.1-0.6 ha")
        ap.add_argument("--dry-summer", action="store_true", help="Mediterranean meadows: cut in spring, dry (NDVI ~0.3) from late June, green again after the autumn rains")
        ap.add_argument("--s1", action="store_true", help="also Sentinel-1 12-day coherence (VV, VH; card c12): s1-catalogue.csv and s1.csv")
        ap.add_argument("--s1-6", action="store_true", help="the same with 6-day pairs of two satellites (card c6)")
        ap.add_argument("--year", type=int, default=2023, help="the season (2023); the same seed in another year gives the same fields")
        ap.add_argument("--harmonised", action="store_true", help="digital numbers with the +1000 offset already taken off (as Earth Engine's S2_SR_HARMONIZED), product names of baseline 05.09 kept")
        ap.add_argument("--anomalies", action="store_true", help="also wrong declarations (8 %% of the arable fields as another arable crop, 5 %% of the meadows as an arable crop) and split parcels (7 %%): crops.csv holds every parcel's crop truth")
        a = ap.parse_args()
        YEAR = a.year
        variant = frozenset(k for k in ("one_satellite", "shallow", "intensive", "small", "dry_summer", "anomalies", "s1", "harmonised") if getattr(a, k))
        variant |= {"s1-6"} if a.s1_6 else set()
        generate(a.out, a.parcels, a.seed, a.overlap, a.reflectance, a.cloudy, frozenset(v.replace("_", "-") for v in variant))
