/** What a frame's payload holds. The wire carries a number (see `CODEC_WIRE`). */
export const Codec = {
  /** Rows of width x height pixels, 3 bytes each in B, G, R order, no padding: OpenCV's Mat bytes. */
  RawBgr24: "raw-bgr24",
  /** A JPEG (JFIF) file. */
  Jpeg: "jpeg",
} as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

/** Codec numbers on the wire. 2..255 are free for later codecs (e.g. H.264 access units). */
export const CODEC_WIRE: Readonly<Record<Codec, number>> = { "raw-bgr24": 0, jpeg: 1 };

const BY_WIRE: readonly (Codec | undefined)[] = [Codec.RawBgr24, Codec.Jpeg];

/** The codec for a wire number, or undefined when unknown. */
export function codecFromWire(value: number): Codec | undefined {
  return BY_WIRE[value];
}

export function isCodec(value: unknown): value is Codec {
  return value === Codec.RawBgr24 || value === Codec.Jpeg;
}
