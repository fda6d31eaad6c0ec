#!/bin/sh
# Makes a Docker engine answer for the integration tests: installs docker.io and busybox-static if missing,
# starts dockerd only when `docker info` does not answer (never a second daemon), and waits up to 60 s.
# No bridge network and no iptables rules: test containers use --network none or host only.
set -eu

log=${DOCKERD_LOG:-/var/log/dockerd.log}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=""
command -v docker >/dev/null 2>&1 || missing="$missing docker.io"
command -v dockerd >/dev/null 2>&1 || case "$missing" in *docker.io*) ;; *) missing="$missing docker.io" ;; esac
[ -x /bin/busybox ] || missing="$missing busybox-static"
if [ -n "$missing" ]; then
  echo "installing:$missing" >&2
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq $missing >&2
fi

if docker info >/dev/null 2>&1; then
  echo "docker: daemon already running ($(docker info --format '{{.ServerVersion}}'))" >&2
  exit 0
fi

echo "docker: starting dockerd (log: $log)" >&2
# Every lease gets a network of its own: /24s from Docker's usual private range give thousands instead of ~30.
as_root sh -c "nohup dockerd --iptables=false --bridge=none --default-address-pool base=172.17.0.0/12,size=24 >>'$log' 2>&1 &"

i=0
while [ "$i" -lt 60 ]; do
  if docker info >/dev/null 2>&1; then
    echo "docker: ready after ${i}s ($(docker info --format '{{.ServerVersion}}'))" >&2
    exit 0
  fi
  i=$((i + 1))
  sleep 1
done
echo "docker: dockerd did not answer within 60 s; last log lines:" >&2
tail -n 20 "$log" >&2 || true
exit 1
