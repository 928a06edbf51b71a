import { useEffect, useState } from 'react';
import { addModuleMessages } from '../i18n/index.js';
import type { ConsoleModule } from './contract.js';

/**
 * Every module's console page, by file convention: a module ships a page by having
 * `src/executors/<type>/console/index.tsx`. Each entry is its own small chunk.
 */
const found = import.meta.glob<{ default: ConsoleModule }>(
  '../../../src/executors/*/console/index.tsx',
);

let loaded: Promise<ConsoleModule[]> | null = null;

export function loadConsoleModules(): Promise<ConsoleModule[]> {
  loaded ??= Promise.all(Object.values(found).map((load) => load())).then((entries) => {
    const modules = entries.map((entry) => entry.default);
    for (const module of modules)
      if (module.messages) addModuleMessages(module.type, module.messages);
    return modules.sort(
      (a, b) => (a.order ?? 100) - (b.order ?? 100) || a.type.localeCompare(b.type),
    );
  });
  return loaded;
}

/** The modules, or null while their entries load. */
export function useConsoleModules(): ConsoleModule[] | null {
  const [modules, setModules] = useState<ConsoleModule[] | null>(null);
  useEffect(() => {
    let live = true;
    void loadConsoleModules().then(
      (list) => live && setModules(list),
      () => live && setModules([]),
    );
    return () => {
      live = false;
    };
  }, []);
  return modules;
}
