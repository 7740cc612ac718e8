/**
 * The relay: every delivered JPEG frame re-emitted as RTP/JPEG (RFC 2435) to one address, so
 * that the tools and media servers that fan a stream out to many viewers (ffplay, VLC,
 * GStreamer, MediaMTX) get a clean stream from a udpcam link. The JPEG goes out as it arrived:
 * never decoded. Each stream of the receiver gets its own SSRC. A relay that cannot keep up
 * skips whole frames in its own bounded queue (delivery's), never part of one, and never slows
 * the recording.
 */
import { createSocket, type Socket } from "node:dgram";
import { randomInt } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { UserError, type Logger } from "@udpcam/appkit";
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  packetizeRtpJpeg,
  rtpJpegSdp,
  rtpTimestamp,
  serial16Add,
  type FrameEvent,
} from "@udpcam/protocol";
import type { RelaySettings } from "../config-relay.js";
import type { DeliveredFrame, Sink } from "./sink.js";

/** Multicast TTL of the relay's packets and its SDP: this LAN only. */
const RELAY_MULTICAST_TTL = 1;
/** Each stream's RTP identity: SSRC, next sequence number, clock origin. */
interface RelayStream {
  readonly ssrc: number;
  sequence: number;
  readonly clockBase: number;
}

export interface RelayCounters {
  framesRelayed: number;
  packetsSent: number;
  /** JPEGs RFC 2435 cannot carry (progressive, 4:4:4, optimised Huffman tables...), not relayed. */
  framesNotCarried: number;
  sendErrors: number;
}

export class RtpRelaySink implements Sink {
  readonly name = "relay";
  readonly counters: RelayCounters = { framesRelayed: 0, packetsSent: 0, framesNotCarried: 0, sendErrors: 0 };
  readonly #streams = new Map<number, RelayStream>();
  #warnedRaw = false;
  #warnedRefused = false;

  private constructor(
    private readonly socket: Socket,
    private readonly settings: RelaySettings,
    private readonly logger: Logger,
  ) {}

  /** Binds the relay's socket and writes its SDP (--relay-sdp). */
  static async open(settings: RelaySettings, fps: number | undefined, logger: Logger): Promise<RtpRelaySink> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
    if (settings.multicast) socket.setMulticastTTL(RELAY_MULTICAST_TTL);
    if (settings.sdp !== undefined) {
      const sdp = rtpJpegSdp({
        address: settings.host,
        port: settings.port,
        ...(settings.multicast ? { ttl: RELAY_MULTICAST_TTL } : {}),
        ...(fps === undefined ? {} : { fps }),
        name: "udpcam relay",
      });
      try {
        await writeFile(settings.sdp, sdp);
      } catch (error) {
        socket.close();
        throw new UserError(
          `--relay-sdp: cannot write ${settings.sdp} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
          { cause: error },
        );
      }
    }
    logger.info(
      { relay: `${settings.host}:${settings.port}`, sdp: settings.sdp },
      `relaying JPEG frames as RTP/JPEG to ${settings.host}:${settings.port}${settings.sdp === undefined ? "" : `; players open ${settings.sdp}`}`,
    );
    return new RtpRelaySink(socket, settings, logger);
  }

  accepts(event: FrameEvent): boolean {
    if (event.codec === "jpeg") return true;
    if (!this.#warnedRaw) {
      this.#warnedRaw = true;
      this.logger.warn(
        `the relay carries JPEG streams; stream ${event.streamId.toString(16)} is raw (${event.codec}) and is not relayed: send it with --codec jpeg`,
      );
    }
    return false;
  }

  async deliver(frame: DeliveredFrame): Promise<void> {
    const { event } = frame;
    const stream = this.#stream(event.streamId);
    let packets: Uint8Array[];
    try {
      packets = packetizeRtpJpeg(
        {
          ssrc: stream.ssrc,
          sequence: stream.sequence,
          timestamp: rtpTimestamp(frame.captureTime, stream.clockBase),
          jpeg: event.payload,
        },
        { maxDatagramBytes: DEFAULT_MAX_DATAGRAM_BYTES },
      );
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.counters.framesNotCarried++;
      if (!this.#warnedRefused) {
        this.#warnedRefused = true;
        this.logger.warn(
          `the relay cannot carry this stream's JPEGs as RTP/JPEG (${error.message}); such frames are not relayed`,
        );
      }
      return;
    }
    stream.sequence = serial16Add(stream.sequence, packets.length);
    await Promise.all(packets.map((packet) => this.#send(packet)));
    this.counters.framesRelayed++;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    const { framesRelayed, packetsSent, framesNotCarried, sendErrors } = this.counters;
    this.logger.info(
      this.counters,
      `relay: ${framesRelayed} frames in ${packetsSent} packets${framesNotCarried > 0 ? `, ${framesNotCarried} not carried` : ""}${sendErrors > 0 ? `, ${sendErrors} send errors` : ""}`,
    );
  }

  #stream(streamId: number): RelayStream {
    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      stream = { ssrc: randomInt(1, 2 ** 32 - 1), sequence: randomInt(0, 2 ** 16), clockBase: randomInt(0, 2 ** 32) };
      this.#streams.set(streamId, stream);
    }
    return stream;
  }

  #send(packet: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.socket.send(packet, this.settings.port, this.settings.host, (error) => {
        if (error) this.counters.sendErrors++;
        else this.counters.packetsSent++;
        resolve();
      });
    });
  }
}
