"""Reproducible real-IPsec lab for the ipsecdiagtool integration tests.

Two (optionally three) strongSwan gateways, each in its own network
namespace, connected through a middle namespace that bridges them and can
drop/black-hole packets with nftables.

Topology (TOKEN is per Lab instance, e.g. ``idt12345a``)::

    TOKEN-gw1                      TOKEN-mid                    TOKEN-gw2
    lan0 10.10.1.1/24              br0 (no IP)                  lan0 10.10.2.1/24
    out0 192.0.2.1/24 ----veth---- m1   m2 ----veth------------ out0 192.0.2.2/24
    ipsec0 (TUN, charon)                m3 ----veth----+        ipsec0
                                                       |
                                            TOKEN-gw3 (tunnels=2 only)
                                            out0 192.0.2.3/24, lan0 10.10.3.1/24

    tunnel "gw1-gw2": 10.10.1.0/24 <-> 10.10.2.0/24 (gw1 initiates)
    tunnel "gw1-gw3": 10.10.1.0/24 <-> 10.10.3.0/24 (tunnels=2)

``lanp`` is the (up, unused) veth peer of ``lan0``; there is no ``dummy``
link type in this kernel.  Interface names are fixed and short because all
interfaces are created directly inside their namespaces (``ip -n A link add
X type veth peer name Y netns B``) - nothing ever appears in the root netns.

Verified facts (Debian 12, strongSwan 5.9.8, kernel 6.18 without xfrm ESP)
--------------------------------------------------------------------------
* Packages: strongswan-charon strongswan-swanctl libcharon-extra-plugins
  (kernel-libipsec) libstrongswan-standard-plugins (gmp etc.) nftables
  iproute2 tcpdump util-linux (unshare) python3-pytest, and
  **iputils-ping** (was NOT installed; Lab.ping() needs /usr/bin/ping).
* Lab start-up (network + 2 charons + IKE/CHILD_SA + first ping) ~0.3 s.
* charon is started per gateway as
  ``ip netns exec NS unshare -m sh -c 'mount --bind DIR/run /run && exec
  /usr/lib/ipsec/charon'`` with ``STRONGSWAN_CONF=DIR/strongswan.conf``
  (templates in tests/lab/); each has its own vici socket
  (``charon.plugins.vici.socket``) and log file DIR/charon.log.  Config is
  loaded with ``swanctl --uri unix://DIR/charon.vici --load-all --noprompt
  --file DIR/swanctl.conf`` (swanctl also reads STRONGSWAN_CONF; its
  ``swanctl { load = ... }`` silences "plugin failed to load" noise).
* Plugins (``load_modular = no``): see PLUGINS below.  x509/pem/pkcs1 are not
  needed for PSK.  IKE proposal aes128-sha256-modp2048, ESP aes128-sha256.
* kernel-libipsec: TUN ``ipsec0``, MTU 1400.  charon installs
  ``10.10.2.0/24 dev ipsec0 table 220 proto static src 10.10.1.1`` plus
  ``ip rule`` ``220: from all lookup 220`` inside the namespace.  ipsec0's
  MTU can be lowered (``ip link set ipsec0 mtu 1300``); a DF ping whose inner
  packet exceeds it fails locally ("message too long"), received = 0.
* ESP is always UDP-encapsulated, UDP 4500 -> 4500, even with
  ``encap = no`` (IKE floats to 4500 too; IKE packets on 4500 start with the
  4-byte zero non-ESP marker, ESP packets with the non-zero SPI).  No
  protocol-50 packets ever.  We set ``encap = yes`` (both sides then log
  "remote host is behind NAT").
* No NAT-T keepalives are sent in this topology (checked for 4.5 s with
  keep_alive = 2, with encap yes and no), so captures contain only IKE and
  ESP on 4500 (plus an occasional IGMP report from the bridge ports).
* Every outer UDP/4500 packet carries DF - as long as the gateway has no
  PMTU exception for its peer.  charon's UDP socket uses the kernel default
  (IP_PMTUDISC_WANT): after an ICMP frag-needed (see inject_frag_needed())
  the gateway *fragments* bigger ESP-in-UDP datagrams itself and clears DF
  (first fragment: MF set, UDP header + SPI present, udp_len = whole
  datagram; later fragments have no UDP header -> a "udp port 4500" BPF
  filter misses them).  ``ip route flush cache`` removes the learned PMTU
  (``ip route get`` loses "mtu N"; ``ip route show cache`` may still list
  the entry without mtu) and DF comes back.
* Outer IPv4 length with esp_proposals aes128-sha256 (AES-CBC IV 16,
  ICV 16, block 16):  ``outer = 68 + roundup16(inner + 2)`` where ``inner``
  is the inner IPv4 total length (ICMP echo: ``inner = 28 + ping -s``).
  68 = 20 (IP) + 8 (UDP) + 8 (SPI+seq) + 16 (IV) + 16 (ICV).  Measured for
  ping -s 0,1,13,14,15,29,100,500,1000,1371,1372.  Largest DF ping through
  the default ipsec0 (1400): -s 1372 -> outer 1476.  See esp_outer_len() /
  max_inner_for_outer().
* ESP sequence numbers start at 1 per SA and increase by 1 per packet; the
  responder's SPIs are the mirror of the initiator's (spi_in <-> spi_out).
* Rekey: with ``rekey_time=R`` gw1 (initiator, rand_time=0) rekeys the
  CHILD_SA after exactly R s; responders have rekey_time=0 (never rekey).
  ``Lab.rekey()`` (swanctl --rekey) does it immediately.  New SPIs in both
  directions carry the traffic right away; the old CHILD_SA stays listed as
  state DELETED (its inbound SA still accepting late packets) for
  ``charon.delete_rekeyed_delay`` = 5 s (Lab(delete_rekeyed_delay=...)).
* The middle namespace filters with a ``bridge`` family table ``idt``
  (forward hook; no br_netfilter needed, ``ip``/``udp``/``@th`` matches
  work).  ``numgen inc`` in a rule only advances when the earlier
  expressions of that rule matched, so ``<match> numgen inc mod 4000000000
  < N drop`` drops exactly the first N matching packets - deterministic.
  Named counter objects give exact seen/dropped numbers (DropHandle).
* netem does not exist; don't rely on tc delay/loss.  There is no
  ``dummy`` link type either (LAN side is a veth pair lan0/lanp).

Pitfalls
--------
* tcpdump drops privileges to user tcpdump: we pass ``-Z root`` so it can
  write pcaps into root-owned work dirs.
* Capture on the bridge *ports* (m1 faces gw1, m2 faces gw2, m3 gw3) in the
  middle namespace, not on br0: forwarded frames never pass br0 itself.
  The ingress side of a drop (e.g. m2 for gw2->gw1) sees the packet before
  the drop, the egress side (m1) only what was forwarded.
* Namespace names are ``idt<pid>x<n>-{gw1,gw2,gw3,mid}``; cleanup_stale()
  (called by every Lab start) removes namespaces of dead creator pids, so a
  SIGKILLed test run doesn't break the next one.  Parallel runs are fine.
* Lab.ping() parses iputils ping's summary; with drops it waits ``wait``
  (-W) s for the last replies.
"""

