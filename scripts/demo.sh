#!/usr/bin/env bash
# The README's first command: on a fresh machine with a Docker engine, build the
# demo service (Dockerfile.example), push a "release" to a local registry,
# write a `file` deploy record for it, and run `prodbox up demo -d`.
# Ends with the sandbox answering on 127.0.0.1 and the command to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PRODBOX_DEMO_REGISTRY_PORT:-5151}"
REGISTRY="127.0.0.1:${PORT}"
STATE=".prodbox-demo"
REPO="${REGISTRY}/prodbox/demo"
say() { printf '\n== %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || { echo "demo: no Docker engine answers (docker info failed); start it first" >&2; exit 3; }

if ! command -v docker-registry >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's docker-registry (the CNCF distribution registry)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
  else
    echo "demo: docker-registry is missing; install it: sudo apt-get install docker-registry" >&2; exit 2
  fi
fi

say "building prodbox"
cargo build -j2 --quiet
PRODBOX="$PWD/target/debug/prodbox"

say "building the demo service (static binary, FROM scratch image)"
mkdir -p "$STATE/build"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static \
  --target x86_64-unknown-linux-gnu demo/app.rs -o "$STATE/build/demo-app"
REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo 0000000)"
DOCKER_BUILDKIT=0 docker build -q -f Dockerfile.example \
  --build-arg VERSION=1.0.0 --build-arg REVISION="$REVISION" \
  -t "$REPO:1.0.0" "$STATE/build" >/dev/null

if ! curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
  say "starting a local registry on $REGISTRY"
  mkdir -p "$STATE/registry"
  cat > "$STATE/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $PWD/$STATE/registry }, delete: { enabled: true } }
http: { addr: $REGISTRY }
YML
  nohup docker-registry serve "$STATE/registry.yml" >"$STATE/registry.log" 2>&1 &
  echo $! > "$STATE/registry.pid"
  for _ in $(seq 50); do curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
fi

say "pushing the release to $REPO"
docker push -q "$REPO:1.0.0" >/dev/null
# The registry's digest (Podman recompresses on push: its RepoDigests may name another manifest).
ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
DIGEST="$(curl -fsSI -H "Accept: $ACCEPT" "http://$REGISTRY/v2/prodbox/demo/manifests/1.0.0" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')"
# Drop the local tag so `up` shows a real pull by digest.
docker rmi -f "$REPO:1.0.0" >/dev/null

say "writing the deploy record deploys/demo.json (production runs $DIGEST)"
cat > deploys/demo.json <<JSON
{
  "service": "demo",
  "environment": "production",
  "image": "$REPO@$DIGEST",
  "deployed_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "deployed_by": "scripts/demo.sh",
  "revision": "$REVISION",
  "config": {
    "env": {
      "GREETING": "hello from production",
      "LOG_LEVEL": "info",
      "UPSTREAM_URL": "https://payments.example.com/v1/charges",
      "DATABASE_URL": "postgres://shop:pr0d-Pa55w0rd@db.prod.example.com:5432/shop",
      "API_TOKEN": "tok_9fK2mQ7xLp4Vw8Rz1Bn6Yc3Hd5Tj0Gs",
      "SESSION": { "value": "s3ss10n-s3cr3t", "secret": true }
    },
    "files": {
      "/etc/demo/app.env": "region=eu-west-1\nsigning_key=Zx9Qp2Lm7Vb4Nc8Rt6Yh3Kj5Wd1Fg0Sa\n"
    }
  }
}
JSON

say "prodbox up demo -d"
"$PRODBOX" up demo -d
URL="$("$PRODBOX" ls --json | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["name"]=="demo"][0]["urls"][0])')"
say "the sandbox answers on $URL"
curl -fsS "$URL/"
echo
echo "stop it with: $PRODBOX down demo   (the registry: kill \$(cat $STATE/registry.pid))"
