import { lazy } from 'react';
import { defineConsoleModule } from '../../../../web/src/modules/contract.js';
import { en, zh } from './messages.js';

/** The generate module's console page; the shell finds this file by its path. */
export default defineConsoleModule({
  type: 'generate',
  title: { en: 'Generate', zh: 'AI 生成' },
  order: 0,
  Page: lazy(() => import('./GeneratePage.js')),
  // A generation's sidecar carries the request it was made with: enough to make it again.
  reopenImage: (image) =>
    image.task_type === 'generate' &&
    image.sidecar !== null &&
    typeof image.sidecar.parameters === 'object',
  messages: { en, zh },
});
