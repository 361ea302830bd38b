#!/usr/bin/python3
"""Send one ICMP "fragmentation needed" (type 3 code 4) to a lab gateway.

Usage (inside a lab namespace):
    send_frag_needed.py TARGET_IP ORIG_DST_IP MTU

The ICMP quotes an ICMP *echo reply* TARGET_IP -> ORIG_DST_IP: Linux
(icmp_err) only updates the PMTU for quoted ICMP packets that are echo replies
(other quoted ICMP types go to ping_err()).  Result on TARGET: a PMTU
exception "ORIG_DST_IP ... cache expires 600sec mtu MTU" (see
`ip route get ORIG_DST_IP`).  The ICMP's source address is the one of the
namespace this runs in; Linux does not check it.
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def iphdr(src, dst, proto, payload_len):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 1, 0x4000, 64,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def main():
    target, orig_dst, mtu = sys.argv[1], sys.argv[2], int(sys.argv[3])
    echo_reply = struct.pack("!BBHHH", 0, 0, 0, 1, 1)
    quoted = iphdr(target, orig_dst, 1, 1480) + echo_reply
    icmp = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quoted
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(icmp, (target, 0))


if __name__ == "__main__":
    main()
