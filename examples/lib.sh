# Shared start of the example scripts (sourced): builds the debug binaries when needed, loads
# the namespace helpers, and removes the lab on exit. Run the examples as root from anywhere.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --product smegd >/dev/null && swift build --product smegctl >/dev/null
source scripts/lib/mesh-lab.sh
lab_begin "$(basename "$0" .sh)"

# example_mesh NAME: the id of the one mesh NAME's daemon is in.
example_mesh() {
    lab_ctl "$1" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["meshes"][0]["meshId"])'
}

# example_pings FROM ADDRESS: waits until FROM pings ADDRESS over the mesh, and says so.
example_pings() {
    lab_wait 30 "$1 pings $2" lab_ping "$1" "$2"
    echo "  $1 -> $2: ping ok"
}
