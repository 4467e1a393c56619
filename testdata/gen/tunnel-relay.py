#!/usr/bin/env python3
"""Userspace tunnel endpoints for the gen__ws-tunnels-userspace capture.

The kernel of the machines that recorded wsdump's fixtures has VXLAN built
in but no GRE, GENEVE, IP-in-IP, SIT or ip6 tunnel drivers (and no modules
to load), so those tunnels are carried here the way userspace datapaths
(e.g. OVS with DPDK) carry them: a TUN or TAP device per tunnel, read and
written by this process, which adds or strips the tunnel header and sends
the result over the underlay with the kernel's own sockets. The kernel
writes the outer IPv4/IPv6 header (raw sockets of protocol 47, 4 or 41)
and the outer UDP header (GENEVE's UDP socket on port 6081); this program
writes only the tunnel header:

  gre     GRE (RFC 2784, 2890) with key, protocol 0x0800, over IPv4: TUN device
  gretap  GRE without key, protocol 0x6558 (Ethernet inside), over IPv4: TAP device
  erspan  ERSPAN type II (draft-foschiano-erspan-03): GRE with sequence numbers,
          protocol 0x88BE, the 8-byte ERSPAN header (version 1, session ID KEY,
          no VLAN), then the Ethernet frame, over IPv4: TAP device
  geneve  GENEVE (RFC 8926) VNI, protocol 0x6558, UDP 6081 over IPv4: TAP device
  ipip    IPv4 in IPv4 (RFC 2003), IP protocol 4: TUN device
  sit     IPv6 in IPv4 (RFC 4213), IP protocol 41: TUN device
  ip6gre  GRE without key, protocol 0x0800 (IPv4 inside), over IPv6: TUN device
  ip6ip6  IPv6 in IPv6 (RFC 2473, without the encapsulation limit option): TUN device

usage: tunnel-relay.py SPEC...   (run inside the endpoint's network namespace)
  SPEC = KIND,DEVICE,LOCAL,REMOTE[,KEY]   e.g. gre,wst-gre,192.0.2.1,192.0.2.2,1234
  (KEY: the GRE key, the GENEVE VNI, or the ERSPAN session ID)
Prints "ready" on stdout once every device exists, then relays until killed.
Packets that match no tunnel, or are not of the expected form, are counted
and reported on stderr at exit, never forwarded.
"""

import fcntl
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
GENEVE_PORT = 6081

KINDS = {
    # kind: (tap?, outer family, IP protocol or "udp", GRE protocol type)
    "gre": (False, socket.AF_INET, 47, 0x0800),
    "gretap": (True, socket.AF_INET, 47, 0x6558),
    "erspan": (True, socket.AF_INET, 47, 0x88BE),
    "geneve": (True, socket.AF_INET, "udp", 0x6558),
    "ipip": (False, socket.AF_INET, 4, None),
    "sit": (False, socket.AF_INET, 41, None),
    "ip6gre": (False, socket.AF_INET6, 47, 0x0800),
    "ip6ip6": (False, socket.AF_INET6, 41, None),
}


class Tunnel:
    def __init__(self, spec):
        parts = spec.split(",")
        self.kind, self.dev, addrs = parts[0], parts[1], parts[2:]
        self.local, self.remote = addrs[0], addrs[1]
        self.key = int(addrs[2]) if len(addrs) > 2 else None
        self.tap, self.family, self.proto, self.gre_type = KINDS[self.kind]
        self.vni = self.key if self.kind in ("geneve", "erspan") else None
        if self.vni is not None:
            self.key = None  # not a GRE key
        self.seq = 0
        fd = os.open("/dev/net/tun", os.O_RDWR)
        flags = (IFF_TAP if self.tap else IFF_TUN) | IFF_NO_PI
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", self.dev.encode(), flags))
        self.fd = fd

    def header(self, inner):
        """The tunnel header for one inner packet or frame."""
        if self.kind == "geneve":
            # Ver 0, option length 0, O and C clear, protocol; VNI, reserved.
            return struct.pack("!BBHI", 0, 0, self.gre_type, self.vni << 8)
        if self.kind == "erspan":
            # GRE with S (sequence number); ERSPAN II: Ver 1 and VLAN 0; COS 0,
            # En 0 (no VLAN tag), T 0, session ID; reserved, index 0.
            self.seq = (self.seq + 1) & 0xFFFFFFFF
            return struct.pack("!HHIHHI", 0x1000, self.gre_type, self.seq, 1 << 12, self.vni & 0x3FF, 0)
        if self.gre_type is not None:
            if self.key is not None:
                return struct.pack("!HHI", 0x2000, self.gre_type, self.key)  # K bit
            return struct.pack("!HH", 0, self.gre_type)
        return b""


