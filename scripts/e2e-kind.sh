#!/usr/bin/env bash
# End-to-end test of the Kubernetes target on a kind cluster (kind >= 0.24,
# whose kindnet enforces NetworkPolicy), for a machine that can run one: it
# cannot run where prodbox's own CI runs (no cluster there; the target is
# tested with a mock API server in `cargo test --lib target`).
#
# It builds the demo service, pushes it to a registry the cluster pulls from,
# writes a deploy record, applies deploy/kubernetes/rbac.yaml, then as a user
# bound only by that RBAC:
#   up -d --target kubernetes → the namespace's isolation objects exist →
#   port-forward answers on 127.0.0.1 → a pod in the namespace cannot reach
#   the registry or the node (egress denied) but resolves names (DNS allowed) →
#   exec, and verify's probe pod agrees → ls shows it → down deletes the namespace → a sandbox with --ttl 1m is
#   removed by gc after it expires.
# Everything it made is deleted at exit (KEEP=1 keeps the cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${PRODBOX_KIND_CLUSTER:-prodbox-e2e}"
REG_NAME="${CLUSTER}-registry"
REG_PORT="${PRODBOX_KIND_REGISTRY_PORT:-5001}"
STATE="$(mktemp -d)"
CTX="kind-${CLUSTER}"
say() { printf '\n== %s\n' "$*" >&2; }
fail() { echo "e2e-kind: FAIL: $*" >&2; exit 1; }

for tool in kind kubectl docker curl python3; do
  command -v "$tool" >/dev/null || { echo "e2e-kind: $tool is missing" >&2; exit 2; }
done
KIND_VERSION="$(kind version | sed -n 's/^kind v\([0-9]*\.[0-9]*\).*/\1/p')"
python3 - "$KIND_VERSION" <<'PY' || { echo "e2e-kind: kind >= 0.24 needed (NetworkPolicy in kindnet), found ${KIND_VERSION:-?}" >&2; exit 2; }
import sys; v = tuple(int(x) for x in sys.argv[1].split(".")); sys.exit(0 if v >= (0, 24) else 1)
PY

cleanup() {
  local rc=$?
  if [ "${KEEP:-0}" != 1 ]; then
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
    docker rm -f "$REG_NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$STATE"
  [ $rc = 0 ] && echo "e2e-kind: PASS" >&2
  exit $rc
}
trap cleanup EXIT

say "building prodbox"
cargo build -j2 --quiet
PRODBOX="$PWD/target/debug/prodbox"

say "a local registry ($REG_NAME on 127.0.0.1:$REG_PORT) the cluster pulls from"
docker run -d --restart=no --name "$REG_NAME" -p "127.0.0.1:${REG_PORT}:5000" registry:2 >/dev/null

say "a kind cluster $CLUSTER"
cat > "$STATE/kind.yaml" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
YAML
kind create cluster --name "$CLUSTER" --config "$STATE/kind.yaml" --wait 120s
docker network connect kind "$REG_NAME" 2>/dev/null || true
for node in $(kind get nodes --name "$CLUSTER"); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:${REG_PORT}"
  printf '[host."http://%s:5000"]\n' "$REG_NAME" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:${REG_PORT}/hosts.toml"
done

say "the demo service, pushed by digest"
mkdir -p "$STATE/build"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static \
  --target x86_64-unknown-linux-gnu demo/app.rs -o "$STATE/build/demo-app"
REPO="localhost:${REG_PORT}/prodbox/demo"
DOCKER_BUILDKIT=0 docker build -q -f Dockerfile.example -t "$REPO:1.0.0" "$STATE/build" >/dev/null
docker push -q "$REPO:1.0.0" >/dev/null
ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
DIGEST="$(curl -fsSI -H "Accept: $ACCEPT" "http://localhost:${REG_PORT}/v2/prodbox/demo/manifests/1.0.0" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')"
# verify's probe pod runs the relay binary: the cluster pulls it from the registry too.
mkdir -p "$STATE/relay"
rustc --edition 2021 -O -C strip=symbols -C target-feature=+crt-static \
  --target x86_64-unknown-linux-gnu relay/main.rs -o "$STATE/relay/prodbox-relay-amd64"
DOCKER_BUILDKIT=0 docker build -q -f Dockerfile.relay --build-arg TARGETARCH=amd64 \
  -t "localhost:${REG_PORT}/prodbox/relay:e2e" "$STATE/relay" >/dev/null
docker push -q "localhost:${REG_PORT}/prodbox/relay:e2e" >/dev/null
RELAY_DIGEST="$(curl -fsSI -H "Accept: $ACCEPT" "http://localhost:${REG_PORT}/v2/prodbox/relay/manifests/e2e" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')"
SECRET="pr0d-Pa55w0rd-e2e"
mkdir -p "$STATE/profiles" "$STATE/deploys"
cat > "$STATE/deploys/demo.json" <<JSON
{ "service": "demo", "environment": "production", "image": "$REPO@$DIGEST",
  "deployed_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "deployed_by": "scripts/e2e-kind.sh", "revision": "e2e",
  "config": { "env": { "GREETING": "hello from production", "DATABASE_PASSWORD": "$SECRET" } } }
JSON
cat > "$STATE/profiles/demo.toml" <<TOML
service = "demo"
[source]
kind = "file"
path = "../deploys/demo.json"
[image]
repository = "$REPO"
[sanitize]
keep = ["GREETING"]
[run]
ports = [8080]
health = { http = "/healthz", port = 8080, timeout = "60s" }
memory = "128m"
cpus = 0.5
read_only = true
TOML

