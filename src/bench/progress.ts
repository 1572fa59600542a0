// A live progress line on a terminal, redrawn in place with \r; silent otherwise.

const REDRAW_MS = 250;

export class Progress {
  private readonly enabled: boolean;
  private timer: NodeJS.Timeout | null = null;
  private width = 0;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Starts redrawing `render()` until stop() (or the next start()). */
  start(render: () => string): void {
    this.stop();
    if (!this.enabled) return;
    const startMs = performance.now();
    const draw = () => {
      const line = `${((performance.now() - startMs) / 1000).toFixed(1).padStart(6)}s  ${render()}`;
      process.stdout.write('\r' + line.padEnd(this.width));
      this.width = line.length;
    };
    draw();
    this.timer = setInterval(draw, REDRAW_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.enabled && this.width > 0) process.stdout.write('\r' + ' '.repeat(this.width) + '\r');
    this.width = 0;
  }
}
