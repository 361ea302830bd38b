"""Packet injection in the lab's middle namespace, for test_ike_lab.py.
Run inside the namespace (ip netns exec TOKEN-mid python3 ike_inject.py ...).

  send OUT_IFACE HEX...      send each hex-encoded Ethernet frame out of
                             OUT_IFACE (exact replays of captured frames);
                             prints "sent N"
  bump IN OUT SRC N SECONDS  bump-in-the-wire: for the first N ESP-in-UDP
                             frames (UDP/4500, non-zero SPI) from IPv4 SRC
                             arriving on IN, send a copy out of OUT with the
                             last byte of the UDP payload (the ICV) flipped
                             and the UDP checksum set to 0 (none, legal for
                             IPv4), sequence number untouched; the originals
                             are dropped in the bridge by nftables.  Prints
                             "ready" once listening, then "bumped N" and
                             the (spi, seq) of each frame.
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def send(iface, frames):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for f in frames:
        s.send(f)
    s.close()
    print("sent %d" % len(frames), flush=True)


def esp_of(frame, src):
    """(ip offset, udp offset, spi, seq) of an ESP-in-UDP IPv4 frame from src, else None."""
    if len(frame) < 14 + 20 + 8 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = 14
    ihl = (frame[ip] & 0x0F) * 4
    if frame[ip + 9] != 17 or socket.inet_ntoa(frame[ip + 12:ip + 16]) != src:
        return None
    if struct.unpack("!H", frame[ip + 6:ip + 8])[0] & 0x3FFF:
        return None                                 # a fragment
    udp = ip + ihl
    dport = struct.unpack("!H", frame[udp + 2:udp + 4])[0]
    spi, seq = struct.unpack("!II", frame[udp + 8:udp + 16])
    if dport != 4500 or spi == 0:
        return None
    return ip, udp, spi, seq


def bump(iface_in, iface_out, src, n, seconds):
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((iface_in, 0))
    rx.settimeout(0.2)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((iface_out, 0))
    print("ready", flush=True)
    done = []
    end = time.monotonic() + seconds
    while len(done) < n and time.monotonic() < end:
        try:
            frame, addr = rx.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        e = esp_of(frame, src)
        if not e:
            continue
        ip, udp, spi, seq = e
        ip_len = struct.unpack("!H", frame[ip + 2:ip + 4])[0]
        end_udp = ip + ip_len                       # the ICV ends the UDP payload
        f = bytearray(frame)
        f[end_udp - 1] ^= 0xFF
        f[udp + 6:udp + 8] = b"\0\0"
        tx.send(bytes(f))
        done.append((spi, seq))
    print("bumped %d" % len(done), flush=True)
    for spi, seq in done:
        print("%08x %d" % (spi, seq), flush=True)


def main(argv):
    if argv[1] == "send":
        send(argv[2], [bytes.fromhex(h) for h in argv[3:]])
    elif argv[1] == "bump":
        bump(argv[2], argv[3], argv[4], int(argv[5]), float(argv[6]))
    else:
        raise SystemExit("usage: see the module docstring")


if __name__ == "__main__":
    main(sys.argv)
