#!/usr/bin/env bash
# Installs the Debian packages smegmesh builds and tests with. Idempotent: apt-get runs only when
# something is missing, so a second `make` costs nothing.
set -euo pipefail

packages=(
    build-essential pkg-config
    libsodium-dev libmnl-dev
    wireguard-tools wireguard-go
    iproute2 iputils-ping nftables iptables iperf3 netcat-openbsd
    graphviz dnsutils curl procps psmisc
    python3
    qemu-system-x86 busybox-static cpio kmod zstd xz-utils
    linux-libc-dev
)
if [[ -n "${SMEG_EXTRA_PACKAGES:-}" ]]; then
    read -r -a extra <<<"$SMEG_EXTRA_PACKAGES"
    packages+=("${extra[@]}")
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} Debian packages present"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: run as root (or install them with apt-get) and try again" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} packages"