def open_sockets(tunnels):
    """One underlay socket per (family, protocol, local address)."""
    socks = {}
    for t in tunnels:
        k = (t.family, t.proto, t.local)
        if k in socks:
            continue
        if t.proto == "udp":
            s = socket.socket(t.family, socket.SOCK_DGRAM)
            s.bind((t.local, GENEVE_PORT))
        else:
            s = socket.socket(t.family, socket.SOCK_RAW, t.proto)
            s.bind((t.local, 0))
        socks[k] = s
    return socks


def decap(t, family, proto, b):
    """The inner packet of tunnel t in an underlay payload b, or None."""
    if t.kind == "geneve":
        if len(b) < 8 or b[0] >> 6 != 0:
            return None
        optlen = (b[0] & 0x3F) * 4
        ptype, vni = struct.unpack("!HI", b[2:8])
        if ptype != t.gre_type or vni >> 8 != t.vni:
            return None
        return b[8 + optlen:]
    if t.gre_type is not None:
        if len(b) < 4:
            return None
        flags, ptype = struct.unpack("!HH", b[:4])
        if flags & 0x0007 or ptype != t.gre_type:  # version 0 only
            return None
        off = 4
        if flags & 0x8000:  # checksum + reserved
            off += 4
        key = None
        if flags & 0x2000:
            key = struct.unpack("!I", b[off:off + 4])[0]
            off += 4
        if flags & 0x1000:  # sequence number
            off += 4
        if key != t.key:
            return None
        if t.kind == "erspan":
            if len(b) < off + 8:
                return None
            ver, session = struct.unpack("!HH", b[off:off + 4])
            if ver >> 12 != 1 or session & 0x3FF != t.vni:
                return None
            off += 8
        return b[off:]
    return b


def main():
    tunnels = [Tunnel(s) for s in sys.argv[1:]]
    socks = open_sockets(tunnels)
    by_fd = {t.fd: t for t in tunnels}
    by_sock = {s.fileno(): (k, s) for k, s in socks.items()}
    dropped = 0
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print("ready", flush=True)
    try:
        while True:
            r, _, _ = select.select(list(by_fd) + list(by_sock), [], [])
            for fd in r:
                if fd in by_fd:
                    t = by_fd[fd]
                    inner = os.read(fd, 65536)
                    s = socks[(t.family, t.proto, t.local)]
                    port = GENEVE_PORT if t.proto == "udp" else 0
                    s.sendto(t.header(inner) + inner, (t.remote, port))
                    continue
                (family, proto, local), s = by_sock[fd]
                b, src = s.recvfrom(65536)
                if family == socket.AF_INET and proto != "udp":
                    b = b[(b[0] & 0x0F) * 4:]  # raw IPv4 sockets see the IP header
                for t in tunnels:
                    if (t.family, t.proto, t.local) != (family, proto, local) or src[0] != t.remote:
                        continue
                    inner = decap(t, family, proto, b)
                    if inner is not None:
                        os.write(t.fd, inner)
                        break
                else:
                    dropped += 1
    except KeyboardInterrupt:
        pass
    if dropped:
        print(f"tunnel-relay: {dropped} underlay packets matched no tunnel", file=sys.stderr)


if __name__ == "__main__":
    main()
