#!/usr/bin/env bash
# Measures `prodbox up -d` + `down` against the docker CLI doing THE SAME
# WORK, in one run on this machine, and prints one table (issue #12):
#
#   warm   up + down, image present            median of WARM_RUNS (≥5)
#   cold   the same after `docker rmi`; the CLI pulls by digest first
#                                              median of COLD_RUNS (≥3)
#   bare   warm, against a bare `docker run -p` (not the same work)
#   ls     `prodbox ls` with 20 sandboxes vs `docker ps --filter label=…`
#   rss    prodbox's peak RSS during a cold pull of a ≥1 GB image
#
# "The same work" is what `up` does, by hand: an internal network with
# inhibit_ipv4, the relay's bridge, the hardened app (cap_drop ALL,
# no-new-privileges, pids and memory limits) and the relay (read-only root)
# joined to both, a poll of the health URL through the relay, then both
# containers and both networks removed. Runs are interleaved. Asserts nothing.
#
# Knobs: WARM_RUNS, COLD_RUNS, LS_RUNS, LAYER_MB (the app image's four random
# layers), BIG_MB (the RSS image; 0 skips it), PROFILE=release, PRODBOX=binary.
set -euo pipefail
cd "$(dirname "$0")/.."
WARM_RUNS="${WARM_RUNS:-5}"
COLD_RUNS="${COLD_RUNS:-3}"
LS_RUNS="${LS_RUNS:-10}"
LAYER_MB="${LAYER_MB:-60}"
BIG_MB="${BIG_MB:-1100}"
PROFILE="${PROFILE:-debug}"
# PRODBOX=path measures that binary (e.g. a copy of an older build) instead.
if [ -z "${PRODBOX:-}" ]; then
  if [ "$PROFILE" = release ]; then cargo build -j2 --quiet --release; else cargo build -j2 --quiet; fi
  PRODBOX="$PWD/target/$PROFILE/prodbox"
  BUILT="$PROFILE build"
else
  BUILT="$PRODBOX"
