#!/bin/sh
# mib_lint.sh - automake test: IPSECDIAG-MIB must be clean SMIv2 and must
# resolve to the OIDs the agent registers.
#
#  1. smilint -l 6 prints nothing at all for mibs/IPSECDIAG-MIB.txt;
#  2. Net-SNMP loads the module without a single message and -Tp shows
#     every descriptor the module defines;
#  3. snmptranslate -On gives the exact numeric OIDs below.
#
# Exit 0 pass, 1 fail.  Missing tools are a failure (never a skip, 77):
# CI has to install them.
#
# Environment: top_srcdir (default: the parent of this script's directory);
# IDT_IETF_MIBDIR overrides the directory of the IETF base MIBs (default:
# erlang-snmp's, /usr/lib/erlang/lib/snmp-*/mibs); IDT_NETSNMP_MIBDIR
# overrides Net-SNMP's MIB directory (default /usr/share/snmp/mibs).

set -u

# The provisional root, as in the MODULE-IDENTITY and src/mib_oids.h.
# Moving the MIB to another arc means changing this line too.
ROOT=.1.3.6.1.4.1.8072.9999.9999.4500

# descriptor  expected numeric OID
EXPECT="
ipsecDiagMIB                    $ROOT
ipsecDiagTunnelLostPkts         $ROOT.1.2.1.10
ipsecDiagSaHighestSeq           $ROOT.1.3.1.13
ipsecDiagMtuDiscoveryCompleted  $ROOT.0.3
ipsecDiagCaptureDropping        $ROOT.0.5
ipsecDiagUntrackedTunnels       $ROOT.1.1.11
ipsecDiagTunnelLostWhileDropping $ROOT.1.2.1.23
ipsecDiagSaLastSeen             $ROOT.1.3.1.15
ipsecDiagTunnelMtuTargetAddr    $ROOT.1.2.1.29
ipsecDiagSaSuspectPkts          $ROOT.1.3.1.16
ipsecDiagTunnelSuspectPkts      $ROOT.1.2.1.30
ipsecDiagSuspectGroup           $ROOT.2.2.8
ipsecDiagNotificationsGroup     $ROOT.2.2.5
ipsecDiagReservedSAs            $ROOT.1.1.16
ipsecDiagTunnelRefusedPkts      $ROOT.1.2.1.33
ipsecDiagSaTablePressure        $ROOT.0.6
ipsecDiagSaTableNotificationsGroup $ROOT.2.2.10
ipsecDiagTunnelOutPkts          $ROOT.1.2.1.50
ipsecDiagTunnelOutOctets        $ROOT.1.2.1.57
ipsecDiagTunnelState            $ROOT.1.2.1.58
ipsecDiagTunnelAlarmReminders   $ROOT.1.2.1.71
ipsecDiagSaOctets               $ROOT.1.3.1.20
ipsecDiagTunnelIdle             $ROOT.0.10
ipsecDiagTunnelActive           $ROOT.0.11
ipsecDiagCaptureDroppingCleared $ROOT.0.12
ipsecDiagTrafficGroup           $ROOT.2.2.20
ipsecDiagStateNotificationsGroup $ROOT.2.2.24
ipsecDiagTunnelMtuTargetAddrText $ROOT.1.2.1.42
ipsecDiagSaSpiHex               $ROOT.1.3.1.32
ipsecDiagReadableGroup          $ROOT.2.2.12
ipsecDiagTunnelIkeState         $ROOT.1.2.1.72
ipsecDiagTunnelGatewayDropPkts  $ROOT.1.2.1.75
ipsecDiagSaIkeName              $ROOT.1.3.1.33
ipsecDiagSaGatewayDropPkts      $ROOT.1.3.1.34
ipsecDiagTunnelUp               $ROOT.0.13
ipsecDiagTunnelDown             $ROOT.0.14
ipsecDiagIkeGroup               $ROOT.2.2.25
ipsecDiagIkeNotificationsGroup  $ROOT.2.2.26
"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")/.." && pwd) || fail "cannot find top_srcdir"
fi
MIBFILE=$top_srcdir/mibs/IPSECDIAG-MIB.txt
[ -r "$MIBFILE" ] || fail "$MIBFILE not found"

command -v smilint >/dev/null 2>&1 ||
    fail "smilint not found: apt-get install smitools"
