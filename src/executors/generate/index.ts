export {
  GENERATION_FIELDS,
  GenerateTaskConfigSchema,
  GenerationConfigSchema,
  GenerationParamsSchema,
  LoraSchema,
  type GenerateTaskConfig,
  type GenerateTaskConfigInput,
  type GenerationConfigInput,
  type GenerationParams,
  type GenerationParamsInput,
  type Lora,
  type LoraInput,
} from './config-schema.js';
export { EXAMPLE_CONFIGS } from './examples.js';
export {
  createGenerateExecutor,
  type GenerateExecutorOptions,
  type GenerateResult,
  type GeneratedImage,
} from './executor.js';
export {
  generateTaskConfigFrom,
  mergeOverride,
  splitGenerationConfig,
  validateGenerationParams,
} from './override.js';
export { buildPrompt, loraTag } from './prompt.js';
export { WebuiClient, WebuiError, type WebuiErrorKind } from './webui-client.js';
