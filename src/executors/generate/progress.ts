import type { WebuiProgress } from './webui-client.js';

/**
 * Task progress over every loop of a generation. Loop i of n owns the band i/n … (i+1)/n, so the
 * percentage never exceeds 100 however many loops there are, and it never goes
 * back: the WebUI's own fraction drops when the hires pass restarts its step counter and falls to
 * 0 once a job ends, so only its highest value within a loop counts. A loop reaches the top of its
 * band only when its images are saved; until then it stops just short.
 */
export class GenerationProgress {
  private loop = 0;
  private fraction = 0;
  private lastJob = -1;

  constructor(readonly loops: number) {}

  startLoop(loop: number): void {
    this.loop = loop;
    this.fraction = 0;
    this.lastJob = -1;
  }

  /** Returns true when a new batch (WebUI job) began since the last sample. */
  observe(sample: WebuiProgress): boolean {
    if (sample.state.job_count > 0) {
      this.fraction = Math.max(
        this.fraction,
        Math.min(Math.max(sample.progress, 0), IN_FLIGHT_CEILING),
      );
    }
    const newJob = sample.state.job_count > 0 && sample.state.job_no !== this.lastJob;
    if (newJob) this.lastJob = sample.state.job_no;
    return newJob;
  }

  finishLoop(): void {
    this.fraction = 1;
  }

  /** Integer 0–100, rounded down so 100 means every loop's images are saved. */
  get percent(): number {
    const overall = (this.loop + this.fraction) / this.loops;
    return Math.min(100, Math.max(0, Math.floor(overall * 100)));
  }

  /** "loop 2/3 · batch 1/4 · step 12/20 · eta 8 s" */
  describe(sample?: WebuiProgress): string {
    const parts = [`loop ${this.loop + 1}/${this.loops}`];
    const state = sample?.state;
    if (state && state.job_count > 0) {
      if (state.job_count > 1)
        parts.push(`batch ${Math.min(state.job_no + 1, state.job_count)}/${state.job_count}`);
      if (state.sampling_steps > 0)
        parts.push(`step ${state.sampling_step}/${state.sampling_steps}`);
      if (sample.eta_relative > 0) parts.push(`eta ${Math.ceil(sample.eta_relative)} s`);
    }
    return parts.join(' · ');
  }
}

const IN_FLIGHT_CEILING = 0.99;
