#!/usr/bin/env bash
# Measures `prodbox up -d` cold (image not in the engine) and warm (image
# present), against the same work done with the docker CLI in the same run:
# pull by digest, run with a port on 127.0.0.1, wait until it answers.
# Prints figures and ratios; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
cargo build -j2 --quiet
PRODBOX="$PWD/target/debug/prodbox"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
REG="127.0.0.1:$PORT"
cleanup() {
  [ -n "${REG_PID:-}" ] && kill "$REG_PID" 2>/dev/null || true
  "$PRODBOX" down bench >/dev/null 2>&1 || true
  docker rm -f bench-cli >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/build" "$WORK/profiles" "$WORK/deploys" "$WORK/reg"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static --target x86_64-unknown-linux-gnu demo/app.rs -o "$WORK/build/demo-app"
# A unique layer each run, so "cold" really downloads.
head -c 4000000 /dev/urandom > "$WORK/build/padding"
printf 'FROM scratch\nCOPY padding /padding\n' > "$WORK/build/Dockerfile.pad"
cat Dockerfile.example >> "$WORK/build/Dockerfile.pad"
sed -i '0,/^FROM scratch$/!{/^FROM scratch$/d}' "$WORK/build/Dockerfile.pad"
printf 'version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: %s }\n' "$WORK/reg" "$REG" > "$WORK/reg.yml"
docker-registry serve "$WORK/reg.yml" >/dev/null 2>&1 & REG_PID=$!
for _ in $(seq 50); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
DOCKER_BUILDKIT=0 docker build -q -f "$WORK/build/Dockerfile.pad" -t "$REG/bench/demo:1" "$WORK/build" >/dev/null
docker push -q "$REG/bench/demo:1" >/dev/null
# The registry's digest (Podman recompresses on push: its RepoDigests may name another manifest).
ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
PINNED="$REG/bench/demo@$(curl -fsSI -H "Accept: $ACCEPT" "http://$REG/v2/bench/demo/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')"
docker rmi -f "$REG/bench/demo:1" >/dev/null
printf '{"image":"%s","deployed_at":"2026-11-20T14:05:00Z"}\n' "$PINNED" > "$WORK/deploys/bench.json"
printf '[source]\nkind = "file"\npath = "../deploys/bench.json"\n[image]\nrepository = "%s/bench/demo"\n[run]\nports = [8080]\nhealth = { http = "/healthz" }\n' "$REG" > "$WORK/profiles/bench.toml"

now() { date +%s.%N; }
forget_image() { docker rmi -f "$PINNED" >/dev/null 2>&1 || true; }
wait_http() { for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return; sleep 0.05; done; echo "no answer on $1" >&2; exit 1; }
prodbox_up() { "$PRODBOX" --profiles "$WORK/profiles" -q up bench -d >/dev/null; }
cli_up() {
  docker pull -q "$PINNED" >/dev/null
  docker run -d --name bench-cli -p 127.0.0.1::8080 "$PINNED" >/dev/null
  wait_http "$(docker port bench-cli 8080/tcp | head -n1 | cut -d: -f2)"
}
measure() { # name setup run teardown
  local total=0 t0 t1
  for _ in $(seq "$RUNS"); do
    $2; t0=$(now); $3; t1=$(now); $4
    total=$(python3 -c "print($total + $t1 - $t0)")
  done
  python3 -c "print(f'{$total / $RUNS:.3f}')"
}
pb_down() { "$PRODBOX" down bench >/dev/null; }
cli_down() { docker rm -f bench-cli >/dev/null; }
noop() { :; }

# Build the relay image once so it is not counted.
"$PRODBOX" doctor >/dev/null || true
pb_cold=$(measure prodbox forget_image prodbox_up pb_down)
cli_cold=$(measure docker forget_image cli_up cli_down)
pb_warm=$(measure prodbox noop prodbox_up pb_down)
cli_warm=$(measure docker noop cli_up cli_down)
echo "engine at ${DOCKER_HOST:-the default socket}, image $PINNED, $RUNS runs each, mean seconds"
printf '%-6s %10s %10s %8s\n' "" prodbox "docker" ratio
printf '%-6s %10s %10s %8s\n' cold "$pb_cold" "$cli_cold" "$(python3 -c "print(f'{$pb_cold/$cli_cold:.2f}')")"
printf '%-6s %10s %10s %8s\n' warm "$pb_warm" "$cli_warm" "$(python3 -c "print(f'{$pb_warm/$cli_warm:.2f}')")"
echo "(prodbox does more: resolve, manifest check, sanitize, internal network, relay, health via probe)"
