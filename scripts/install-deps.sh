#!/usr/bin/env bash
# Installs the Debian packages lake needs when they are missing (librsvg2-2 draws PNG plots; apt, retried: the first
# install on a fresh machine can fail transiently). Extra packages as arguments (the benchmark
# adds PostgreSQL, PostGIS and hyperfine).
set -euo pipefail
packages=(libsqlite3-dev libspatialite-dev libgdal-dev gdal-bin sqlite3 pkg-config bc librsvg2-2 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
for attempt in 1 2 3; do
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2; then
    exit 0
  fi
  echo "apt-get failed (attempt $attempt); retrying" >&2
  sleep $((attempt * 5))
done
exit 1
