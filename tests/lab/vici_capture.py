"""Record the raw VICI packets a real charon of the lab (tests/integration/lab.py)
sends -- list-sa, child-rekey, ike-updown, child-updown -- and print them as the
C arrays of tests/unit/vici_fixtures.h.  Run as root: python3 tests/lab/vici_capture.py tests/integration"""
import socket, struct, sys, time, threading
sys.path.insert(0, sys.argv[1])
import lab as L

def pkt(t, name=None, msg=b""):
    b = bytes([t])
    if name is not None:
        b += bytes([len(name)]) + name.encode()
    b += msg
    return struct.pack(">I", len(b)) + b

def recv(s):
    h = b""
    while len(h) < 4:
        c = s.recv(4 - len(h))
        if not c: raise EOFError
        h += c
    n = struct.unpack(">I", h)[0]
    d = b""
    while len(d) < n:
        d += s.recv(n - len(d))
    return d

out = []
with L.Lab("/tmp/vcap") as lab:
    gw = lab.gw("gw1")
    s = socket.socket(socket.AF_UNIX); s.connect(str(gw.vici))
    for ev in ("ike-updown", "child-updown", "ike-rekey", "child-rekey", "list-sa"):
        s.sendall(pkt(3, ev)); assert recv(s)[0] == 5
    s.sendall(pkt(0, "list-sas"))
    while True:
        d = recv(s)
        if d[0] == 7: out.append(("list_sa", d))
        if d[0] == 1: break
    def later():
        time.sleep(0.5)
        lab.swanctl("gw1", "--rekey", "--child", "gw1-gw2")
        time.sleep(1.5)
        lab.swanctl("gw1", "--terminate", "--ike", "gw1-gw2")
    threading.Thread(target=later, daemon=True).start()
    s.settimeout(6)
    try:
        while True:
            d = recv(s)
            nl = d[1]; name = d[2:2+nl].decode()
            out.append((name.replace("-", "_"), d))
    except (socket.timeout, EOFError):
        pass
for i, (n, d) in enumerate(out):
    print("/* %s */" % n)
    print("static const uint8_t cap_%d_%s[] = {" % (i, n))
    for k in range(0, len(d), 16):
        print("    " + ", ".join("0x%02x" % b for b in d[k:k+16]) + ",")
    print("};")
