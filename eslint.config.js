import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The architecture, enforced: domain → store → scheduler → executors → interfaces (http, ws,
 * cli, web). A folder may import only the layers below it; above all, nothing in the core may
 * import an executor module (modules depend on the core, never the reverse).
 */
const layer = (folder, forbidden) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((target) => ({
          // Relative imports that climb out of the folder into the forbidden one.
          group: target === 'server' ? ['../**/server.js', '../server.js'] : [`../**/${target}/*`],
          message: `src/${folder} is below src/${target} in the layering and must not import it`,
        })),
      },
    ],
  },
});
const INTERFACES = ['http', 'ws', 'cli', 'server', 'cluster'];

/** What the console's code may use: the browser's globals (Node's are not there). */
const BROWSER_GLOBALS = Object.fromEntries(
  [
    'window',
    'document',
    'navigator',
    'localStorage',
    'location',
    'history',
    'fetch',
    'URL',
    'URLSearchParams',
    'Blob',
    'WebSocket',
    'ResizeObserver',
    'IntersectionObserver',
    'KeyboardEvent',
    'HTMLElement',
    'HTMLInputElement',
    'HTMLTextAreaElement',
    'HTMLDivElement',
    'Intl',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'structuredClone',
    'console',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/', 'web/dist/', 'data/', 'node_modules/', '.tmp/'] },
  js.configs.recommended,
  {
    // Plain Node scripts (the test runner); TypeScript files get their globals from @types/node.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The web console and the modules' console pages run in the browser.
    files: ['web/src/**/*.{ts,tsx}', 'src/executors/*/console/**/*.{ts,tsx}'],
    languageOptions: { globals: BROWSER_GLOBALS },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  layer('domain', ['store', 'scheduler', 'executors', 'config', ...INTERFACES]),
  layer('store', ['scheduler', 'executors', ...INTERFACES]),
  layer('scheduler', ['executors', ...INTERFACES]),
  layer('cluster', ['executors', 'http', 'ws', 'cli', 'server']),
  layer('http', ['executors', 'cli', 'server', 'cluster']),
  layer('ws', ['executors', 'cli', 'server', 'cluster', 'http']),
  layer('executors', ['cli', 'server', 'cluster', 'ws']),
);
