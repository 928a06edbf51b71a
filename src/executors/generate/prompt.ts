import type { Lora } from './config-schema.js';

/**
 * The prompt sent to the WebUI: the base prompt, then each LoRA as `<lora:name:weight>` followed by
 * its trigger words, as comma-separated parts. Empty parts and runs of whitespace are dropped, so
 * `"1girl, , solo ,"` plus a LoRA never yields `", ,"`. A trigger word already in the prompt is not
 * added again (the user's own repetitions are left alone: repeating a tag is a way to weight it).
 */
export function buildPrompt(base: string, loras: readonly Lora[] = []): string {
  const parts = splitPrompt(base);
  const seen = new Set(parts.map(normalisedPart));
  for (const lora of loras) {
    for (const part of [loraTag(lora), ...lora.trigger_words.flatMap(splitPrompt)]) {
      const key = normalisedPart(part);
      if (seen.has(key)) continue;
      seen.add(key);
      parts.push(part);
    }
  }
  return parts.join(', ');
}

/** The same clean-up for a prompt without LoRAs (the negative prompt). */
export function cleanPrompt(text: string): string {
  return splitPrompt(text).join(', ');
}

export function loraTag(lora: Pick<Lora, 'name' | 'weight'>): string {
  return `<lora:${lora.name.trim()}:${formatWeight(lora.weight)}>`;
}

/** `0.1 + 0.2` must not reach the prompt as `0.30000000000000004`. */
function formatWeight(weight: number): string {
  return String(Math.round(weight * 1000) / 1000);
}

function splitPrompt(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.replace(/\s+/g, ' ').trim())
    .filter((part) => part.length > 0);
}

function normalisedPart(part: string): string {
  return part.toLowerCase();
}
