#!/usr/bin/env bash
# The kernel WireGuard path under a real kernel: boots Debian's cloud kernel under QEMU (TCG,
# no KVM) with a busybox initramfs holding a static-stdlib smeg-netcheck, `ip`, `wg`, `bash` and
# wireguard.ko with its dependencies, and runs scripts/netns-test.sh inside it with the generic
# netlink backend. Fails unless the serial console shows the PASS marker within the timeout.
#
# The kernel .deb is fetched with `apt-get download` (never installed) and cached in .build-vm/;
# the guest binary is built in .build-vmbin/. Both are gitignored, so reruns are fast.
#
# Environment: SMEG_VM_TIMEOUT (seconds, default 240); SMEG_WG_BENCH=1 adds the 1000-peer timing
# report (SMEG_BENCH_OUT=file saves its JSON); SMEG_VM_REFRESH=1 re-resolves the kernel package.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
timeout_seconds=${SMEG_VM_TIMEOUT:-240}
cache=.build-vm
mkdir -p "$cache/debs"
started_at=$(date +%s)

for tool in qemu-system-x86_64 busybox cpio depmod dpkg-deb apt-get ip wg bash; do
    command -v "$tool" >/dev/null || {
        echo "vm-test: FAIL: $tool is missing (run scripts/deps.sh)" >&2
        exit 1
    }
done

# 1. The kernel: linux-image-cloud-amd64 is a metapackage depending on one versioned image.
download() { # package: fetch its .deb into the cache; refresh stale or empty apt lists once
    (cd "$cache/debs" && apt-get download -q "$1" 2>/dev/null) && return
    echo "vm-test: apt-get download $1 failed; running apt-get update and retrying"
    apt-get update -qq
    (cd "$cache/debs" && apt-get download -q "$1" 2>/dev/null) || {
        echo "vm-test: FAIL: cannot download $1" >&2
        exit 1
    }
}
kernel_root=$(find "$cache/kernel" -maxdepth 1 -mindepth 1 -type d 2>/dev/null | sort | tail -1 || true)
if [[ -z "$kernel_root" || "${SMEG_VM_REFRESH:-0}" == 1 ]]; then
    echo "vm-test: downloading linux-image-cloud-amd64 and its versioned image package"
    download linux-image-cloud-amd64
    meta=$(ls -t "$cache"/debs/linux-image-cloud-amd64_*.deb | head -1)
    image=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | grep -o 'linux-image-[0-9][^ ]*-cloud-amd64' | head -1)
    [[ -n "$image" ]] || {
        echo "vm-test: FAIL: cannot find the versioned image in $meta's Depends" >&2
        exit 1
    }
    download "$image"
    kernel_root="$cache/kernel/$image"
    rm -rf "$kernel_root"
    mkdir -p "$kernel_root"
    dpkg-deb -x "$(ls -t "$cache"/debs/"$image"_*.deb | head -1)" "$kernel_root"
