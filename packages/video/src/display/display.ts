/**
 * A window that shows frames with OpenCV's imshow, as the seed does, but only
 * when an X display really answers: headless, it says so once and carries on.
 */
import { VideoError } from "../errors.js";
import type { Frame } from "../frame.js";
import { frameToMat } from "../mat.js";
import { cv, useDisplay } from "../opencv.js";
import { probeDisplay } from "./xdisplay.js";

/** `auto`: a window if a display answers, else headless. `on`: a window or an error. `off`: never a window. */
export type DisplayMode = "auto" | "on" | "off";

export interface DisplayOptions {
  /** Default `auto`. */
  readonly mode?: DisplayMode;
  /** The DISPLAY value (apps read it in their config module); undefined when unset. */
  readonly display: string | undefined;
  /** Xauthority file for the display's cookie; default `~/.Xauthority`. */
  readonly xauthority?: string | undefined;
  /** Window title; default `udpcam`. */
  readonly title?: string;
  /** Told once, in `auto` mode, when there is no window (and why). */
  readonly onNotice?: (message: string) => void;
}

export interface Display {
  /** `window`: frames are shown. `headless`: no display answered (auto mode). `off`: mode off. */
  readonly status: "window" | "headless" | "off";
  /** Why there is no window (headless). */
  readonly reason: string | undefined;
  /**
   * Shows the frame (no-op without a window) and polls the keyboard once
   * (`waitKey(1)`). Returns true when the user pressed `q` (or Esc) in the window,
   * or closed it: time to stop, like the seed.
   */
  show(frame: Frame): boolean;
  /** Closes the window. Safe to call twice. */
  close(): void;
}

const KEY_Q = "q".charCodeAt(0);
const KEY_ESC = 27;

class NoWindow implements Display {
  constructor(
    readonly status: "headless" | "off",
    readonly reason: string | undefined,
  ) {}
  show(): boolean {
    return false;
  }
  close(): void {}
}

class Window implements Display {
  readonly status = "window" as const;
  readonly reason = undefined;
  private open = true;
  private shown = false;

  constructor(private readonly title: string) {
    cv.namedWindow(title, cv.WINDOW_AUTOSIZE | cv.WINDOW_GUI_NORMAL);
  }

  show(frame: Frame): boolean {
    if (!this.open) return true;
    cv.imshow(this.title, frameToMat(frame));
    this.shown = true;
    const key = cv.waitKey(1);
    if (key >= 0 && ((key & 0xff) === KEY_Q || (key & 0xff) === KEY_ESC)) return true;
    // Closed with the window manager's button.
    return this.shown && cv.getWindowProperty(this.title, cv.WND_PROP_VISIBLE) < 1;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    cv.destroyWindow(this.title);
    cv.waitKey(1); // lets the GUI thread process the close
  }
}

/**
 * Opens the display. In `auto` mode without a display, calls `onNotice` once and
 * returns a headless display. Throws `VideoError` `DISPLAY_UNAVAILABLE` in `on` mode
 * without a display, `INVALID_OPTION` for an unknown mode.
 */
export async function openDisplay(options: DisplayOptions): Promise<Display> {
  const mode = options.mode ?? "auto";
  if (mode !== "auto" && mode !== "on" && mode !== "off") {
    throw new VideoError("INVALID_OPTION", `display mode must be auto, on or off, got ${String(mode)}`);
  }
  if (mode === "off") return new NoWindow("off", "display is off");
  const probe = await probeDisplay(options.display, { xauthority: options.xauthority });
  if (!probe.available) {
    if (mode === "on") {
      throw new VideoError("DISPLAY_UNAVAILABLE", `cannot open a window: ${probe.reason}`);
    }
    options.onNotice?.(`no window: ${probe.reason}; carrying on without a display`);
    return new NoWindow("headless", probe.reason);
  }
  useDisplay(options.display ?? "", options.xauthority);
  return new Window(options.title ?? "udpcam");
}