import atexit
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import string
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

LAB_TEMPLATES = Path(__file__).resolve().parent.parent / "lab"
CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"
PLUGINS = ("random nonce aes sha1 sha2 hmac kdf gmp "
           "kernel-libipsec kernel-netlink socket-default vici")
ESP_PROPOSALS = "aes128-sha256"
IPSEC0_DEFAULT_MTU = 1400
NAT_T_PORT = 4500
ESP_OVERHEAD_FIXED = 68          # IP20 + UDP8 + SPI/seq8 + IV16 + ICV16
NS_PREFIX = "idt"                # all lab namespaces start with this

_seq = itertools.count()
_live_labs = set()
_live_lock = threading.Lock()


@atexit.register
def _teardown_live_labs():
    """Safety net for labs entered without a with-statement."""
    for lab in list(_live_labs):
        with contextlib.suppress(Exception):
            lab.__exit__(None, None, None)


def roundup16(n):
    return (n + 15) & ~15


def esp_outer_len(inner_len):
    """Outer IPv4 total length of an ESP-in-UDP packet (aes128-sha256)
    carrying an inner IPv4 packet of total length inner_len."""
    return ESP_OVERHEAD_FIXED + roundup16(inner_len + 2)


def max_inner_for_outer(outer_len):
    """Largest inner IPv4 total length whose outer packet is <= outer_len."""
    n = ((outer_len - ESP_OVERHEAD_FIXED) // 16) * 16 - 2
    assert esp_outer_len(n) <= outer_len < esp_outer_len(n + 1)
    return n


class LabError(RuntimeError):
    pass


def sh(*cmd, check=True, timeout=30, input=None, env=None):
    """Run a command, capture text output, raise LabError with output."""
    cmd = [str(c) for c in cmd]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, input=input, env=env)
    except subprocess.TimeoutExpired as e:
        raise LabError("timeout (%ss): %s" % (timeout, " ".join(cmd))) from e
    if check and p.returncode != 0:
        raise LabError("command failed (rc=%d): %s\nstdout: %s\nstderr: %s"
                       % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


# executable -> Debian package providing it
REQUIRED_TOOLS = {
    CHARON: "strongswan-charon",
    "/usr/sbin/swanctl": "strongswan-swanctl",
    "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so": "libcharon-extra-plugins",
    "/usr/lib/ipsec/plugins/libstrongswan-gmp.so": "libstrongswan-standard-plugins",
    "/usr/sbin/nft": "nftables",
    "/usr/sbin/ip": "iproute2",
    "/usr/bin/tcpdump": "tcpdump",
    "/usr/bin/ping": "iputils-ping",
    "/usr/bin/unshare": "util-linux",
}


def missing_prereqs():
    """List of human-readable problems preventing the lab from running
    (empty if fine)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (network namespaces)")
    missing = sorted({pkg for path, pkg in REQUIRED_TOOLS.items()
                      if not os.path.exists(path)})
    if missing:
        problems.append("missing packages: apt-get install " + " ".join(missing))
    if not os.path.exists("/dev/net/tun"):
        problems.append("/dev/net/tun missing (kernel-libipsec needs TUN)")
    return problems


def list_netns():
    p = sh("ip", "netns", "list", check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def cleanup_stale(prefix=NS_PREFIX):
    """Delete lab namespaces left over by dead test runs (owner pid gone).

    Namespace names are ``idt<pid>x<seq>-<role>``; only namespaces whose
    creator pid no longer exists are touched.  Returns the deleted names."""
    deleted = []
    for ns in list_netns():
        m = re.match(r"^%s(\d+)x\d+-" % re.escape(prefix), ns)
        if not m:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or os.path.exists("/proc/%d" % pid):
            continue
        _kill_ns_procs(ns)
        sh("ip", "netns", "del", ns, check=False)
        deleted.append(ns)
    return deleted


def _kill_ns_procs(ns, timeout=3):
    """SIGKILL every process living in namespace ns (only lab-started
    processes live there) and wait until they are gone."""
    deadline = time.time() + timeout
    while True:
        p = sh("ip", "netns", "pids", ns, check=False)
        pids = [int(t) for t in p.stdout.split() if t.isdigit()]
        if not pids or time.time() > deadline:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


# --------------------------------------------------------------------------
# vici raw output parsing (swanctl --list-sas --raw)
# --------------------------------------------------------------------------

def parse_vici_raw(text):
    """Parse swanctl --raw output: a sequence of
    ``<event-name> {key=value key=[a b] sect {..}}`` messages.  Returns list
    of (name, dict).  Values are strings, lists of strings or dicts."""
    tokens = re.findall(r"[{}\[\]=]|[^\s{}\[\]=]+", text)
    pos = 0

    def parse_section():
        nonlocal pos
        d = {}
        while pos < len(tokens):
            t = tokens[pos]
            if t == "}":
                pos += 1
                return d
            key = t
            pos += 1
            nxt = tokens[pos]
            if nxt == "{":
                pos += 1
                d[key] = parse_section()
            elif nxt == "=":
                pos += 1
                if tokens[pos] == "[":
                    pos += 1
                    lst = []
                    while tokens[pos] != "]":
                        lst.append(tokens[pos])
                        pos += 1
                    pos += 1
                    d[key] = lst
                elif tokens[pos] in ("}",):
                    d[key] = ""
                else:
                    d[key] = tokens[pos]
                    pos += 1
            else:
                raise LabError("vici parse error near %r" % tokens[pos - 3:pos + 3])
        return d

    msgs = []
    while pos < len(tokens):
        words = []
        while pos < len(tokens) and tokens[pos] != "{":
            words.append(tokens[pos])
            pos += 1
        if pos >= len(tokens):
            raise LabError("vici parse error at %r" % words)
        pos += 1
        # e.g. "list-sa event" -> "list-sa", "list-sas reply" -> "list-sas"
        msgs.append((words[0] if words else "", parse_section()))
    return msgs


# --------------------------------------------------------------------------
# pcap reading (tcpdump -w), Ethernet/Linux-SLL, IPv4 only
# --------------------------------------------------------------------------

def read_pcap(path):
    """Return a list of dicts for every IPv4 packet in a pcap file.

    Keys: ts, src, dst, ip_len, df, mf, frag_off, ttl, proto, and for UDP
    sport, dport, udp_len, payload (bytes), plus for UDP/4500 packets:
    kind ('esp' | 'ike' | 'keepalive'), spi, seq (ESP only)."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise LabError("not a pcap file: %s" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    out = []
    while off + 16 <= len(data):
        sec, frac, caplen, _origlen = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + caplen]
        off += caplen
        ts = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:        # Ethernet
            etype = struct.unpack("!H", frame[12:14])[0]
            l3 = 14
            if etype == 0x8100:
                etype = struct.unpack("!H", frame[16:18])[0]
                l3 = 18
        elif linktype == 113:    # Linux cooked v1
            etype = struct.unpack("!H", frame[14:16])[0]
            l3 = 16
        elif linktype in (101, 12):    # raw IP (e.g. capture on ipsec0)
            etype, l3 = 0x0800, 0
        else:
            raise LabError("unsupported linktype %d" % linktype)
        if etype != 0x0800 or len(frame) < l3 + 20:
            continue
        ip = frame[l3:]
        ihl = (ip[0] & 0x0F) * 4
        ip_len, = struct.unpack("!H", ip[2:4])
        flags_frag, = struct.unpack("!H", ip[6:8])
        pkt = dict(ts=ts,
                   src="%d.%d.%d.%d" % tuple(ip[12:16]),
                   dst="%d.%d.%d.%d" % tuple(ip[16:20]),
                   ip_len=ip_len, df=bool(flags_frag & 0x4000),
                   mf=bool(flags_frag & 0x2000), frag_off=flags_frag & 0x1FFF,
                   ttl=ip[8], proto=ip[9])
        if pkt["proto"] == 17 and pkt["frag_off"] == 0 and len(ip) >= ihl + 8:
            sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            payload = ip[ihl + 8:ip_len]
            pkt.update(sport=sport, dport=dport, udp_len=ulen, payload=payload)
            if NAT_T_PORT in (sport, dport):
                if len(payload) == 1 and payload[0] == 0xFF:
                    pkt["kind"] = "keepalive"
                elif len(payload) >= 4 and payload[:4] == b"\0\0\0\0":
                    pkt["kind"] = "ike"
                elif len(payload) >= 8:
                    pkt["kind"] = "esp"
                    pkt["spi"], pkt["seq"] = struct.unpack("!II", payload[:8])
        elif pkt["proto"] == 1 and len(ip) >= ihl + 8:
            pkt.update(icmp_type=ip[ihl], icmp_code=ip[ihl + 1])
        out.append(pkt)
    return out