command -v snmptranslate >/dev/null 2>&1 ||
    fail "snmptranslate not found: apt-get install snmp"

# IETF base MIBs (SNMPv2-SMI, SNMP-FRAMEWORK-MIB, INET-ADDRESS-MIB, ...).
# has_module DIR MODULE: DIR holds MODULE, MODULE.txt, MODULE.mib, ...
has_module() {
    for f in "$1/$2" "$1/$2".*; do
        [ -f "$f" ] && return 0
    done
    return 1
}
has_ietf() {
    [ -n "$1" ] && [ -d "$1" ] && has_module "$1" INET-ADDRESS-MIB &&
        has_module "$1" SNMP-FRAMEWORK-MIB && has_module "$1" SNMPv2-SMI
}
ietf=${IDT_IETF_MIBDIR:-}
if [ -n "$ietf" ]; then
    has_ietf "$ietf" || fail "IDT_IETF_MIBDIR=$ietf lacks the IETF base MIBs (INET-ADDRESS-MIB, ...)"
else
    # newest erlang-snmp first, then the usual snmp-mibs-downloader places
    for d in $(printf '%s\n' /usr/lib/erlang/lib/snmp-*/mibs | sort -r -V) \
             /usr/share/snmp/mibs/ietf /var/lib/mibs/ietf /usr/share/mibs/ietf; do
        if has_ietf "$d"; then ietf=$d; break; fi
    done
    [ -n "$ietf" ] ||
        fail "IETF base MIBs not found: apt-get install erlang-snmp"
fi

netsnmp=${IDT_NETSNMP_MIBDIR:-/usr/share/snmp/mibs}
has_module "$netsnmp" NET-SNMP-MIB ||
    fail "NET-SNMP-MIB not found in $netsnmp: apt-get install snmp"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mib_lint.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

status=0

# ------------------------------------------------------------ smilint
# -c /dev/null: ignore /etc/smi.conf and ~/.smirc (they may hide
# warnings, e.g. Debian's "smilint: hide namelength-32").
SMIPATH=$netsnmp:$ietf smilint -c /dev/null -l 6 "$MIBFILE" \
    >"$tmp/smilint.out" 2>&1
if [ -s "$tmp/smilint.out" ]; then
    echo "FAIL: smilint -l 6 reports problems:" >&2
    cat "$tmp/smilint.out" >&2
    status=1
else
    echo "ok: smilint -l 6 clean"
fi

# ------------------------------------------------------------ Net-SNMP
# Isolate from the host's snmp.conf files and persistent directory.
mkdir -p "$tmp/conf" "$tmp/persist/cert_indexes"
SNMPCONFPATH=$tmp/conf
SNMP_PERSISTENT_DIR=$tmp/persist
export SNMPCONFPATH SNMP_PERSISTENT_DIR
unset MIBS MIBDIRS MIBFILES 2>/dev/null || true

# Load only this module (and what it imports): not a single message.
snmptranslate -M "+$ietf:$top_srcdir/mibs" -m IPSECDIAG-MIB \
    -Tp IPSECDIAG-MIB::ipsecDiagMIB >"$tmp/tp.out" 2>"$tmp/tp.err"
rc=$?
if [ $rc -ne 0 ] || [ -s "$tmp/tp.err" ]; then
    echo "FAIL: snmptranslate -Tp (rc $rc):" >&2
    cat "$tmp/tp.err" >&2
    status=1
else
    # every descriptor the module defines shows up in the tree
    missing=
    sed -n 's/^\(ipsecDiag[A-Za-z0-9]*\)[[:space:]]\{1,\}\(OBJECT-TYPE\|OBJECT IDENTIFIER\|NOTIFICATION-TYPE\|MODULE-IDENTITY\|MODULE-COMPLIANCE\|OBJECT-GROUP\|NOTIFICATION-GROUP\).*/\1/p' \
        "$MIBFILE" >"$tmp/names"
    [ -s "$tmp/names" ] || missing=" (no descriptors found in $MIBFILE)"
    while read -r name; do
        grep -q "[- ]$name(" "$tmp/tp.out" || missing="$missing $name"
    done <"$tmp/names"
    if [ -n "$missing" ]; then
        echo "FAIL: snmptranslate -Tp lacks:$missing" >&2
        status=1
    else
        echo "ok: snmptranslate -Tp shows all $(wc -l <"$tmp/names" | tr -d " ") descriptors"
    fi
