#!/bin/sh
# prometheus_kit.sh - automake test of the Prometheus kit (conf/prometheus):
#
#  1. the alert rules are valid and pass their unit tests
#     (promtool check rules, promtool test rules ipsecdiag-rules.test.yml);
#  2. the tracked snmp.yml is what regen.sh makes from generator.yml and the
#     MIB now (generated into a temporary directory, compared byte for byte);
#  3. prometheus-snmp-exporter accepts snmp.yml (--dry-run), and promtool
#     accepts the Prometheus configuration README.md gives (the yaml block
#     of its section "Prometheus", with the rules file of the kit);
#  4. every enumerated object (INTEGER {...}, TruthValue) that snmp.yml
#     exports is mapped to its names (EnumAsStateSet or EnumAsInfo), and
#     neither a read-write object (the MTU discovery triggers) nor an
#     InetAddressType column is exported.
#
# Exit 0 pass, 1 fail.  Missing tools are a failure (never a skip, 77):
# .ci/deps.sh installs them (prometheus, prometheus-snmp-exporter,
# erlang-snmp, python3-yaml).
#
# Environment: top_srcdir (default: the parent of this script's directory).

set -u
top=${top_srcdir:-$(dirname "$0")/..}
kit=$top/conf/prometheus
fail=0
err() { echo "FAIL: $*"; fail=1; }

for t in promtool prometheus-snmp-exporter prometheus-snmp-generator python3; do
    command -v "$t" >/dev/null 2>&1 || { echo "FAIL: $t not found (bash .ci/deps.sh)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/idt-promkit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. rules
promtool check rules "$kit/ipsecdiag-rules.yml" >"$tmp/check" 2>&1 || { cat "$tmp/check"; err "promtool check rules"; }
(cd "$kit" && promtool test rules ipsecdiag-rules.test.yml) >"$tmp/test" 2>&1 \
    || { cat "$tmp/test"; err "promtool test rules"; }

# 2. snmp.yml up to date
if "$kit/regen.sh" "$tmp/snmp.yml"; then
    if ! cmp -s "$kit/snmp.yml" "$tmp/snmp.yml"; then
        diff -u "$kit/snmp.yml" "$tmp/snmp.yml" | head -60
        err "conf/prometheus/snmp.yml is not what generator.yml and the MIB give: run conf/prometheus/regen.sh and commit snmp.yml"
    fi
else
    err "conf/prometheus/regen.sh failed"
fi

# 3. the exporter loads it
prometheus-snmp-exporter --dry-run --config.file="$kit/snmp.yml" >"$tmp/dry" 2>&1 \
    || { cat "$tmp/dry"; err "prometheus-snmp-exporter rejects conf/prometheus/snmp.yml"; }

python3 - "$top/README.md" "$kit/ipsecdiag-rules.yml" "$tmp/prometheus.yml" <<'EOF' || fail=1
import os, re, sys
readme = open(sys.argv[1]).read()
sec = readme.split("\n## Prometheus\n", 1)
blocks = re.findall(r"```yaml\n(.*?)```", sec[1].split("\n## ", 1)[0], re.S) if len(sec) == 2 else []
if len(blocks) != 1:
    print("FAIL: README.md: expected one yaml block in the section Prometheus, found %d" % len(blocks))
    sys.exit(1)
rules = os.path.abspath(sys.argv[2])
open(sys.argv[3], "w").write(blocks[0].replace("  - ipsecdiag-rules.yml", "  - " + rules))
EOF
if [ -f "$tmp/prometheus.yml" ]; then
    promtool check config "$tmp/prometheus.yml" >"$tmp/cfg" 2>&1 \
        || { cat "$tmp/cfg"; err "promtool rejects the Prometheus configuration of README.md"; }
fi

# 4. enums mapped, triggers not exported
python3 - "$top/mibs/IPSECDIAG-MIB.txt" "$kit/snmp.yml" <<'EOF' || fail=1
import re, sys
import yaml

mib = open(sys.argv[1]).read()
conf = yaml.safe_load(open(sys.argv[2]))
objs = {}
for m in re.finditer(r"^(\w+)\s+OBJECT-TYPE\s+SYNTAX\s+(.*?)\n\s+(?:UNITS.*?\n\s+)?MAX-ACCESS\s+([\w-]+)",
                     mib, re.M | re.S):
    name, syntax, access = m.group(1), m.group(2), m.group(3)
    objs[name] = (syntax.startswith("INTEGER {") or syntax.startswith("TruthValue"), access,
                  syntax.startswith("InetAddressType"))
bad = []
for module, body in conf.items():
    for metric in body["metrics"]:
        n = metric["name"]
        if n not in objs:
            continue
        enum, access, addrtype = objs[n]
        if access == "not-accessible":      # an index: never returned by a walk
            continue
        if enum and metric["type"] not in ("EnumAsStateSet", "EnumAsInfo"):
            bad.append("%s: %s is enumerated but exported as %s: add an override "
                       "(EnumAsStateSet or EnumAsInfo) to generator.yml" % (module, n, metric["type"]))
        if access == "read-write":
            bad.append("%s: %s is read-write (a trigger) and must not be exported: "
                       "ignore it in generator.yml" % (module, n))
        if addrtype:
            bad.append("%s: %s (an InetAddressType) would be a meaningless gauge: "
                       "ignore it in generator.yml" % (module, n))
if not any(v[0] for v in objs.values()):
    bad.append("no enumerated object found in the MIB: the parser here is broken")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF

[ $fail -eq 0 ] && echo "PASS: Prometheus kit (rules, snmp.yml up to date, exporter config, enum mapping)"
exit $fail
