/** The tile's small plot: fps and paint latency, one point a second, over the last minute. */
export interface PlotPoint {
  readonly fps: number;
  /** Median capture-to-paint latency in that second, if a frame was painted. */
  readonly latencyMs: number | undefined;
}

const FPS_COLOR = "#4fc3f7";
const LATENCY_COLOR = "#ffb74d";

export function drawPlot(canvas: HTMLCanvasElement, points: readonly PlotPoint[], span: number): void {
  const context = canvas.getContext("2d");
  if (context === null) return;
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  context.fillStyle = "rgba(255,255,255,0.04)";
  context.fillRect(0, 0, width, height);
  const maxFps = Math.max(1, ...points.map((p) => p.fps)) * 1.15;
  const maxLatency = Math.max(10, ...points.map((p) => p.latencyMs ?? 0)) * 1.15;
  line(context, points, span, width, height, (p) => p.fps / maxFps, FPS_COLOR);
  line(
    context,
    points,
    span,
    width,
    height,
    (p) => (p.latencyMs === undefined ? undefined : p.latencyMs / maxLatency),
    LATENCY_COLOR,
  );
  context.font = "11px system-ui, sans-serif";
  context.fillStyle = FPS_COLOR;
  context.fillText(`fps (max ${maxFps.toFixed(0)})`, 6, 13);
  context.fillStyle = LATENCY_COLOR;
  context.fillText(`paint latency (max ${maxLatency.toFixed(0)} ms)`, 110, 13);
  context.fillStyle = "rgba(255,255,255,0.45)";
  context.fillText("last minute", width - 68, 13);
}

function line(
  context: CanvasRenderingContext2D,
  points: readonly PlotPoint[],
  span: number,
  width: number,
  height: number,
  value: (point: PlotPoint) => number | undefined,
  color: string,
): void {
  context.strokeStyle = color;
  context.lineWidth = 1.5;
  context.beginPath();
  let drawing = false;
  const offset = span - points.length;
  points.forEach((point, i) => {
    const v = value(point);
    if (v === undefined) {
      drawing = false;
      return;
    }
    const x = ((offset + i) / (span - 1)) * (width - 2) + 1;
    const y = height - 2 - v * (height - 20);
    if (drawing) context.lineTo(x, y);
    else context.moveTo(x, y);
    drawing = true;
  });
  context.stroke();
}
