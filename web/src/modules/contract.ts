import type { ComponentType } from 'react';
import type { GalleryImage, Task } from '../../../src/client/index.js';

/**
 * What an executor module's console page exports as the default of
 * `src/executors/<type>/console/index.tsx`. The shell finds it by file name (see `registry.ts`);
 * nothing else registers it.
 *
 * Keep `index.tsx` light (it is loaded at start-up for the navigation): put the page itself
 * behind `lazy(() => import('./Page.js'))`, so its code loads when the page is opened.
 */
export interface ConsoleModule {
  /** The task type the page belongs to; also its route (`#/<type>`) and i18n namespace. */
  type: string;
  title: { en: string; zh: string };
  /** Position in the navigation (lower first). */
  order?: number;
  Page: ComponentType;
  /** Shown in the task drawer for a task of this type, after its result. */
  ResultView?: ComponentType<{ task: Task }>;
  /**
   * Whether the page can start again from this gallery image (e.g. a generation's sidecar). The
   * gallery then offers the module's `reopenImage` message as a button, which opens
   * `#/<type>?from_task=<task id>&from_file=<file>`.
   */
  reopenImage?: (image: GalleryImage) => boolean;
  /** The module's own strings, read with `useTranslation(type)`; both languages, same keys. */
  messages?: { en: Record<string, string>; zh: Record<string, string> };
}

export function defineConsoleModule(module: ConsoleModule): ConsoleModule {
  return module;
}
