/**
 * The latest preview image of each generation running on this node: the WebUI's
 * `current_image` while it samples, polled at most once per `intervalMs` (previews are large),
 * dropped when the task's request ends. Only the node running a task has its preview.
 */
export class Previews {
  private readonly images = new Map<string, { png: Buffer; at: number }>();

  constructor(readonly intervalMs = 1_000) {}

  /** Whether the next progress poll of `taskId` should ask for the image. */
  due(taskId: string, now = Date.now()): boolean {
    const last = this.images.get(taskId);
    return !last || now - last.at >= this.intervalMs;
  }

  put(taskId: string, base64: string): void {
    this.images.set(taskId, { png: Buffer.from(base64, 'base64'), at: Date.now() });
  }

  get(taskId: string): Buffer | null {
    return this.images.get(taskId)?.png ?? null;
  }

  drop(taskId: string): void {
    this.images.delete(taskId);
  }
}
