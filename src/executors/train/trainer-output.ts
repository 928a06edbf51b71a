/**
 * Reading sd-scripts' console output. tqdm redraws its bar with carriage returns and writes a
 * newline only when the bar closes, so a stream is split into redraws (ended by `\r`) and lines
 * (ended by `\n`): a redraw is only the latest state of the line being drawn, and only the last
 * state of a line is kept — a 10,000-step training is not 10,000 log lines.
 */

export interface StreamSink {
  /** A finished line (for a bar: its last state). */
  line(text: string): void;
  /** An intermediate state of a line that is redrawn in place. */
  redraw(text: string): void;
}

/** Splits one byte stream (stdout or stderr) into lines and redraws. */
export class LineSplitter {
  private current = '';
  private lastRedraw = '';

  constructor(private readonly sink: StreamSink) {}

  push(chunk: string): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c !== '\r' && c !== '\n') continue;
      // `\r\n` is a plain line end (a `\r\n` split across chunks still ends the line: the
      // redraw it produces is then the line's last state).
      if (c === '\r' && chunk[i + 1] === '\n') continue;
      this.current += chunk.slice(start, i).replace(/\r$/, '');
      start = i + 1;
      if (c === '\r') {
        if (this.current.trim() !== '') {
          this.lastRedraw = this.current;
          this.sink.redraw(this.current);
        }
      } else {
        const text = this.current.trim() !== '' ? this.current : this.lastRedraw;
        if (text.trim() !== '') this.sink.line(text.trimEnd());
        this.lastRedraw = '';
      }
      this.current = '';
    }
    this.current += chunk.slice(start);
  }

  /** The stream ended: whatever was pending is its last line. */
  end(): void {
    const text = this.current.trim() !== '' ? this.current : this.lastRedraw;
    if (text.trim() !== '') this.sink.line(text.trimEnd());
    this.current = '';
    this.lastRedraw = '';
  }
}

export interface StepProgress {
  percent: number;
  step: number;
  total: number;
  elapsed: string | null;
  eta: string | null;
  loss: number | null;
}

// `steps:  42%|████      | 420/1000 [05:12<07:11,  1.34it/s, avr_loss=0.0912]`
const STEPS = /steps:\s*(\d+)%\|[^|]*\|\s*(\d+)\/(\d+)\s*(?:\[([^<\]]*)<([^,\]]*)([^\]]*)\])?/;
const LOSS = /avr_loss=([-+0-9.eE]+|nan|inf)/;
// `epoch 3/10` (sd-scripts logs it at the start of each epoch)
const EPOCH = /(?:^|\s)epoch (\d+)\/(\d+)\b/;

export function parseSteps(text: string): StepProgress | null {
  const match = STEPS.exec(text);
  if (!match) return null;
  const tail = match[6] ?? '';
  const loss = LOSS.exec(tail);
  const lossValue = loss ? Number(loss[1]) : null;
  return {
    percent: Number(match[1]),
    step: Number(match[2]),
    total: Number(match[3]),
    elapsed: match[4]?.trim() || null,
    eta: match[5]?.trim().replace(/^\?$/, '') || null,
    loss: lossValue !== null && Number.isFinite(lossValue) ? lossValue : null,
  };
}

export function parseEpoch(text: string): { epoch: number; total: number } | null {
  const match = EPOCH.exec(text);
  return match ? { epoch: Number(match[1]), total: Number(match[2]) } : null;
}

export interface LossPoint {
  step: number;
  loss: number;
}

/**
 * (step, loss) pairs at most `limit` long however long the training: when full, every other
 * point is dropped and only every `stride`-th observation is kept from then on, so the curve stays
 * evenly spaced. The latest point is always kept as `last`.
 */
export class LossCurve {
  private points: LossPoint[] = [];
  private stride = 1;
  private seen = 0;
  private latest: LossPoint | null = null;

  constructor(private readonly limit = 500) {}

  add(step: number, loss: number): void {
    if (this.latest && step <= this.latest.step) return;
    this.latest = { step, loss };
    if (this.seen++ % this.stride !== 0) return;
    this.points.push({ step, loss });
    if (this.points.length >= this.limit) {
      this.stride *= 2;
      this.points = this.points.filter((_, i) => i % 2 === 0);
    }
  }

  get last(): LossPoint | null {
    return this.latest;
  }

  /** The curve, ending with the latest point; never longer than `limit`. */
  toJSON(): LossPoint[] {
    const points = [...this.points];
    const last = this.latest;
    if (last && points.at(-1)?.step !== last.step) {
      if (points.length >= this.limit) points.pop();
      points.push(last);
    }
    return points;
  }
}

/** The last `size` lines, for the error of a failed training. */
export class Tail {
  private readonly lines: string[] = [];

  constructor(private readonly size: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  toString(): string {
    return this.lines.join('\n');
  }
}
