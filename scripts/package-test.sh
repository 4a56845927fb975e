#!/usr/bin/env bash
# The Debian package, installed into a fresh Debian root (`make package-test`, as root):
#   - `make deb` builds out/deb/smegmesh_VERSION_amd64.deb (lintian must report no error);
#   - a Debian root made by debootstrap (its tarball cached under /var/cache, so a rerun only
#     unpacks it) gets it with dpkg -i: group, conffile, unit, man pages, completions in place;
#   - `systemd-analyze verify` accepts the installed unit;
#   - smegd --version and smegctl version print the package's version, smegctl --help works;
#   - smegd in control-plane-only mode, in a network namespace of its own, answers
#     `smegctl status` from root and from a member of the smegmesh group, and refuses a user
#     outside it; `smegctl create` makes a mesh;
#   - the same package rebuilt with a higher version upgrades it: the configuration edited by
#     the administrator, the node's identity, the mesh and its keys all stay.
# What stays untested here: smegd under a booted systemd (its sandbox, the capability bounding
# set, KillMode), and WireGuard from the package (make test covers the daemon with WireGuard).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [[ $(id -u) -ne 0 ]]; then
    echo "package-test: needs root (debootstrap, chroot, namespaces)" >&2
    exit 1
fi
SMEG_EXTRA_PACKAGES="debootstrap systemd" scripts/deps.sh

suite=bookworm
cache=/var/cache/smegmesh-package-test
base=$cache/$suite-base.tar
# Everything the package depends on, and systemd for systemd-analyze, are in the base, so that
# dpkg -i needs no network.
include=systemd,libsodium23,libmnl0,libgcc-s1,procps
stamp="$suite $include"