fi
vmlinuz=$(ls "$kernel_root"/boot/vmlinuz-* | head -1)
version=${vmlinuz##*/vmlinuz-}
modules_base=$kernel_root
[[ -d "$kernel_root/lib/modules/$version" ]] || modules_base="$kernel_root/usr"
modules_dir="$modules_base/lib/modules/$version"
[[ -f "$modules_dir/modules.dep" ]] || depmod -b "$modules_base" "$version"
echo "vm-test: kernel $version"

# 2. The guest binary, with the Swift runtime linked in so only C libraries remain to copy.
echo "vm-test: building smeg-netcheck (release, static stdlib) in .build-vmbin"
$SWIFT build -c release -Xswiftc -static-stdlib --product smeg-netcheck --scratch-path .build-vmbin >/dev/null
netcheck="$($SWIFT build -c release -Xswiftc -static-stdlib --show-bin-path --scratch-path .build-vmbin)/smeg-netcheck"

# 3. The initramfs.
root="$cache/root"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,var,modules,smeg/scripts}
ln -s /run "$root/var/run"
cp "$(command -v busybox)" "$root/bin/busybox"
for applet in $(busybox --list); do
    [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
done
copy_with_libraries() { # source destination-in-root
    install -D -m 0755 "$1" "$root$2"
    ldd "$1" | grep -o '/[^ ]*' | while read -r library; do
        [[ -e "$root$library" ]] || install -D -m 0755 "$(realpath "$library")" "$root$library"
    done
}
copy_with_libraries "$netcheck" /usr/bin/smeg-netcheck
copy_with_libraries "$(command -v ip)" /usr/sbin/ip
copy_with_libraries "$(command -v wg)" /usr/bin/wg
rm -f "$root/bin/bash"
copy_with_libraries "$(command -v bash)" /bin/bash
cp scripts/netns-test.sh "$root/smeg/scripts/"
install -m 0755 scripts/vm/init "$root/init"

# wireguard and veth with everything they depend on, dependencies first.
declare -A loaded=()
order=()
add_module() { # path relative to the modules dir, as in modules.dep
    local module=$1 dependency
    [[ -n "${loaded[$module]:-}" ]] && return
    loaded[$module]=1
    for dependency in $(grep "^$module:" "$modules_dir/modules.dep" | cut -d: -f2); do
        add_module "$dependency"
    done
    order+=("$module")
}
for name in wireguard veth; do
    module=$(grep -oE "^[^:]*/$name\.ko(\.xz|\.zst|\.gz)?:" "$modules_dir/modules.dep" | tr -d ':')
    [[ -n "$module" ]] || {
        echo "vm-test: FAIL: $name is not a module of $version" >&2
        exit 1
    }
    add_module "$module"
done
: >"$root/modules/order"
for module in "${order[@]}"; do
    base=$(basename "$module")
    case "$base" in
        *.ko.xz) xz -dc "$modules_dir/$module" >"$root/modules/${base%.xz}" ;;
        *.ko.zst) zstd -qdc "$modules_dir/$module" >"$root/modules/${base%.zst}" ;;
        *.ko.gz) gzip -dc "$modules_dir/$module" >"$root/modules/${base%.gz}" ;;
        *) cp "$modules_dir/$module" "$root/modules/$base" ;;
    esac
    echo "${base%.ko*}.ko" >>"$root/modules/order"
done
initramfs="$cache/initramfs.cpio"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$initramfs"
echo "vm-test: initramfs $(du -h "$initramfs" | cut -f1) with ${#order[@]} modules"

# 4. Boot. TCG only: /dev/kvm exists on these machines but hangs.
bench=${SMEG_WG_BENCH:-0}
log="$cache/console.log"
echo "vm-test: booting under qemu (TCG, timeout ${timeout_seconds}s); console in $log"
status=0
timeout "$timeout_seconds" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1G -nographic -no-reboot -nic none \
    -kernel "$vmlinuz" -initrd "$initramfs" \
    -append "console=ttyS0 panic=-1 loglevel=3 smeg.bench=$bench" </dev/null >"$log" 2>&1 || status=$?
tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | sed -n '/smeg-vm:/,$p' | sed 's/^.*smeg-vm:/smeg-vm:/' |
    grep -v '^\s*$' | sed 's/^/  vm| /'
if [[ -n "${SMEG_BENCH_OUT:-}" && $bench == 1 ]]; then
    tr -d '\r' <"$log" | sed -n '/^{/,/^}/p' >"$SMEG_BENCH_OUT"
fi
if grep -aq "SMEG-VM-TEST: PASS" "$log"; then
    echo "vm-test: PASS ($(($(date +%s) - started_at)) s)"
    exit 0
fi
if ((status == 124)); then
    echo "vm-test: FAIL: no result within ${timeout_seconds}s (see $log)" >&2
else
    echo "vm-test: FAIL (qemu exit status $status; see $log)" >&2
fi
exit 1
