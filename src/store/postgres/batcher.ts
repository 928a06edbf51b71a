interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls of one turn of the event loop and writes them with one statement per chunk:
 * a burst of creates costs one round trip and one commit instead of one each. Every call still
 * settles only after its own statement committed. A chunk that fails is retried one input at a
 * time, so a bad input fails alone and the rest of the chunk is written.
 */
export class TurnBatcher<I, O> {
  private queued: Pending<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly write: (inputs: readonly I[]) => Promise<O[]>,
    private readonly maxChunk = 500,
  ) {}

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queued.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queued;
    this.queued = [];
    for (let i = 0; i < queued.length; i += this.maxChunk) {
      void this.writeChunk(queued.slice(i, i + this.maxChunk));
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
      if (chunk.length === 1) {
        chunk[0]!.reject(error);
        return;
      }
      await Promise.all(chunk.map((p) => this.writeChunk([p])));
    }
  }
}
