# Runs the seed's server (tools/seed/seed_server.py) unchanged, with clocks around what it
# does between two reads: each recvfrom's return and call, VideoWriter.write, imshow and
# waitKey. Usage: python3 seed_timing.py TIMES.json SERVER.py [server arguments...]
# At exit TIMES.json holds, per frame (slot 19 read), the milliseconds from that read's
# return to the next recvfrom call ("busy": nothing is read meanwhile), and the time inside
# write, imshow and waitKey; and per datagram its slot and the time its read returned.
import json
import runpy
import socket
import sys
import time

import cv2

out_path, server_path, server_args = sys.argv[1], sys.argv[2], sys.argv[3:]
clock = time.perf_counter
reads = []  # (slot, seconds at return)
calls = []  # seconds at each recvfrom call
spent = {"write": [], "imshow": [], "waitKey": []}


class TimedSocket(socket.socket):
    def recvfrom(self, *args):
        calls.append(clock())
        data, addr = super().recvfrom(*args)
        reads.append((data[0] if data else -1, clock()))
        return data, addr


socket.socket = TimedSocket

_VideoWriter = cv2.VideoWriter


class TimedWriter:
    def __init__(self, *args):
        self._writer = _VideoWriter(*args)

    def write(self, frame):
        start = clock()
        self._writer.write(frame)
        spent["write"].append(clock() - start)

    def __getattr__(self, name):
        return getattr(self._writer, name)


cv2.VideoWriter = TimedWriter


def timed(name, function):
    def wrapper(*args):
        start = clock()
        try:
            return function(*args)
        finally:
            spent[name].append(clock() - start)

    return wrapper


cv2.imshow = timed("imshow", cv2.imshow)
cv2.waitKey = timed("waitKey", cv2.waitKey)

sys.argv = [server_path, *server_args]
try:
    runpy.run_path(server_path, run_name="__main__")
finally:
    busy = []
    for i, (slot, at) in enumerate(reads):
        if slot == 19 and i + 1 < len(calls):
            busy.append((calls[i + 1] - at) * 1000)
    with open(out_path, "w") as f:
        json.dump(
            {
                "busyMs": busy,
                "writeMs": [s * 1000 for s in spent["write"]],
                "imshowMs": [s * 1000 for s in spent["imshow"]],
                "waitKeyMs": [s * 1000 for s in spent["waitKey"]],
                "reads": [[slot, at] for slot, at in reads],
            },
            f,
        )
