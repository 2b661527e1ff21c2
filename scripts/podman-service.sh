#!/usr/bin/env bash
# Prepares rootful Podman (Debian 12's podman 4.3) on a machine without
# systemd and starts its Docker-compatible API socket, for the second CI run.
# Run as root. Idempotent: a socket that already answers is left alone.
# Prints the DOCKER_HOST to use.
set -euo pipefail
SOCK=/run/podman/podman.sock

mkdir -p /etc/containers/containers.conf.d /etc/containers/registries.conf.d /run/podman
# No systemd: cgroupfs and a file for events (the journald defaults fail).
# Without CAP_SYS_RESOURCE (containers, some CI machines) every start fails
# raising rlimits to Podman's rootful defaults (nofile 1048576, nproc
# 4194304): ask for this process's open-files limit and 4096 processes (the
# service may run with a lower process limit than this shell; sandboxes
# have a pids limit of 512 anyway).
{
  echo '[containers]'
  eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  if (( ((16#${eff:-0}) >> 24 & 1) == 0 )); then # bit 24: CAP_SYS_RESOURCE
    n=$(ulimit -Hn)
    echo "default_ulimits = [\"nofile=${n}:${n}\", \"nproc=4096:4096\"]"
  fi
  echo '[engine]'
  echo 'cgroup_manager = "cgroupfs"'
  echo 'events_logger = "file"'
  # crun refuses cgroup v1 with a unified hierarchy beside it ("hybrid
  # mode"); runc takes it.
  if [ "$(stat -fc %T /sys/fs/cgroup/)" != cgroup2fs ]; then
    echo 'runtime = "runc"'
  fi
} >/etc/containers/containers.conf.d/50-prodbox-ci.conf
# The test registries run on 127.0.0.1 on random ports, over plain HTTP.
cat >/etc/containers/registries.conf.d/50-prodbox-loopback.conf <<'CONF'
[[registry]]
location = "127.0.0.1"
insecure = true
[[registry]]
location = "localhost"
insecure = true
CONF

# Docker sets the FORWARD policy to DROP; netavark adds no accept rule for
# internal networks, so the relay could not reach the app. Podman's bridges
# are named podman0, podman1, …: accept traffic from one to another (and
# within one, which br_netfilter sends through FORWARD); nothing else.
if iptables -S FORWARD 2>/dev/null | grep -q '^-P FORWARD DROP'; then
  iptables -C FORWARD -i podman+ -o podman+ -j ACCEPT 2>/dev/null || iptables -I FORWARD -i podman+ -o podman+ -j ACCEPT
fi

# A service left running from an earlier run whose working directory is
# gone (a deleted clone) cannot start containers: conmon fails with "Failed
# to get working directory" and every start answers "write child: broken pipe".
for pid in $(pgrep -f "podman system service" || true); do
  if readlink "/proc/$pid/cwd" 2>/dev/null | grep -q ' (deleted)$'; then
    echo "podman-service: restarting a service whose working directory is gone" >&2
    kill "$pid" 2>/dev/null || true
    sleep 1
  fi
done

if ! curl -fsS -m 5 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
  rm -f "$SOCK"
  # From /, so the service never holds a working directory that can vanish.
  # Every descriptor of the background job redirected, not only podman's:
  # this script runs inside `$(…)`, which waits until nothing holds its pipe,
  # and a subshell left holding it would make CI wait for the service to end.
  (cd / && exec setsid podman system service --time=0 "unix://$SOCK") </dev/null >/tmp/podman-service.log 2>&1 &
  for _ in $(seq 50); do curl -fsS -m 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS -m 5 --unix-socket "$SOCK" http://d/_ping >/dev/null || { echo "podman service did not start; /tmp/podman-service.log:" >&2; tail -20 /tmp/podman-service.log >&2; exit 1; }
fi
echo "unix://$SOCK"
