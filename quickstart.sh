#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main job
# on a bundled example: a private snmpd (AgentX master) plus the ipsecdiagtool
# subagent capturing on a veth pair in a private network namespace, onto which
# a generated ESP capture (with loss, reordering, duplicates) is replayed.
# Then print the tunnel and SA tables with snmptable.  Needs root (namespaces).
set -eu
cd "$(dirname "$0")"
top=$PWD
[ "$(id -u)" = 0 ] || { echo "run as root (it creates a network namespace): sudo $0" >&2; exit 1; }
bash .ci/deps.sh
# Build out of tree, in _quickstart/ (the source tree stays as it is; .ci/run
# builds out of tree too, so both can run in either order, and again).
bash .ci/distclean-in-place.sh
[ -x configure ] || autoreconf -fi
mkdir -p _quickstart
[ -f _quickstart/Makefile ] || (cd _quickstart && ../configure)
make -C _quickstart -j"$(nproc)"
bin=$top/_quickstart/ipsecdiagtool

ns=idtdemo$$
work=$(mktemp -d /tmp/ipsecdiagtool-demo.XXXXXX)
ietf=$(ls -d /usr/lib/erlang/lib/snmp-*/mibs | tail -1)
cleanup() {
    [ -f "$work/agent.pid" ] && kill "$(cat "$work/agent.pid")" 2>/dev/null || true
    [ -f "$work/snmpd.pid" ] && kill "$(cat "$work/snmpd.pid")" 2>/dev/null || true
    sleep 0.5
    ip netns del "$ns" 2>/dev/null || true
    [ -n "${IDT_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add demo0 type veth peer name demo1
ip -n "$ns" link set demo0 up
ip -n "$ns" link set demo1 up

# The example: a configured tunnel plus whatever else the capture contains.
/usr/bin/python3 tests/gen/espgen.py --scenario mix --seed 1 --out "$work/example.pcap" --truth "$work/truth.json" >/dev/null
cat > "$work/ipsecdiagtool.conf" <<CONF
agentx:  { socket = "unix:$work/agentx.sock"; ping_interval = 5; };
capture: { interface = "demo1"; };
CONF
cat > "$work/snmpd.conf" <<CONF
master agentx
agentXSocket unix:$work/agentx.sock
agentXPerms 0660 0550
rocommunity public 127.0.0.1
CONF
mkdir -p "$work/persist"
ip netns exec "$ns" env SNMP_PERSISTENT_DIR="$work/persist" MIBS= snmpd -C -c "$work/snmpd.conf" \
    -Lf "$work/snmpd.log" -p "$work/snmpd.pid" udp:127.0.0.1:1161
for _ in $(seq 50); do [ -S "$work/agentx.sock" ] && break; sleep 0.1; done
ip netns exec "$ns" env IDT_NO_PRIVDROP=1 "$bin" run -f -c "$work/ipsecdiagtool.conf" \
    -p "$work/agent.pid" 2>"$work/agent.log" &
snmp() {   # snmp TOOL [OPTIONS...] OBJECT
    local tool=$1; shift
    local obj=${*: -1}
    ip netns exec "$ns" "$tool" -v2c -c public -M "+$ietf:$top/mibs" -m +IPSECDIAG-MIB "${@:1:$#-1}" \
        127.0.0.1:1161 "$obj" 2>>"$work/client.err"
}
ready=
for _ in $(seq 50); do
    snmp snmpget -Oqv IPSECDIAG-MIB::ipsecDiagReplayWindow.0 | grep -q '^[0-9]' && { ready=1; break; }
    sleep 0.2
done
if [ -z "$ready" ]; then
    echo "the subagent does not answer over SNMP after 10 s; its log, snmpd's, the client's:" >&2
    for f in agent.log snmpd.log client.err; do
        echo "== $f" >&2; tail -20 "$work/$f" >&2 || true
    done
    exit 1
fi

echo "== replaying $(basename "$work/example.pcap") onto demo0 (subagent captures on demo1)"
ip netns exec "$ns" tcpreplay -q -i demo0 --pps=20000 "$work/example.pcap" >/dev/null
sleep 2.5
echo
echo "== snmptable IPSECDIAG-MIB::ipsecDiagTunnelTable"
snmp snmptable -Cb -Ci -Cw 150 -OU IPSECDIAG-MIB::ipsecDiagTunnelTable   # -Cw: every column, in parts
echo
echo "== snmptable IPSECDIAG-MIB::ipsecDiagSaTable"
snmp snmptable -Cb -Ci -OU IPSECDIAG-MIB::ipsecDiagSaTable | cut -c1-200
echo
echo "== the same capture analysed offline: _quickstart/ipsecdiagtool interactive -r example.pcap"
"$bin" interactive -c /dev/null -r "$work/example.pcap" | head -20
echo
echo "(Live, a missing sequence number counts as lost once it leaves the replay window;"
echo " at the end of a file the holes still inside the window count too, so the offline"
echo " report can show a few more lost packets than the live counters for an active SA.)"
