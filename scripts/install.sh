#!/usr/bin/env bash
# Installs smegd, smegctl and their files (`make install`, and `make deb` through debian/rules).
# Usage: scripts/install.sh BIN_DIR PACKAGE_FILES_DIR, with the directories in the environment:
#   DESTDIR BINDIR SBINDIR MANDIR DOCDIR DATADIR SYSTEMD_UNIT_DIR SYSCONFDIR
# The configuration file is installed only where none exists; the smegmesh group, which may use
# the control socket, is created when installing into the running system (no DESTDIR) as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1
files=$2
root=${DESTDIR:-}

install -d "$root$BINDIR" "$root$SBINDIR" "$root$MANDIR/man8" "$root$SYSTEMD_UNIT_DIR" \
    "$root$DOCDIR/docs" "$root$SYSCONFDIR/smegmesh" \
    "$root$DATADIR/bash-completion/completions" "$root$DATADIR/zsh/vendor-completions" \
    "$root$DATADIR/fish/vendor_completions.d"
install -m 0755 "$bin/smegd" "$root$SBINDIR/smegd"
install -m 0755 "$bin/smegctl" "$root$BINDIR/smegctl"
install -m 0644 "$files/man/smegd.8" "$files/man/smegctl.8" "$root$MANDIR/man8/"
for tool in smegd smegctl; do
    install -m 0644 "$files/bash/$tool" "$root$DATADIR/bash-completion/completions/$tool"
    install -m 0644 "$files/zsh/_$tool" "$root$DATADIR/zsh/vendor-completions/_$tool"
    install -m 0644 "$files/fish/$tool.fish" "$root$DATADIR/fish/vendor_completions.d/$tool.fish"
done
sed "s|/usr/sbin/smegd|$SBINDIR/smegd|" examples/systemd/smegd.service >"$root$SYSTEMD_UNIT_DIR/smegd.service"
chmod 0644 "$root$SYSTEMD_UNIT_DIR/smegd.service"
if [[ ! -e $root$SYSCONFDIR/smegmesh/smegd.yaml ]]; then
    install -m 0644 examples/systemd/smegd.yaml "$root$SYSCONFDIR/smegmesh/smegd.yaml"
fi
install -m 0644 README.md "$root$DOCDIR/"
install -m 0644 docs/*.md "$root$DOCDIR/docs/"

if [[ -z $root && $(id -u) -eq 0 ]] && ! getent group smegmesh >/dev/null; then
    groupadd --system smegmesh
    echo "install: created the system group smegmesh (may use the control socket)"
fi
echo "install: smegd in ${root}$SBINDIR, smegctl in ${root}$BINDIR"
