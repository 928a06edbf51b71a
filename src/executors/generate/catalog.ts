/**
 * Names a generate config gives (sampler, model, VAE, hires upscaler, LoRAs) are checked against
 * what the WebUI offers when the task is created, so a typo is a 400 naming the field and the
 * available names — not a failure minutes later with `HTTP 404: Sampler not found`. The lists
 * are cached briefly: a burst of creates asks the WebUI once.
 */
import { ErrorCode, TailorError } from '../../domain/errors.js';
import type { FieldError } from '../../scheduler/registry.js';
import type { GenerateTaskConfig } from './config-schema.js';
import type { WebuiCatalog, WebuiClient } from './webui-client.js';

const CACHE_MS = 30_000;
/** How many available names an error lists before "…". */
const SHOWN = 25;
/** VAE values the WebUI understands without a file of that name. */
const BUILT_IN_VAES = ['automatic', 'none'];

export class CatalogCache {
  private cached: { at: number; catalog: Promise<WebuiCatalog> } | null = null;

  constructor(private readonly cacheMs = CACHE_MS) {}

  get(client: WebuiClient, timeoutMs: number): Promise<WebuiCatalog> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.cacheMs) {
      const catalog = client.catalog({ timeoutMs });
      this.cached = { at: now, catalog };
      // A failed fetch is not cached: the next create asks again.
      catalog.catch(() => {
        if (this.cached?.catalog === catalog) this.cached = null;
      });
    }
    return this.cached.catalog;
  }
}

const lower = (value: string): string => value.toLowerCase();

/** Checkpoints are named by title (`x.safetensors [hash]`), by name, or by file name. */
function modelMatches(wanted: string, available: readonly string[]): boolean {
  const w = lower(wanted.trim());
  return available.some((name) => {
    const n = lower(name);
    return n === w || n.replace(/\s*\[[0-9a-f]+\]$/, '') === w || n.startsWith(`${w}.`);
  });
}

/** Samplers, VAEs, upscalers and LoRAs are looked up by their exact name, as the WebUI does. */
const inList = (wanted: string, available: readonly string[]): boolean =>
  available.includes(wanted);

function unknownName(
  field: string,
  what: string,
  wanted: string,
  available: readonly string[],
  url: string,
): FieldError {
  const shown = available.slice(0, SHOWN).join(', ') + (available.length > SHOWN ? ', …' : '');
  return {
    path: `/config/${field}`,
    message: `${JSON.stringify(wanted)} is not ${what} of the WebUI at ${url}; available: ${shown || '(none)'}`,
  };
}

/** Every name in `config` the WebUI does not offer; empty when all are known (or unlisted). */
export function unknownNames(
  config: GenerateTaskConfig,
  catalog: WebuiCatalog,
  url: string,
): FieldError[] {
  const errors: FieldError[] = [];
  if (catalog.samplers && !inList(config.sampler, catalog.samplers))
    errors.push(unknownName('sampler', 'a sampler', config.sampler, catalog.samplers, url));
  if (config.model && catalog.models && !modelMatches(config.model, catalog.models))
    errors.push(unknownName('model', 'a checkpoint', config.model, catalog.models, url));
  if (
    config.vae &&
    catalog.vaes &&
    !BUILT_IN_VAES.includes(lower(config.vae)) &&
    !inList(config.vae, catalog.vaes)
  )
    errors.push(
      unknownName('vae', 'a VAE', config.vae, ['Automatic', 'None', ...catalog.vaes], url),
    );
  if (config.enable_hr && catalog.upscalers && !inList(config.hr_upscaler, catalog.upscalers))
    errors.push(
      unknownName('hr_upscaler', 'an upscaler', config.hr_upscaler, catalog.upscalers, url),
    );
  if (catalog.loras) {
    config.loras.forEach((lora, i) => {
      if (!inList(lora.name, catalog.loras!))
        errors.push({
          ...unknownName(`loras/${i}/name`, 'a LoRA', lora.name, catalog.loras!, url),
        });
    });
  }
  return errors;
}

export function refuseUnknownNames(errors: readonly FieldError[]): void {
  if (errors.length === 0) return;
  throw new TailorError(
    ErrorCode.VALIDATION,
    errors.map((e) => `${e.path} ${e.message}`).join('; '),
    { fields: errors },
  );
}