say "RBAC: deploy/kubernetes/rbac.yaml, and a user in group prodbox-users"
kubectl --context "$CTX" apply -f deploy/kubernetes/rbac.yaml >/dev/null
# Impersonation keeps the admin's credentials out of prodbox's requests' identity.
kubectl config set-context "${CTX}-prodbox" --cluster "$CTX" --user "$CTX" >/dev/null
export KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}"
python3 - "$KUBECONFIG" "$CTX" <<'PY'
import sys, yaml
path, ctx = sys.argv[1], sys.argv[2]
cfg = yaml.safe_load(open(path))
admin = next(u for u in cfg["users"] if u["name"] == ctx)
user = {"name": ctx + "-prodbox", "user": dict(admin["user"], **{"as": "e2e-user", "as-groups": ["prodbox-users"]})}
cfg["users"] = [u for u in cfg["users"] if u["name"] != user["name"]] + [user]
for c in cfg["contexts"]:
    if c["name"] == ctx + "-prodbox":
        c["context"]["user"] = user["name"]
yaml.safe_dump(cfg, open(path, "w"))
PY
T="--target kubernetes:${CTX}-prodbox"
export XDG_CONFIG_HOME="$STATE/config" USER=e2e
K="kubectl --context $CTX"
NS="prodbox-e2e-demo"

say "prodbox up demo -d $T"
"$PRODBOX" --profiles "$STATE/profiles" up demo -d $T --ttl 2h

say "isolation objects"
$K get namespace "$NS" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}' | grep -qx restricted || fail "PSA label"
$K -n "$NS" get networkpolicy prodbox-isolate >/dev/null || fail "no deny policy"
$K -n "$NS" get resourcequota prodbox-quota >/dev/null || fail "no quota"
$K -n "$NS" get pod app -o jsonpath='{.spec.containers[0].image}' | grep -q "@$DIGEST" || fail "image not by digest"
$K -n "$NS" get pod app -o jsonpath='{.spec.automountServiceAccountToken}' | grep -qx false || fail "token mounted"
if $K -n "$NS" get all,configmap -o yaml | grep -q "$SECRET"; then fail "the production secret reached the cluster"; fi

say "port-forward on 127.0.0.1"
"$PRODBOX" port-forward demo $T -p 18080:8080 >"$STATE/pf.out" 2>&1 &
PF=$!
for _ in $(seq 50); do curl -fsS http://127.0.0.1:18080/healthz >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS http://127.0.0.1:18080/ | grep -q "hello from production" || fail "no answer through port-forward"
kill "$PF"

say "egress denied, DNS allowed (probe pod in the namespace)"
NODE_IP="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "${CLUSTER}-control-plane")"
REG_IP="$(docker inspect -f '{{(index .NetworkSettings.Networks "kind").IPAddress}}' "$REG_NAME")"
$K -n "$NS" run probe --restart=Never --image=busybox:1.36 \
  --overrides='{"spec":{"automountServiceAccountToken":false,"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"probe","image":"busybox:1.36","command":["sh","-c","sleep 3600"],"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}' >/dev/null
$K -n "$NS" wait --for=condition=Ready pod/probe --timeout=120s >/dev/null
$K -n "$NS" exec probe -- nslookup app >/dev/null || fail "DNS inside the namespace"
$K -n "$NS" exec probe -- wget -q -T 3 -O- http://app:8080/healthz >/dev/null || fail "in-namespace traffic blocked"
for target in "$REG_IP:5000" "$NODE_IP:6443" "kubernetes.default.svc:443"; do
  if $K -n "$NS" exec probe -- nc -z -w 3 ${target%:*} ${target#*:} 2>/dev/null; then fail "egress to $target is open"; fi
done

# The quota leaves room for one probe pod: verify's own, next.
$K -n "$NS" delete pod probe --wait=true >/dev/null

say "exec, and verify from a probe pod (target and relay image from the settings file)"
"$PRODBOX" exec demo $T -- /demo-app health >/dev/null || fail "exec"
mkdir -p "$XDG_CONFIG_HOME/prodbox"
cat > "$XDG_CONFIG_HOME/prodbox/settings.toml" <<TOML
relay_image = "localhost:${REG_PORT}/prodbox/relay@${RELAY_DIGEST}"
target = { kind = "kubernetes", context = "${CTX}-prodbox" }
TOML
"$PRODBOX" verify demo --target "$REG_IP:5000" | tee "$STATE/verify.out" || fail "verify found an open path"
grep -q '^app:8080 *open' "$STATE/verify.out" || fail "verify's control (the app's Service) was not open"
rm "$XDG_CONFIG_HOME/prodbox/settings.toml"

say "ls, down"
"$PRODBOX" ls $T | grep -q '^demo ' || fail "ls does not show demo"
"$PRODBOX" down demo $T
$K wait --for=delete "namespace/$NS" --timeout=180s >/dev/null || fail "namespace $NS not deleted"

say "gc honours --ttl"
"$PRODBOX" --profiles "$STATE/profiles" up demo -d --name short $T --ttl 1m
"$PRODBOX" gc $T | grep -q short && fail "gc removed a sandbox before its TTL"
sleep 65
"$PRODBOX" gc $T | grep -q short || fail "gc left an expired sandbox"