fi
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
REG="127.0.0.1:$PORT"
LS_NAMES=()
for i in $(seq 20); do LS_NAMES+=("bench-ls-$i"); done
pb() { "$PRODBOX" --profiles "$WORK/profiles" "$@"; }
# On Docker the sandboxes share one ingress bridge, made by the first `up`
# (before any timed run) and kept by `down`; removed at the end if it was made here.
SHARED_BEFORE="$(docker network ls -q --filter name=^prodbox-ingress$)"
cleanup() {
  pb down bench bench-big "${LS_NAMES[@]}" >/dev/null 2>&1 || true
  docker rm -f bench-cli-app bench-cli-relay bench-bare >/dev/null 2>&1 || true
  docker network rm bench-cli-net bench-cli-ingress >/dev/null 2>&1 || true
  [ -z "$SHARED_BEFORE" ] && docker network rm prodbox-ingress >/dev/null 2>&1 || true
  [ -n "${PINNED:-}" ] && docker rmi -f "$PINNED" >/dev/null 2>&1 || true
  [ -n "${BIG:-}" ] && docker rmi -f "$BIG" >/dev/null 2>&1 || true
  [ -n "${REG_PID:-}" ] && kill "$REG_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/build" "$WORK/profiles" "$WORK/deploys" "$WORK/reg"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static --target x86_64-unknown-linux-gnu demo/app.rs -o "$WORK/build/demo-app"
printf 'version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: %s }\n' "$WORK/reg" "$REG" > "$WORK/reg.yml"
docker-registry serve "$WORK/reg.yml" >/dev/null 2>&1 & REG_PID=$!
for _ in $(seq 50); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
# build_image NAME LAYERS MB_PER_LAYER: the demo app on LAYERS layers of
# random bytes (unique per run, so a cold pull really downloads), pushed;
# prints the registry's digest reference (Podman recompresses on push).
build_image() {
  local name=$1 layers=$2 mb=$3 dir="$WORK/build-$1"
  mkdir -p "$dir"
  cp "$WORK/build/demo-app" "$dir/demo-app"
  printf 'FROM scratch\n' > "$dir/Dockerfile"
  for l in $(seq "$layers"); do
    head -c "$((mb << 20))" /dev/urandom > "$dir/pad$l"
    printf 'COPY pad%s /pad%s\n' "$l" "$l" >> "$dir/Dockerfile"
  done
  grep -v '^FROM scratch$' Dockerfile.example >> "$dir/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$REG/bench/$name:1" "$dir" >/dev/null
  docker push -q "$REG/bench/$name:1" >/dev/null
  docker rmi -f "$REG/bench/$name:1" >/dev/null
  rm -rf "$dir"
  echo "$REG/bench/$name@$(curl -fsSI -H "Accept: $ACCEPT" "http://$REG/v2/bench/$name/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')"
}
profile() { # NAME PINNED
  printf '{"image":"%s","deployed_at":"2026-11-20T14:05:00Z"}\n' "$2" > "$WORK/deploys/$1.json"
  printf '[source]\nkind = "file"\npath = "../deploys/%s.json"\n[image]\nrepository = "%s"\n[run]\nports = [8080]\nhealth = { http = "/healthz" }\n' "$1" "${2%@*}" > "$WORK/profiles/$1.toml"
}
PINNED="$(build_image bench 4 "$LAYER_MB")"
profile bench "$PINNED"

now() { date +%s.%N; }
forget_image() { docker rmi -f "$PINNED" >/dev/null 2>&1 || true; }
wait_http() { for _ in $(seq 1200); do curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return; sleep 0.05; done; echo "no answer on $1" >&2; exit 1; }

pb_up() { pb -q up bench -d >/dev/null; }
pb_down() { pb -q down bench >/dev/null; }
# The same work by hand, one docker process per step, as a script would.
cli_up() {
  docker network create --internal -o com.docker.network.bridge.inhibit_ipv4=true bench-cli-net >/dev/null
  docker network create -o com.docker.network.bridge.host_binding_ipv4=127.0.0.1 bench-cli-ingress >/dev/null
  docker run -d --name bench-cli-app --network bench-cli-net --network-alias app \
    --cap-drop ALL --security-opt no-new-privileges:true --pids-limit 512 --memory 1g "$PINNED" >/dev/null
  docker create --name bench-cli-relay --network bench-cli-ingress -p 127.0.0.1::8080 \
    --cap-drop ALL --security-opt no-new-privileges:true --pids-limit 256 --memory 64m \
    --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m "$RELAY" forward 8080=app:8080 >/dev/null
  docker network connect bench-cli-net bench-cli-relay
  docker start bench-cli-relay >/dev/null
  wait_http "$(docker port bench-cli-relay 8080/tcp | head -n1 | cut -d: -f2)"
}
cli_down() {
  docker rm -f bench-cli-app bench-cli-relay >/dev/null
  docker network rm bench-cli-net bench-cli-ingress >/dev/null
}
cli_pull() { docker pull -q "$PINNED" >/dev/null; }
bare_up() {
  docker run -d --name bench-bare -p 127.0.0.1::8080 "$PINNED" >/dev/null
  wait_http "$(docker port bench-bare 8080/tcp | head -n1 | cut -d: -f2)"
}
bare_down() { docker rm -f bench-bare >/dev/null; }

# timed CMD…: seconds the commands took, appended to the array named by $T.
timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); eval "$T+=($(python3 -c "print($t1 - $t0)"))"; }
median() { python3 -c 'import sys, statistics; print(f"{statistics.median(map(float, sys.argv[1:])):.3f}")' "$@"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

# One run first, untimed: builds the relay image and finds its reference.
pb_up
RELAY="$(docker inspect -f '{{.Config.Image}}' prodbox-bench-relay)"
pb_down

pb_warm=() cli_warm=() bare_warm=() pb_cold=() cli_cold=()
for _ in $(seq "$WARM_RUNS"); do
  T=pb_warm timed eval 'pb_up; pb_down'
  T=cli_warm timed eval 'cli_up; cli_down'
  T=bare_warm timed eval 'bare_up; bare_down'
done
for _ in $(seq "$COLD_RUNS"); do
  forget_image; T=pb_cold timed eval 'pb_up; pb_down'
  forget_image; T=cli_cold timed eval 'cli_pull; cli_up; cli_down'
done

# ls with 20 sandboxes (five at a time, to spare the engine).
for batch in 0 5 10 15; do
  pids=()
  for i in $(seq $((batch + 1)) $((batch + 5))); do
    pb -q up bench -d --name "bench-ls-$i" >/dev/null 2>>"$WORK/ls-errors" & pids+=($!)
  done
  wait "${pids[@]}" || true
done
pb_ls=() cli_ls=()
for _ in $(seq "$LS_RUNS"); do
  T=pb_ls timed eval 'pb ls >/dev/null'
  T=cli_ls timed eval 'docker ps --filter label=dev.prodbox.sandbox >/dev/null'
done
sandboxes=$(docker ps -a --filter label=dev.prodbox.sandbox --format '{{.Label "dev.prodbox.sandbox"}}' | sort -u | wc -l)
[ -s "$WORK/ls-errors" ] && { echo "some of the 20 sandboxes failed to come up:"; sort -u "$WORK/ls-errors" | head -3; }
T=pb_down20 timed eval 'pb -q down "${LS_NAMES[@]}" >/dev/null 2>&1 || true'

# Peak RSS while a ≥1 GB image is pulled cold (five random layers).
rss="skipped"
if [ "$BIG_MB" -gt 0 ]; then
  BIG="$(build_image big 5 $((BIG_MB / 5)))"
  profile bench-big "$BIG"
  # VmHWM is the peak; RssAnon is what prodbox allocated (the rest is its
  # binary's pages, larger in a debug build), sampled as it runs.
  "$PRODBOX" --profiles "$WORK/profiles" -q up bench-big -d >/dev/null & pid=$!
  hwm=0 anon=0
  while kill -0 "$pid" 2>/dev/null; do
    read -r h a < <(awk '/^VmHWM/ {h=$2} /^RssAnon/ {a=$2} END {print h+0, a+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0")
    [ "${h:-0}" -gt "$hwm" ] && hwm=$h
    [ "${a:-0}" -gt "$anon" ] && anon=$a
    sleep 0.05
  done
  wait "$pid"
  rss="$((hwm / 1024)) MB ($((anon / 1024)) MB anon)"
  pb -q down bench-big >/dev/null
  docker rmi -f "$BIG" >/dev/null
fi

pw=$(median "${pb_warm[@]}") cw=$(median "${cli_warm[@]}") bw=$(median "${bare_warm[@]}")
pc=$(median "${pb_cold[@]}") cc=$(median "${cli_cold[@]}")
pl=$(median "${pb_ls[@]}") cl=$(median "${cli_ls[@]}")
echo "engine ${DOCKER_HOST:-at the default socket} ($(docker version -f '{{.Server.Version}}')), prodbox: $BUILT"
echo "image $PINNED: 4 random layers of $LAYER_MB MB; seconds are medians"
printf '%-42s %9s %9s %7s %7s\n' "" prodbox docker ratio goal
printf '%-42s %9s %9s %7s %7s\n' "warm up+down, same work ($WARM_RUNS runs)" "$pw" "$cw" "$(ratio "$pw" "$cw")" "≤0.60"
printf '%-42s %9s %9s %7s %7s\n' "cold pull+up+down, same work ($COLD_RUNS runs)" "$pc" "$cc" "$(ratio "$pc" "$cc")" "≤0.95"
printf '%-42s %9s %9s %7s %7s\n' "warm, vs bare docker run -p ($WARM_RUNS runs)" "$pw" "$bw" "$(ratio "$pw" "$bw")" "-"
printf '%-42s %9s %9s %7s %7s\n' "ls, $sandboxes sandboxes, vs docker ps ($LS_RUNS runs)" "$pl" "$cl" "$(ratio "$pl" "$cl")" "≤1.50"
printf '%-42s %9s %9s %7s %7s\n' "down of 20 sandboxes" "$(median "${pb_down20[@]}")" "-" "-" "-"
printf '%-42s %20s %7s\n' "peak RSS, cold pull of $BIG_MB MB" "$rss" "<50 MB"
