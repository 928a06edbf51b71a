import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TaskEvents } from '../scheduler/events.js';

/** Prometheus metrics of one server, on their own registry (tests start several per process). */
export function createMetrics(events: TaskEvents, gauges: { wsClients: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tailor_' });
  const created = new Counter({
    name: 'tailor_tasks_created_total',
    help: 'Tasks created, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const finished = new Counter({
    name: 'tailor_tasks_finished_total',
    help: 'Tasks that reached a terminal status, by type and status',
    labelNames: ['type', 'status'],
    registers: [registry],
  });
  const runSeconds = new Histogram({
    name: 'tailor_task_run_seconds',
    help: 'From start to terminal status, by type',
    labelNames: ['type'],
    buckets: [0.01, 0.1, 1, 10, 60, 300, 1800, 7200],
    registers: [registry],
  });
  const httpSeconds = new Histogram({
    name: 'tailor_http_request_seconds',
    help: 'HTTP request duration by route and status code',
    labelNames: ['method', 'route', 'code'],
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2],
    registers: [registry],
  });
  new Gauge({
    name: 'tailor_websocket_clients',
    help: 'Connected WebSocket clients',
    registers: [registry],
    collect() {
      this.set(gauges.wsClients());
    },
  });
  const unsubscribe = events.subscribe((event) => {
    if (event.kind === 'created') created.inc({ type: event.task.type });
    if (
      event.kind === 'status' &&
      event.task.completed_at &&
      event.task.status !== 'pending' &&
      event.task.status !== 'running'
    ) {
      finished.inc({ type: event.task.type, status: event.task.status });
      if (event.task.started_at) {
        const seconds =
          (Date.parse(event.task.completed_at) - Date.parse(event.task.started_at)) / 1000;
        if (seconds >= 0) runSeconds.observe({ type: event.task.type }, seconds);
      }
    }
  });
  return { registry, httpSeconds, close: unsubscribe };
}
