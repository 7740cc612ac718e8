#!/usr/bin/python3
"""Records when each datagram reached a socket, by the kernel's clock (SO_TIMESTAMPNS).

On loopback the kernel queues a datagram in the sender's own send call, so these times are
when the sender sent, whatever this process's scheduling: a sender's bursts can be read here on
a busy machine. The buffer is large (4 MiB asked) so that nothing is lost. Touches --ready-file
once bound; stops after --idle-exit seconds without a datagram (once one has come) and prints
one JSON object: {"datagrams": N, "firstBytes": [...], "nanoseconds": [...]} (times relative
to the first datagram).
"""
import argparse
import json
import socket
import struct

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--ready-file", required=True)
parser.add_argument("--idle-exit", type=float, default=1.5)
args = parser.parse_args()

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
sock.bind(("127.0.0.1", args.port))
open(args.ready_file, "w").close()

first_bytes = []
times = []
while True:
    if times:
        sock.settimeout(args.idle_exit)
    try:
        data, ancillary, _flags, _addr = sock.recvmsg(65536, 256)
    except socket.timeout:
        break
    stamp = None
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            stamp = seconds * 1_000_000_000 + nanoseconds
    if stamp is None:
        raise SystemExit("arrival_clock: the kernel gave no receive timestamp")
    first_bytes.append(data[0] if data else -1)
    times.append(stamp)

origin = times[0] if times else 0
print(json.dumps({"datagrams": len(times), "firstBytes": first_bytes, "nanoseconds": [t - origin for t in times]}))
