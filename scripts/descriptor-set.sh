#!/usr/bin/env bash
# Prints the FileDescriptorSet (imports and comments included) of every served .proto
# file to stdout. Shared by the generation script and the staleness test, so both
# compile exactly the same inputs the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t own < <(cd Protos && find photovault -name '*.proto' | LC_ALL=C sort)
standard=(grpc/health/v1/health.proto grpc/reflection/v1/reflection.proto grpc/reflection/v1alpha/reflection.proto)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
protoc -I Protos -I /usr/share/grpc-proto -I /usr/include \
  --include_imports --include_source_info --descriptor_set_out="$tmp" \
  "${own[@]}" "${standard[@]}"
cat "$tmp"
