#!/usr/bin/env bash
# Writes the secrets deploy/docker-compose.yml mounts, once: deploy/secrets/postgres-password,
# master-keys (the master key file: BACK IT UP, apart from the database and the blobs) and
# jwt-keys. Existing files are never overwritten.
#
# The folder is 0700 (only you on this host); the files are 0644 because Compose bind-mounts
# them as they are and the containers' unprivileged users (uid 10001) must read them.
# For Kubernetes, feed the same files to `kubectl create secret` (deploy/k8s/secrets.yaml).
set -euo pipefail
folder=${1:-"$(cd "$(dirname "$0")" && pwd)/secrets"}
mkdir -p "$folder"
chmod 700 "$folder"
write() {  # name content: creates the file unless it exists
  if [ -e "$folder/$1" ]; then
    echo "kept    $folder/$1"
  else
    printf '%s\n' "$2" >"$folder/$1"
    chmod 644 "$folder/$1"
    echo "created $folder/$1"
  fi
}
# Hex, so it needs no escaping inside postgres:// URLs.
write postgres-password "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
write master-keys "# PhotoVault master keys: version, then a base64 256-bit key. BACK THIS FILE UP.
1 $(head -c 32 /dev/urandom | base64)"
write jwt-keys "# access-token signing keys: kid base64secret, the first one signs
k1 $(head -c 32 /dev/urandom | base64)"
