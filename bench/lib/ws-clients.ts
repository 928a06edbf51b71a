/**
 * The WebSocket clients of the `ws` scenario, in a process of their own. Each subscribes to all
 * and counts what it receives; task_status messages give a latency sample (receive time minus
 * the task's `updated_at`). Reports over IPC when asked.
 */
import WebSocket from 'ws';
import { percentile } from './stats.js';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const received = new Array<number>(count).fill(0);
const latencies: number[] = [];

async function connect(index: number): Promise<void> {
  const socket = new WebSocket(url!);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  // The pong answers after subscribe_all took effect: messages are handled in order.
  const subscribed = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"pong"')) return resolve();
      received[index]!++;
      if (text.startsWith('{"type":"task_status"')) {
        const at = text.lastIndexOf('"updated_at":"');
        if (at >= 0) latencies.push(Date.now() - Date.parse(text.slice(at + 14, at + 38)));
      }
    });
  });
  socket.send(JSON.stringify({ type: 'subscribe_all' }));
  socket.send(JSON.stringify({ type: 'ping' }));
  await subscribed;
}

for (let i = 0; i < count; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => connect(i + j)));
}
process.send?.({ ready: true });
process.on('message', (message: { report?: boolean }) => {
  if (!message.report) return;
  process.send?.({
    report: {
      received,
      latencies: {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.reduce((a, b) => Math.max(a, b), -Infinity),
      },
    },
  });
});