fi

# Exact numeric OIDs, loaded the way an operator would (-m +MODULE).
echo "$EXPECT" | while read -r name oid; do
    [ -n "$name" ] || continue
    got=$(snmptranslate -M "+$ietf:$top_srcdir/mibs" -m +IPSECDIAG-MIB \
          -On "IPSECDIAG-MIB::$name" 2>"$tmp/on.err")
    if [ "$got" != "$oid" ]; then
        echo "FAIL: $name: expected $oid, got '${got}'" >&2
        grep -i 'ipsecdiag' "$tmp/on.err" >&2
        echo x >>"$tmp/on.failed"
    elif grep -qi 'ipsecdiag' "$tmp/on.err"; then
        echo "FAIL: $name: Net-SNMP complains about the module:" >&2
        grep -i 'ipsecdiag' "$tmp/on.err" >&2
        echo x >>"$tmp/on.failed"
    else
        echo "ok: $name = $oid"
    fi
done
[ -e "$tmp/on.failed" ] && status=1

# ------------------------------------------------------------ src/mib_oids.h
# The header's root and every IDT_SCALAR_/IDT_COL_/IDT_NOTIF_ number must
# match the MIB, and every scalar, column and notification must have one.
HDR=$top_srcdir/src/mib_oids.h
if [ ! -r "$HDR" ]; then
    echo "FAIL: $HDR not found" >&2
    status=1
else
    snmptranslate -M "+$ietf:$top_srcdir/mibs" -m IPSECDIAG-MIB -Tz \
        2>/dev/null | tr -d '"' | grep '^ipsecDiag' >"$tmp/map"
    awk -v root="$ROOT" '
        FNR == NR { oid[tolower($1)] = "." $2; name[tolower($1)] = $1; next }
        $1 == "#define" && $2 == "IDT_MIB_ROOT" {
            s = ""; n = 0
            for (i = 3; i <= NF; i++) { v = $i; sub(/,$/, "", v); s = s "." v; n++ }
            hroot = s; hlen = n; next
        }
        $1 == "#define" && $2 == "IDT_MIB_ROOT_LEN" { hrootlen = $3; next }
        $1 == "#define" && $3 ~ /^[0-9]+$/ {
            if      ($2 ~ /^IDT_SCALAR_/)     { p = "ipsecdiag";       sfx = ".1.1."   }
            else if ($2 ~ /^IDT_COL_TUNNEL_/) { p = "ipsecdiagtunnel"; sfx = ".1.2.1." }
            else if ($2 ~ /^IDT_COL_SA_/)     { p = "ipsecdiagsa";     sfx = ".1.3.1." }
            else if ($2 ~ /^IDT_NOTIF_/)      { p = "ipsecdiag";       sfx = ".0."     }
            else next
            k = $2; sub(/^IDT_(SCALAR|COL_TUNNEL|COL_SA|NOTIF)_/, "", k)
            k = p tolower(k)
            if (!(k in oid)) { print "FAIL: " $2 ": no such object in the MIB"; bad = 1; next }
            if (oid[k] != root sfx $3) {
                print "FAIL: " $2 " = " $3 " but " name[k] " is " oid[k]; bad = 1
            }
            seen[k] = 1; ndef++
        }
        END {
            if (hroot != root) { print "FAIL: IDT_MIB_ROOT is " hroot ", MIB root " root; bad = 1 }
            if (hrootlen != hlen) { print "FAIL: IDT_MIB_ROOT_LEN " hrootlen " != " hlen; bad = 1 }
            for (k in oid) {
                o = oid[k]
                if (index(o, root ".1.1.") == 1 || index(o, root ".0.") == 1 ||
                    (index(o, root ".1.2.1.") == 1 && o != root ".1.2.1") ||
                    (index(o, root ".1.3.1.") == 1 && o != root ".1.3.1"))
                    if (!(k in seen)) { print "FAIL: no #define in mib_oids.h for " name[k]; bad = 1 }
            }
            if (!bad) print "ok: src/mib_oids.h matches the MIB (" ndef " numbers)"
            exit bad
        }' "$tmp/map" "$HDR" >"$tmp/hdr.out"
    rc=$?
    if [ $rc -ne 0 ]; then
        cat "$tmp/hdr.out" >&2
        status=1
    else
        cat "$tmp/hdr.out"
    fi
fi

exit $status