class Capture:
    """tcpdump running in a namespace, writing a pcap; use as a context
    manager or call start()/stop().  packets() parses the pcap."""

    def __init__(self, lab, ns, iface, bpf="", name=None):
        self.lab = lab
        self.ns = ns
        self.iface = iface
        self.bpf = bpf
        name = name or "cap%d" % next(_seq)
        self.path = Path(lab.workdir) / (name + ".pcap")
        self.errpath = Path(lab.workdir) / (name + ".tcpdump.err")
        self.proc = None

    def start(self, timeout=10):
        cmd = ["ip", "netns", "exec", self.lab.ns(self.ns), "tcpdump", "-Z", "root",
               "-i", self.iface, "-n", "-U", "--immediate-mode", "-s", "2048",
               "-w", str(self.path)]
        if self.bpf:
            cmd += self.bpf.split()
        self._err = open(self.errpath, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=self._err, start_new_session=True)
        self.lab._procs.append(self.proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "listening on" in self.errpath.read_text(errors="replace"):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        err = self.errpath.read_text(errors="replace")
        self.stop()
        raise LabError("tcpdump did not start: %s" % err)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            time.sleep(0.1)   # let the last packets arrive
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_err", None):
            self._err.close()
            self._err = None
        return self

    def packets(self):
        return read_pcap(self.path) if self.path.exists() else []

    def esp(self, src=None, dst=None):
        return [p for p in self.packets() if p.get("kind") == "esp"
                and (src is None or p["src"] == src)
                and (dst is None or p["dst"] == dst)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class DropHandle:
    """Exact counters of one nft drop rule pair in the middle namespace:
    ``seen`` = matching packets evaluated, ``dropped`` = packets dropped."""

    def __init__(self, lab, name, handles):
        self.lab = lab
        self.name = name
        self.handles = handles  # rule handles (for removal)

    def _counter(self, which):
        return self.lab.nft_counter("%s_%s" % (self.name, which))

    @property
    def seen(self):
        return self._counter("seen")

    @property
    def dropped(self):
        return self._counter("drop")

    def remove(self):
        self.lab.nft_remove(self)

    def __repr__(self):
        return "<DropHandle %s seen=%d dropped=%d>" % (self.name, self.seen, self.dropped)


class Gateway:
    def __init__(self, lab, idx):
        self.idx = idx
        self.role = "gw%d" % idx
        self.ns = "%s-%s" % (lab.token, self.role)
        self.outer_ip = "192.0.2.%d" % idx
        self.lan_ip = "10.10.%d.1" % idx
        self.lan_net = "10.10.%d.0/24" % idx
        self.dir = Path(lab.workdir) / self.role
        self.vici = self.dir / "charon.vici"
        self.conf = self.dir / "strongswan.conf"
        self.swanctl_conf = self.dir / "swanctl.conf"
        self.log = self.dir / "charon.log"
        self.rundir = self.dir / "run"
        self.proc = None
        self.conns = []

    @property
    def uri(self):
        return "unix://%s" % self.vici


class Lab:
    """Real IPsec lab.  Usage::

        with Lab(tmp_path) as lab:
            sent, rcvd = lab.ping(10)

    Parameters:
      workdir          directory for configs, logs, pcaps (created; the lab's
                       own subdirectory is removed on exit unless keep=True)
      tunnels          1 (gw1<->gw2) or 2 (also gw1<->gw3)
      rekey_time       CHILD_SA rekey time in seconds for the initiator (gw1);
                       responders never rekey, rand_time=0 -> deterministic.
                       None = 1h (effectively never during a test).
      keep_alive       charon.keep_alive (NAT-T keepalives, 0 = off); note:
                       none were observed in this NAT-less topology anyway
      ipsec0_mtu       if set, applied to ipsec0 on all gateways after start
      start            if False, __enter__ only builds the network (no charon)
      esp_proposals    CHILD_SA proposal (the size formula assumes aes128-sha256)
      encap            swanctl "encap" (force NAT-T); ESP is UDP/4500 either way
      delete_rekeyed_delay  charon.delete_rekeyed_delay: after a rekey the old
                       CHILD_SA stays listed (state DELETED) and its inbound
                       SA keeps accepting packets this many seconds (default 5)
    """

    def __init__(self, workdir=None, rekey_time=None, tunnels=1, keep_alive=0,
                 ipsec0_mtu=None, psk="idt-lab-psk-0123456789", keep=False,
                 start=True, esp_proposals=ESP_PROPOSALS, encap=True,
                 delete_rekeyed_delay=5):
        if tunnels not in (1, 2):
            raise ValueError("tunnels must be 1 or 2")
        self.token = "%s%dx%d" % (NS_PREFIX, os.getpid(), next(_seq))
        base = Path(workdir) if workdir else Path(tempfile.gettempdir())
        self.workdir = base / self.token
        self.rekey_time = rekey_time
        self.tunnels = tunnels
        self.keep_alive = keep_alive
        self.initial_ipsec0_mtu = ipsec0_mtu
        self.psk = psk
        self.keep = keep
        self.start_charons = start
        self.esp_proposals = esp_proposals
        self.encap = encap
        self.delete_rekeyed_delay = delete_rekeyed_delay
        self.mid = "%s-mid" % self.token
        self.gws = {}
        for i in range(1, 2 + tunnels):
            gw = Gateway(self, i)
            self.gws[gw.role] = gw
        # connection == CHILD_SA names; gw1 always initiates
        self.tunnel_names = ["gw1-gw%d" % i for i in range(2, 2 + tunnels)]
        self._namespaces = []
        self._procs = []
        self._nft_objs = itertools.count()

    # ------------------------------------------------------------------ util
    def ns(self, name):
        """Real namespace name for 'gw1', 'gw2', 'gw3' or 'mid'."""
        if name == "mid":
            return self.mid
        if name in self.gws:
            return self.gws[name].ns
        if name in self._namespaces:
            return name
        raise KeyError(name)

    def gw(self, name):
        return self.gws[name]

    def run(self, ns, *cmd, check=True, timeout=30, input=None, env=None):
        """Run cmd inside namespace ``ns`` ('gw1', 'mid', ...)."""
        return sh("ip", "netns", "exec", self.ns(ns), *cmd, check=check,
                  timeout=timeout, input=input, env=env)

    def popen(self, ns, *cmd, **kw):
        """Start a background process in a namespace; it is killed on exit."""
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(ns)] + [str(c) for c in cmd], **kw)
        self._procs.append(p)
        return p

    # ---------------------------------------------------------- lifecycle
    def __enter__(self):
        with _live_lock:
            _live_labs.add(self)
        try:
            self._setup()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._teardown()
        finally:
            with _live_lock:
                _live_labs.discard(self)
        return False

    def _setup(self):
        problems = missing_prereqs()
        if problems:
            raise LabError("lab prerequisites: " + "; ".join(problems))
        cleanup_stale()
        self.workdir.mkdir(parents=True, exist_ok=True)
        existing = set(list_netns())
        for ns in [self.mid] + [g.ns for g in self.gws.values()]:
            if ns in existing:
                raise LabError("namespace %s already exists" % ns)
        self._build_network()
        self.nft_clear()
        if self.start_charons:
            for gw in self.gws.values():
                self._write_configs(gw)
                self._start_charon(gw)
            for gw in self.gws.values():
                self._load(gw)
            for t in self.tunnel_names:
                self.initiate(t)
            if self.initial_ipsec0_mtu:
                for g in self.gws:
                    self.set_ipsec0_mtu(g, self.initial_ipsec0_mtu)
            for i in range(2, 2 + self.tunnels):
                self._wait_ping(dst="10.10.%d.1" % i)

    def _add_ns(self, name):
        sh("ip", "netns", "add", name)
        self._namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", name, "sysctl", "-qw",
           "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1",
           "net.ipv4.ip_forward=1")

    def _build_network(self):
        self._add_ns(self.mid)
        m = self.mid
        sh("ip", "-n", m, "link", "add", "br0", "type", "bridge",
           "stp_state", "0", "forward_delay", "0")
        sh("ip", "-n", m, "link", "set", "br0", "up")
        for gw in self.gws.values():
            self._add_ns(gw.ns)
            port = "m%d" % gw.idx
            sh("ip", "-n", gw.ns, "link", "add", "out0", "type", "veth",
               "peer", "name", port, "netns", m)
            sh("ip", "-n", m, "link", "set", port, "master", "br0")
            sh("ip", "-n", m, "link", "set", port, "up")
            sh("ip", "-n", gw.ns, "addr", "add", gw.outer_ip + "/24", "dev", "out0")
            sh("ip", "-n", gw.ns, "link", "set", "out0", "up")
            sh("ip", "-n", gw.ns, "link", "add", "lan0", "type", "veth",
               "peer", "name", "lanp")
            sh("ip", "-n", gw.ns, "addr", "add", gw.lan_ip + "/24", "dev", "lan0")
            sh("ip", "-n", gw.ns, "link", "set", "lanp", "up")
            sh("ip", "-n", gw.ns, "link", "set", "lan0", "up")
        # outer connectivity check (also fills ARP caches)
        for gw in list(self.gws.values())[1:]:
            self.run("gw1", "ping", "-n", "-q", "-c", "1", "-W", "2",
                     gw.outer_ip, timeout=10)

    def _render(self, template, **kw):
        text = (LAB_TEMPLATES / template).read_text()
        return string.Template(text).substitute(**kw)

    def _write_configs(self, gw):
        gw.dir.mkdir(parents=True, exist_ok=True)
        gw.rundir.mkdir(exist_ok=True)
        gw.conf.write_text(self._render(
            "strongswan.conf.in", plugins=PLUGINS, vici_socket=gw.vici,
            logfile=gw.log, keep_alive=self.keep_alive,
            delete_rekeyed_delay=self.delete_rekeyed_delay))
        parts = []
        pairs = []
        if gw.role == "gw1":
            pairs = [(self.gws["gw%d" % i], "gw1-gw%d" % i) for i in range(2, 2 + self.tunnels)]
        else:
            pairs = [(self.gws["gw1"], "gw1-%s" % gw.role)]
        for peer, conn in pairs:
            initiator = gw.role == "gw1"
            if initiator and self.rekey_time:
                rekey, life = str(int(self.rekey_time)), str(int(self.rekey_time) * 2)
            elif initiator:
                rekey, life = "3600", "7200"
            else:
                # responder never rekeys itself, and must not expire the SA
                # before the initiator rekeys it
                rekey, life = "0", "0"
            parts.append(self._render(
                "swanctl-conn.conf.in", conn=conn,
                local_outer=gw.outer_ip, remote_outer=peer.outer_ip,
                local_id=gw.outer_ip, remote_id=peer.outer_ip,
                local_ts=gw.lan_net, remote_ts=peer.lan_net,
                esp_proposals=self.esp_proposals, child_rekey_time=rekey,
                child_life_time=life, encap="yes" if self.encap else "no",
                psk=self.psk))
            gw.conns.append(conn)
        gw.swanctl_conf.write_text("\n".join(parts))

    def _env(self, gw):
        env = dict(os.environ)
        env["STRONGSWAN_CONF"] = str(gw.conf)
        return env

    def _start_charon(self, gw):
        script = "mount --bind %s /run && exec %s" % (gw.rundir, CHARON)
        out = open(gw.dir / "charon.stdout", "w")
        gw.proc = subprocess.Popen(
            ["ip", "netns", "exec", gw.ns, "unshare", "-m", "sh", "-c", script],
            env=self._env(gw), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self._procs.append(gw.proc)
        deadline = time.time() + 15
        while time.time() < deadline:
            if gw.proc.poll() is not None:
                raise LabError("charon in %s exited rc=%s:\n%s" % (
                    gw.ns, gw.proc.returncode, self.log_tail(gw.role)))
            if gw.vici.exists():
                return
            time.sleep(0.05)
        raise LabError("charon in %s: no vici socket\n%s" % (gw.ns, self.log_tail(gw.role)))

    def swanctl(self, gw, *args, check=True, timeout=30):
        g = self.gws[gw]
        return self.run(gw, SWANCTL, *args, "--uri", g.uri, check=check,
                        timeout=timeout, env=self._env(g))

    def _load(self, gw):
        self.swanctl(gw.role, "--load-all", "--noprompt", "--file", gw.swanctl_conf)

    def initiate(self, tunnel="gw1-gw2", timeout=20):
        p = self.swanctl("gw1", "--initiate", "--child", tunnel, "--timeout",
                         str(timeout), check=False, timeout=timeout + 5)
        if p.returncode != 0:
            raise LabError("initiate %s failed:\n%s\n%s\n--- gw1 log:\n%s" % (
                tunnel, p.stdout, p.stderr, self.log_tail("gw1")))
        self.wait_installed(tunnel, timeout=timeout)

    def rekey(self, tunnel="gw1-gw2"):
        """Trigger an immediate CHILD_SA rekey from gw1; returns the new SA."""
        old = {s["spi_in"] for s in self.sas("gw1") if s["child"] == tunnel}
        self.swanctl("gw1", "--rekey", "--child", tunnel)
        return self.wait_new_sa(tunnel, old)

    def wait_new_sa(self, tunnel, old_spis_in, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for s in self.sas("gw1"):
                if (s["child"] == tunnel and s["state"] == "INSTALLED"
                        and s["spi_in"] not in old_spis_in):
                    return s
            time.sleep(0.1)
        raise LabError("no new CHILD_SA for %s within %ss" % (tunnel, timeout))

    def wait_installed(self, tunnel="gw1-gw2", timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for s in self.sas("gw1"):
                if s["child"] == tunnel and s["state"] == "INSTALLED":
                    return s
            time.sleep(0.1)
        raise LabError("CHILD_SA %s not INSTALLED\n%s" % (tunnel, self.log_tail("gw1")))

    def _wait_ping(self, dst, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ping(1, dst=dst, wait=1)[1] == 1:
                return
            time.sleep(0.1)
        raise LabError("no ping through tunnel to %s\n%s" % (dst, self.log_tail("gw1")))

    def log_tail(self, gw, lines=40):
        try:
            return "\n".join(self.gws[gw].log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _teardown(self):
        # stop captures and other helpers first, then charons
        for p in reversed(self._procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGTERM)
        deadline = time.time() + 5
        for p in self._procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(2)
        self._procs = []
        for ns in reversed(self._namespaces):
            # anything still in the namespace was started by us
            _kill_ns_procs(ns)
            sh("ip", "netns", "del", ns, check=False)
        self._namespaces = []
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------ traffic
    def ping(self, count, size=None, df=False, interval=0.01, src=None,
             dst="10.10.2.1", wait=1, ns="gw1", timeout=None):
        """ping from gw1's LAN address through the tunnel.
        Returns (transmitted, received)."""
        if src is None:
            src = self.gws[ns].lan_ip if ns in self.gws else "10.10.1.1"
        cmd = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval),
               "-W", str(wait), "-I", src]
        if size is not None:
            cmd += ["-s", str(size)]
        if df:
            cmd += ["-M", "do"]
        cmd.append(dst)
        if timeout is None:
            timeout = count * max(interval, 0.002) + wait + 15
        p = self.run(ns, *cmd, check=False, timeout=timeout)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        if not m:
            raise LabError("cannot parse ping output:\n%s\n%s" % (p.stdout, p.stderr))
        return int(m.group(1)), int(m.group(2))

    def capture(self, ns="mid", iface="m1", bpf="udp port 4500", name=None):
        """Return a (not yet started) Capture; use ``with lab.capture() as c``."""
        return Capture(self, ns, iface, bpf, name)

    # ----------------------------------------------------------------- nft
    def nft(self, *args, ns="mid", check=True):
        return self.run(ns, "nft", *args, check=check)

    def nft_clear(self):
        """Remove all lab filtering in the middle namespace (fresh table)."""
        self.nft("delete", "table", "bridge", "idt", check=False)
        self.run("mid", "nft", "-f", "-", input=(
            "table bridge idt {\n"
            "  chain forward { type filter hook forward priority 0; policy accept; }\n"
            "}\n"))

    def nft_counter(self, name):
        p = self.nft("-j", "list", "counter", "bridge", "idt", name)
        for item in json.loads(p.stdout)["nftables"]:
            if "counter" in item:
                return int(item["counter"]["packets"])
        raise LabError("counter %s not found" % name)

    def _direction_match(self, direction):
        if direction in (None, "both", "any"):
            return ""
        m = re.match(r"^(gw\d)\s*->\s*(gw\d)$", direction)
        if not m:
            raise ValueError("direction must look like 'gw2->gw1'")
        a, b = self.gws[m.group(1)], self.gws[m.group(2)]
        return "ip saddr %s ip daddr %s " % (a.outer_ip, b.outer_ip)

    def _add_rules(self, name, match, decision):
        """seen counter rule + drop rule; returns DropHandle."""
        self.nft("add", "counter", "bridge", "idt", name + "_seen")
        self.nft("add", "counter", "bridge", "idt", name + "_drop")
        handles = []
        for rule in ('%s counter name "%s_seen"' % (match, name),
                     '%s %s counter name "%s_drop" drop' % (match, decision, name)):
            p = self.run("mid", "nft", "--echo", "--handle", "add", "rule",
                         "bridge", "idt", "forward", *rule.split())
            m = re.search(r"# handle (\d+)", p.stdout)
            handles.append(int(m.group(1)) if m else None)
        return DropHandle(self, name, handles)

    def nft_drop_esp(self, direction="gw2->gw1", every_nth=None, probability=None,
                     exact=None, spi=None):
        """Drop ESP (UDP/4500, non-zero first 4 payload bytes) in the middle.

        Exactly one of:
          exact=N        drop the first N matching ESP packets, then none
          every_nth=N    drop matching packets number N, 2N, 3N, ...
          probability=p  drop each matching packet with probability p
        spi=0x..       only packets of this SPI.
        Returns a DropHandle with exact .seen / .dropped counters."""
        if sum(x is not None for x in (every_nth, probability, exact)) != 1:
            raise ValueError("give exactly one of every_nth, probability, exact")
        match = self._direction_match(direction) + "udp dport %d @th,64,32 != 0" % NAT_T_PORT
        if spi is not None:
            match += " @th,64,32 0x%08x" % spi
        if exact is not None:
            decision = "numgen inc mod 4000000000 < %d" % int(exact)
        elif every_nth is not None:
            decision = "numgen inc mod %d == %d" % (int(every_nth), int(every_nth) - 1)
        else:
            decision = "numgen random mod 1000000 < %d" % int(round(probability * 1000000))
        return self._add_rules("esp%d" % next(self._nft_objs), match, decision)

    def nft_blackhole_above(self, outer_ip_len, direction=None, udp4500_only=False):
        """Silently drop every IPv4 packet with total length > outer_ip_len
        crossing the middle (no ICMP is generated).  Returns a DropHandle
        (seen = packets above the limit = dropped)."""
        match = self._direction_match(direction)
        if udp4500_only:
            match += "udp dport %d " % NAT_T_PORT
        match += "ip length > %d" % int(outer_ip_len)
        return self._add_rules("bh%d" % next(self._nft_objs), match, "")

    def nft_remove(self, handle):
        for h in handle.handles:
            if h is not None:
                self.nft("delete", "rule", "bridge", "idt", "forward", "handle", str(h),
                         check=False)

    def nft_ruleset(self):
        return self.nft("list", "table", "bridge", "idt").stdout

    # --------------------------------------------------------------- state
    def sas(self, gw="gw1"):
        """CHILD_SAs known to ``gw``: list of dicts with keys ike, ike_state,
        child, state, spi_in, spi_out (ints), local_ts, remote_ts, reqid,
        uniqueid, bytes_in, bytes_out, packets_in, packets_out, encap,
        local_host, remote_host, local_port, remote_port."""
        p = self.swanctl(gw, "--list-sas", "--raw")
        out = []
        for name, msg in parse_vici_raw(p.stdout):
            if name != "list-sa":
                continue
            for ike_name, ike in msg.items():
                for child_key, ch in ike.get("child-sas", {}).items():
                    out.append(dict(
                        ike=ike_name, ike_state=ike.get("state"),
                        local_host=ike.get("local-host"), remote_host=ike.get("remote-host"),
                        local_port=int(ike.get("local-port", 0)),
                        remote_port=int(ike.get("remote-port", 0)),
                        child=ch.get("name", child_key), state=ch.get("state"),
                        uniqueid=ch.get("uniqueid"), reqid=ch.get("reqid"),
                        spi_in=int(ch.get("spi-in", "0"), 16),
                        spi_out=int(ch.get("spi-out", "0"), 16),
                        encap=ch.get("encap") == "yes",
                        bytes_in=int(ch.get("bytes-in", 0)),
                        bytes_out=int(ch.get("bytes-out", 0)),
                        packets_in=int(ch.get("packets-in", 0)),
                        packets_out=int(ch.get("packets-out", 0)),
                        local_ts=ch.get("local-ts", []),
                        remote_ts=ch.get("remote-ts", []),
                        raw=ch))
        return out

    def flush_route_cache(self, gws=None):
        """Flush cached routes incl. learned PMTU exceptions on gateways."""
        for g in gws or self.gws:
            sh("ip", "-n", self.ns(g), "route", "flush", "cache")

    def inject_frag_needed(self, gw="gw1", peer="gw2", mtu=1200):
        """Make ``gw`` learn an outer path MTU of ``mtu`` towards ``peer``'s
        outer address by sending it an ICMP frag-needed from ``peer``'s
        namespace.  Afterwards charon's ESP-in-UDP packets larger than ``mtu``
        are fragmented locally by gw (DF cleared!) instead of being sent
        with DF.  flush_route_cache() undoes it."""
        self.run(peer, "/usr/bin/python3", LAB_TEMPLATES / "send_frag_needed.py",
                 self.gws[gw].outer_ip, self.gws[peer].outer_ip, str(int(mtu)))
        deadline = time.time() + 2
        while time.time() < deadline:
            if "mtu %d" % mtu in self.route_get(self.gws[peer].outer_ip, None, gw):
                return
            time.sleep(0.02)
        raise LabError("PMTU exception not created on %s" % gw)

    def set_ipsec0_mtu(self, gw, mtu):
        sh("ip", "-n", self.ns(gw), "link", "set", "ipsec0", "mtu", str(int(mtu)))

    def ipsec0_mtu(self, gw):
        p = sh("ip", "-n", self.ns(gw), "-j", "link", "show", "ipsec0")
        return int(json.loads(p.stdout)[0]["mtu"])

    def route_get(self, dst="10.10.2.1", src="10.10.1.1", gw="gw1"):
        cmd = ["ip", "-n", self.ns(gw), "route", "get", dst]
        if src:
            cmd += ["from", src]
        return sh(*cmd).stdout
