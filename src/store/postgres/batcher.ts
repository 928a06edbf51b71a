interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls of one turn of the event loop and writes them with one statement per chunk:
 * a burst of creates costs one round trip and one commit instead of one each. Every call still
 * settles only after its own statement committed, and the calls of one turn are written in the
 * order they were made (chunk after chunk, never side by side on two connections).
 *
 * A chunk that fails is written again one input at a time, so a bad input fails alone and the
 * rest of the chunk is written — unless `mayHaveCommitted(error)` says the statement may have
 * committed before it failed (the connection died under it): writing again could then write
 * twice, so the whole chunk fails with that error.
 */
export class TurnBatcher<I, O> {
  private queued: Pending<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly write: (inputs: readonly I[]) => Promise<O[]>,
    private readonly mayHaveCommitted: (error: unknown) => boolean,
    private readonly maxChunk = 500,
  ) {}

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queued.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const queued = this.queued;
    this.queued = [];
    for (let i = 0; i < queued.length; i += this.maxChunk) {
      await this.writeChunk(queued.slice(i, i + this.maxChunk));
    }
  }

  private async writeChunk(chunk: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await this.write(chunk.map((p) => p.input));
      if (outputs.length !== chunk.length) {
        throw new Error(`a batch of ${chunk.length} wrote ${outputs.length} rows`);
      }
      chunk.forEach((p, i) => p.resolve(outputs[i]!));
    } catch (error) {
      if (chunk.length === 1 || this.mayHaveCommitted(error)) {
        for (const p of chunk) p.reject(error);
        return;
      }
      for (const p of chunk) await this.writeChunk([p]);
    }
  }
}
