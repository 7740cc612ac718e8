/**
 * SIGHUP with --key-file or --passphrase-file: the file is read again; a changed key is accepted
 * from now on, and the previous one as well for --key-grace seconds, so that the receiver can be
 * rotated first and its senders after it without losing a frame. A file that became unreadable or
 * invalid earns one line, and the keys stay as they were.
 */
import { rereadKeySpec, type KeySpec, type Logger } from "@udpcam/appkit";
import { keyMaterial, sameKey } from "@udpcam/protocol/node";

export interface KeyHolder {
  setKeys(keys: readonly Uint8Array[]): void;
}

export class KeyRotation {
  #spec: KeySpec;
  #key: Uint8Array;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(
    spec: KeySpec,
    key: Uint8Array,
    private readonly graceSeconds: number,
    private readonly holder: KeyHolder,
    private readonly logger: Logger,
    private readonly readFile: (path: string) => string,
  ) {
    this.#spec = spec;
    this.#key = key;
  }

  reload(): void {
    const file = this.#spec.file;
    if (file === undefined) return;
    const read = rereadKeySpec(this.#spec, this.readFile);
    if ("error" in read) {
      this.logger.warn(`SIGHUP: ${read.error}; still accepting the ${this.#spec.kind} read before`);
      return;
    }
    const next = keyMaterial(read.spec);
    if (sameKey(next, this.#key)) {
      this.logger.info(`SIGHUP: the ${this.#spec.kind} in ${file} is unchanged`);
      return;
    }
    const previous = this.#key;
    this.#spec = read.spec;
    this.#key = next;
    clearTimeout(this.#graceTimer);
    if (this.graceSeconds > 0) {
      this.holder.setKeys([next, previous]);
      this.#graceTimer = setTimeout(() => {
        this.#graceTimer = undefined;
        this.holder.setKeys([next]);
        this.logger.info(`key grace period over: only the ${read.spec.kind} from ${file} is accepted now`);
      }, this.graceSeconds * 1000);
      this.#graceTimer.unref();
    } else {
      this.holder.setKeys([next]);
    }
    this.logger.info(
      `SIGHUP: ${read.spec.kind} reread from ${file}: accepting the new one${this.graceSeconds > 0 ? `, and the previous one for ${this.graceSeconds} s more (--key-grace)` : ""}`,
    );
  }

  close(): void {
    clearTimeout(this.#graceTimer);
  }
}

/** The receiver's key material at start, when a key or passphrase is configured. */
export function startingKey(spec: KeySpec | undefined): Uint8Array | undefined {
  return spec === undefined ? undefined : keyMaterial(spec);
}
