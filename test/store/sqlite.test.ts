import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { runStoreConformance } from './conformance.js';

// Each test gets its own file in a temporary directory; separate SqliteStore objects on that file
// are the "several instances" of the race tests.
runStoreConformance('sqlite', {
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), 'tailor-store-'));
    const file = join(dir, 'tailor.db');
    return {
      open: async () => new SqliteStore({ file }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
