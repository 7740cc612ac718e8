# The seed's server (../shared/seed, "Server" second version), adapted for a test host.
# Kept from the seed: the logic and the wire format -- 20 slots of 46,080 bytes
# initialised to 0xFF; each datagram's first byte is its slot; when slot 19
# arrives the slots are joined into a 640x480 BGR frame, shown, and written to a
# DIVX VideoWriter at 25 fps.
# Adapted, and only this:
#   - address, port and output path come from arguments;
#   - the window is shown only when a display exists (imshow without one aborts);
#   - it stops after --frames N frames or --idle-exit S seconds without a datagram
#     (the seed stops only on 'q' in its window), then releases the writer;
#   - --rcvbuf asks for a larger socket receive buffer (benchmarks; default: the
#     system's, like the seed);
#   - numpy.frombuffer instead of the removed numpy.fromstring.
import argparse
import os
import socket

import cv2
import numpy

parser = argparse.ArgumentParser(description="The seed's UDP webcam server, adapted for tests")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=9505)
parser.add_argument("--output", default="output.avi")
parser.add_argument("--frames", type=int, default=0)
parser.add_argument("--idle-exit", type=float, default=0)
parser.add_argument("--rcvbuf", type=int, default=0)
parser.add_argument("--ready-file", default="", help="touch this file once the socket is bound")
args = parser.parse_args()

UDP_IP = args.host
UDP_PORT = args.port

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if args.rcvbuf:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
sock.bind((UDP_IP, UDP_PORT))
if args.ready_file:
    open(args.ready_file, "w").close()

show = bool(os.environ.get("DISPLAY"))

s = [b'\xff' * 46080 for x in range(20)]

fourcc = cv2.VideoWriter_fourcc(*'DIVX')
out = cv2.VideoWriter(args.output, fourcc, 25.0, (640, 480))

written = 0
received = 0
try:
    while True:
        picture = b''

        if args.idle_exit and received:
            sock.settimeout(args.idle_exit)
        try:
            data, addr = sock.recvfrom(46081)
        except socket.timeout:
            break
        received += 1
        s[data[0]] = data[1:46081]

        if data[0] == 19:
            for i in range(20):
                picture += s[i]

            frame = numpy.frombuffer(picture, dtype=numpy.uint8)
            frame = frame.reshape(480, 640, 3)
            if show:
                cv2.imshow("frame", frame)
            out.write(frame)
            written += 1

            if show and cv2.waitKey(1) & 0xFF == ord('q'):
                cv2.destroyAllWindows()
                break
            if args.frames and written >= args.frames:
                break
finally:
    out.release()
    print('{"framesWritten": %d, "datagramsReceived": %d}' % (written, received), flush=True)