mirror=${SMEG_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
fi
if [[ -z $mirror ]]; then
    mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi

if [[ ! -f $base || "$(cat "$base.stamp" 2>/dev/null)" != "$stamp" ]]; then
    [[ -n $mirror ]] || { echo "package-test: no Debian mirror in the apt sources; set SMEG_DEBIAN_MIRROR" >&2; exit 1; }
    echo "package-test: making the $suite base (once; cached in $cache)"
    mkdir -p "$cache"
    staging=$(mktemp -d "$cache/build.XXXXXX")
    debootstrap --variant=minbase --include="$include" "$suite" "$staging" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
        tail -20 "$cache/debootstrap.log" >&2
        rm -rf "$staging"
        exit 1
    }
    rm -rf "$staging"/var/cache/apt/archives/*.deb
    tar -C "$staging" -cf "$base.tmp" .
    mv "$base.tmp" "$base"
    printf '%s' "$stamp" >"$base.stamp"
    rm -rf "$staging"
fi

make --no-print-directory deb
version=$(scripts/version.sh)
first=out/deb/smegmesh_${version}_amd64.deb
# The upgrade: the same sources, packaged with a higher version.
upgrade_version=${version}+pkgtest1
make --no-print-directory deb SMEG_VERSION="$upgrade_version"
second=out/deb/smegmesh_${upgrade_version}_amd64.deb
built=$SECONDS

root=$(mktemp -d /tmp/smegmesh-package-test.XXXXXX)
cleanup() { rm -rf "$root"; }
trap cleanup EXIT
tar -C "$root" -xf "$base"
# mktemp made the directories 0700, and the tarball's "." keeps that: users in the root need /.
chmod 0755 "$root"
cp "$first" "$root/tmp/first.deb"
cp "$second" "$root/tmp/second.deb"

cat >"$root/tmp/inside.sh" <<'EOF'
#!/bin/sh
# Runs inside the Debian root, in namespaces of its own (mount, PID, network).
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
mount -t proc proc /proc
mkdir -p /run/lock
pass=0
fail=0
check() {
    name=$1
    shift
    if "$@" >/tmp/check.out 2>&1; then
        pass=$((pass + 1))
        echo "PASS $name"
    else
        fail=$((fail + 1))
        echo "FAIL $name"
        sed 's/^/    /' /tmp/check.out | tail -20
    fi
}
has_line() { grep -qx -- "$2" "$1"; }
version_is() { test "$("$@")" = "$expected"; }

daemon_pid=
start_daemon() {
    smegd --config /etc/smegmesh/smegd.yaml --control-plane-only >>/tmp/smegd.log 2>&1 &
    daemon_pid=$!
    i=0
    while [ $i -lt 100 ]; do
        [ -S /run/smegmesh/smegd.sock ] && smegctl status >/dev/null 2>&1 && return 0
        sleep 0.1
        i=$((i + 1))
    done
    cat /tmp/smegd.log
    return 1
}
stop_daemon() {
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" || true
}

expected=$1
upgrade=$2

check "dpkg -i installs the package" dpkg -i /tmp/first.deb
check "the smegmesh group exists" getent group smegmesh
check "/etc/smegmesh/smegd.yaml is a conffile" \
    sh -c "dpkg-query -W -f='\${Conffiles}' smegmesh | grep -q ' /etc/smegmesh/smegd.yaml '"
check "smegd in /usr/sbin, smegctl in /usr/bin" test -x /usr/sbin/smegd -a -x /usr/bin/smegctl
# The size bars of the packaging (docs/operations.md, "What each binary holds"), in bytes, and ICU's
# data table, whose package name is in every copy of it, in neither binary.
below() { test "$(stat -c %s "$1")" -lt "$2"; }
check "stripped smegctl is under 15 MB" below /usr/bin/smegctl 15000000
check "stripped smegd is under 65 MB" below /usr/sbin/smegd 65000000
check "neither binary carries ICU's data" sh -c '! grep -q -a icudt /usr/bin/smegctl /usr/sbin/smegd'
check "man pages smegd(8) and smegctl(8)" \
    test -f /usr/share/man/man8/smegd.8.gz -a -f /usr/share/man/man8/smegctl.8.gz
check "bash, zsh and fish completions" test -f /usr/share/bash-completion/completions/smegctl \
    -a -f /usr/share/zsh/vendor-completions/_smegctl -a -f /usr/share/fish/vendor_completions.d/smegctl.fish
check "copyright and changelog" \
    test -f /usr/share/doc/smegmesh/copyright -a -f /usr/share/doc/smegmesh/changelog.gz
check "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/smegd.service
check "systemd-analyze verify accepts the unit" \
    sh -c 'systemd-analyze verify --man=no /lib/systemd/system/smegd.service 2>&1 | tee /tmp/verify.out; ! grep -q . /tmp/verify.out'
check "smegd --version" version_is smegd --version
check "smegctl version" version_is sh -c 'smegctl version | sed "s/^smegctl //"'
check "smegctl --help" sh -c 'smegctl --help | grep -q "USAGE: smegctl"'
check "smegd --help" sh -c 'smegd --help | grep -q "USAGE: smegd"'
check "smegd --check-config reads the packaged configuration" \
    sh -c 'smegd --check-config | grep -qx "socketGroup: smegmesh"'

useradd --create-home --groups smegmesh smegop
useradd --create-home smegother
check "smegd starts in control-plane-only mode" start_daemon
check "smegctl status answers root" sh -c "smegctl status | tee /tmp/status.txt"
check "the status reports the version" grep -q "$expected" /tmp/status.txt
check "the socket is root:smegmesh 0660" sh -c 'test "$(stat -c "%U:%G %a" /run/smegmesh/smegd.sock)" = "root:smegmesh 660"'
check "a member of smegmesh may use smegctl" setpriv --reuid=smegop --regid=smegop --init-groups smegctl status
check "a user outside smegmesh may not" sh -c \
    'setpriv --reuid=smegother --regid=smegother --init-groups smegctl status 2>&1 | grep -q "permission denied on"'
check "smegctl create makes a mesh" sh -c 'smegctl create --alias pkgtest >/tmp/create.txt'
smegctl list --json >/tmp/before.json 2>&1 || true
find /var/lib/smegmesh -type f -name '*key*' -exec sha256sum {} + | sort >/tmp/keys-before.txt
stop_daemon
echo "# edited by the administrator" >>/etc/smegmesh/smegd.yaml

check "dpkg -i upgrades to $upgrade" dpkg -i --force-confold /tmp/second.deb
check "the upgrade is installed" sh -c "test \"\$(dpkg-query -W -f='\${Version}' smegmesh)\" = '$upgrade'"
check "the edited configuration is kept" grep -qx "# edited by the administrator" /etc/smegmesh/smegd.yaml
expected=$upgrade
check "smegd --version after the upgrade" version_is smegd --version
check "smegd starts again" start_daemon
smegctl list --json >/tmp/after.json 2>&1 || true
find /var/lib/smegmesh -type f -name '*key*' -exec sha256sum {} + | sort >/tmp/keys-after.txt
check "the keys are unchanged" sh -c 'test -s /tmp/keys-before.txt && cmp /tmp/keys-before.txt /tmp/keys-after.txt'
check "the mesh and this node's identity are kept" sh -c 'test -s /tmp/before.json && cmp /tmp/before.json /tmp/after.json'
stop_daemon

check "dpkg --purge removes the package and its state" sh -c 'dpkg --purge smegmesh && test ! -e /var/lib/smegmesh && test ! -e /usr/sbin/smegd'
umount /proc
echo "package-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
EOF
chmod +x "$root/tmp/inside.sh"

# Own mount, PID and network namespaces: nothing the daemon binds reaches the machine's network,
# and the mounts go away with the test.
status=0
unshare --mount --pid --net --fork sh -c "ip link set lo up && chroot '$root' /tmp/inside.sh '$version' '$upgrade_version'" || status=$?
echo "package-test: $((SECONDS - started)) s in all, $((built - started)) s of them building the packages"
exit $status
