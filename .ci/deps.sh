#!/usr/bin/env bash
# Install every Debian 12 package that building and testing ipsecdiagtool needs.
# Idempotent: only missing packages are installed.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
 libsnmp-dev snmpd snmp snmptrapd smitools erlang-snmp
 libpcap-dev libconfig-dev libcmocka-dev libsystemd-dev libcap-dev
 python3 python3-pytest tshark tcpreplay tcpdump iproute2 nftables
 strongswan-charon strongswan-swanctl libcharon-extra-plugins
 prometheus prometheus-snmp-exporter python3-yaml
 iputils-ping time faketime logrotate clang libclang-rt-14-dev valgrind cppcheck clang-tidy groff-base man-db systemd"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    [ "$(id -u)" = 0 ] || { echo "need root to apt-get install:$missing" >&2; exit 1; }
    apt-get update -q
    apt-get install -y -q --no-install-recommends $missing
fi
