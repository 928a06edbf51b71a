/**
 * `npm run bench -- <scenario> [flags]`: scheduler | peer | store | api | ws | tag. Each prints a table and,
 * as its last line, one JSON object (see bench/README.md).
 */
import { Flags } from './lib/args.js';
import { schedulerScenario } from './scenarios/scheduler.js';

const scenarios: Record<string, (flags: Flags) => Promise<void>> = {
  scheduler: schedulerScenario,
  peer: async (flags) => (await import('./scenarios/peer.js')).peerScenario(flags),
  api: async (flags) => (await import('./scenarios/api.js')).apiScenario(flags),
  ws: async (flags) => (await import('./scenarios/ws.js')).wsScenario(flags),
  store: async (flags) => (await import('./scenarios/store.js')).storeScenario(flags),
  tag: async (flags) => (await import('./scenarios/tag.js')).tagScenario(flags),
};

const [name, ...rest] = process.argv.slice(2);
const scenario = name ? scenarios[name] : undefined;
if (!scenario) {
  console.error(`usage: npm run bench -- <${Object.keys(scenarios).join('|')}> [--flag value …]`);
  process.exit(2);
}
try {
  await scenario(new Flags(rest));
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}
