# The seed's client (../shared/seed, "Client" second version), adapted for a test host.
# Kept from the seed: the logic and the wire format -- each frame is flattened to
# bytes and sent as 20 datagrams of 1 index byte (0..19) + 46,080 bytes.
# Adapted, and only this:
#   - frames come from a video file (cv2.VideoCapture(path)) instead of camera 0;
#   - address and port come from arguments instead of constants;
#   - it stops at the end of the file or after --frames N (the seed loops forever);
#   - --fps paces frames like a camera would (a file is read as fast as possible:
#     --fps 0 is the seed's unpaced behaviour);
#   - no cv2.waitKey: the seed calls it without a window, where it only sleeps 1 ms
#     between datagrams; --waitkey-sleep keeps that 1 ms pause per datagram;
#   - tobytes() instead of the removed tostring().
import argparse
import socket
import sys
import time

import cv2

parser = argparse.ArgumentParser(description="The seed's UDP webcam client, adapted for tests")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=9505)
parser.add_argument("--source", required=True, help="video file with 640x480 frames")
parser.add_argument("--frames", type=int, default=0, help="stop after N frames (0 = end of file)")
parser.add_argument("--fps", type=float, default=0, help="pace frames at this rate (0 = as fast as possible)")
parser.add_argument("--waitkey-sleep", action="store_true", help="sleep 1 ms after each datagram like the seed's waitKey(1)")
args = parser.parse_args()

UDP_IP = args.host
UDP_PORT = args.port

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

cap = cv2.VideoCapture(args.source)
if not cap.isOpened():
    sys.exit("seed_client: cannot open " + args.source)

sent = 0
started = time.monotonic()
while True:
    ret, frame = cap.read()
    if not ret:
        break
    d = frame.flatten()
    s = d.tobytes()

    for i in range(20):
        sock.sendto(bytes([i]) + s[i*46080:(i+1)*46080], (UDP_IP, UDP_PORT))
        if args.waitkey_sleep:
            time.sleep(0.001)

    sent += 1
    if args.frames and sent >= args.frames:
        break
    if args.fps > 0:
        delay = started + sent / args.fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)

print('{"framesSent": %d, "seconds": %.3f}' % (sent, time.monotonic() - started), flush=True)
