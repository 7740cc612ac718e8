#!/usr/bin/python3
"""An RTSP camera for tests: serves JPEG files as RTP/JPEG at rtsp://127.0.0.1:PORT/cam.

Debian's python3 with python3-gi and gir1.2-gst-rtsp-server-1.0. Each client session plays
the files from the first (then again), at --fps. RTP/JPEG (RFC 2435) carries no Huffman tables: the JPEGs
must use the standard ones (libjpeg's, as OpenCV's imencode writes), not FFmpeg's optimized
tables (an FFmpeg-written MJPG AVI arrives corrupt). Prints "ready PORT" once it listens;
stops on SIGTERM or SIGINT.
"""
import argparse
import glob
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jpegs", required=True, help="the files, as a glob, played in name order: /tmp/frames/*.jpg")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()

    Gst.init(None)
    frames = sorted(glob.glob(args.jpegs))
    if not frames:
        print(f"no files match {args.jpegs}", file=sys.stderr)
        return 2
    jpegs = [open(path, "rb").read() for path in frames]
    duration = Gst.SECOND // args.fps

    def on_configure(_factory, media):
        # Each session from the first frame, timestamped at --fps: the server paces by them.
        source = media.get_element().get_by_name("src")
        state = {"next": 0}

        def need_data(appsrc, _length):
            n = state["next"]
            state["next"] = n + 1
            buffer = Gst.Buffer.new_wrapped(jpegs[n % len(jpegs)])
            buffer.pts = n * duration
            buffer.duration = duration
            appsrc.emit("push-buffer", buffer)

        source.connect("need-data", need_data)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    caps = f"image/jpeg,framerate={args.fps}/1,width={args.width},height={args.height}"
    factory.set_launch(f'( appsrc name=src is-live=true format=time caps="{caps}" ! jpegparse ! rtpjpegpay name=pay0 pt=26 )')
    factory.connect("media-configure", on_configure)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 2

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"ready {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
