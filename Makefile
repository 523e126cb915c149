# lake — make builds, make test runs all tests, make demo builds a demo lake and queries a
# parcel, make bench runs the benchmark. Each installs missing system packages first.
SWIFT ?= swift
DEMO_DB ?= fixtures/demo/demo.sqlite
EXTRACT_DB ?= fixtures/demo/extracted.sqlite
BIN = .build/release

.PHONY: all build deps test demo bench accuracy fuzz fixtures-small clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product lake
	$(SWIFT) build -c release --product lake-full
	$(SWIFT) build -c release --product lake-analytics
	$(SWIFT) build -c release --product lake-fixtures
	$(SWIFT) build -c release --product lake_functions
	$(SWIFT) build -c release --product lake-fuzz

# The tests start a throw-away PostgreSQL + PostGIS (push/pull), a Python venv (the cbm client)
# and headless Chromium (the viewer page).
test: deps
	@bash scripts/install-deps.sh postgresql postgresql-15-postgis-3 python3-venv chromium
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	$(BIN)/lake-fixtures --out fixtures/demo --parcels 300 --scenes 73 --seed 2024 --raster-scenes 12 --true-colour --s1-days 6
	rm -f $(DEMO_DB)
	$(BIN)/lake --db $(DEMO_DB) init
	$(BIN)/lake --db $(DEMO_DB) ingest parcels fixtures/demo/parcels.geojson --aoi demo --year 2024
	$(BIN)/lake --db $(DEMO_DB) ingest catalogue fixtures/demo/scenes.stac.json fixtures/demo/s1-catalogue.csv
	$(BIN)/lake --db $(DEMO_DB) ingest signatures fixtures/demo/signatures.csv fixtures/demo/scl.csv fixtures/demo/s1.csv
	$(BIN)/lake --db $(DEMO_DB) info
	$(BIN)/lake --db $(DEMO_DB) query parcel P000007 --from 2024-04-01 --to 2024-08-31
	$(BIN)/lake --db $(DEMO_DB) markers run options/mowing.yaml
	$(BIN)/lake --db $(DEMO_DB) check crops
	$(BIN)/lake --db $(DEMO_DB) heterogeneity --top 3
	$(BIN)/lake --db $(DEMO_DB) decide --schemes mowing crop heterogeneity
	$(BIN)/lake --db $(DEMO_DB) markers show P000007
	$(BIN)/lake --db $(DEMO_DB) report decisions --format geojson --out fixtures/demo/decisions.geojson
	$(BIN)/lake --db $(DEMO_DB) plot parcel P000005 --out fixtures/demo/P000005.svg
	$(BIN)/lake --db $(DEMO_DB) plot parcel P000007 --out fixtures/demo/P000007.png
	$(BIN)/lake --db $(DEMO_DB) plot run 1 --out fixtures/demo/run1.svg
	$(BIN)/lake --db $(DEMO_DB) plot heterogeneity --out fixtures/demo/heterogeneity.svg
	# Image chips from the demo's band rasters: one date, and every cloud-free date on one sheet.
	$(BIN)/lake --db $(DEMO_DB) ingest scene fixtures/demo/rasters/scenes.json --update
	$(BIN)/lake --db $(DEMO_DB) chip P000007 --date 2024-06-29 --pixels 256 --out fixtures/demo/P000007-20240629.png
	$(BIN)/lake --db $(DEMO_DB) chip P000007 --all-clear --ndvi --out fixtures/demo/P000007-clear.svg
	# Extraction: signatures computed from the demo's band rasters, in a lake of their own.
	rm -f $(EXTRACT_DB)
	$(BIN)/lake --db $(EXTRACT_DB) ingest parcels fixtures/demo/parcels.geojson --aoi demo --year 2024
	$(BIN)/lake --db $(EXTRACT_DB) ingest scene fixtures/demo/rasters/scenes.json
	$(BIN)/lake --db $(EXTRACT_DB) extract
	$(BIN)/lake --db $(EXTRACT_DB) query parcel P000007

bench: build
	$(SWIFT) build -c release --product lake-bench
	bash scripts/bench.sh
	bash scripts/bench-postgis.sh
	bash scripts/bench-extract.sh

accuracy: build
	bash scripts/accuracy.sh

# Coverage-guided fuzzing of the parsers of outside input; FUZZ_SECONDS per target (default 60).
fuzz: build
	bash scripts/fuzz.sh

fixtures-small: build
	rm -rf fixtures/small
	$(BIN)/lake-fixtures --out fixtures/small --parcels 20 --scenes 36 --seed 7 --raster-scenes 4

clean:
	rm -rf .build .build-fuzz fixtures/demo
