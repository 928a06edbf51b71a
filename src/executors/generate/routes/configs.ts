import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorCode, TailorError } from '../../../domain/errors.js';
import { TASK_ID_PATTERN, type JsonObject } from '../../../domain/task.js';
import { ok } from '../../../http/envelope.js';
import { envelope, errorResponses } from '../../../http/schemas.js';
import { GenerationConfigSchema, GenerationParamsSchema } from '../config-schema.js';
import { EXAMPLE_CONFIGS } from '../examples.js';
import { splitGenerationConfig, validateGenerationParams } from '../override.js';
import type { ConfigStore, StoredConfig } from '../storage/configs.js';

/**
 * Named generation configs: the flat fields of the original PixivTailor configs. The
 * store keeps name and category apart from an opaque body; this API joins them again, and the
 * body is always validated (defaults filled in) by the generate executor's schema, so what a
 * client reads back is exactly what a task made from it will use.
 */

const tags = ['configs'];
const strict = { additionalProperties: false } as const;
const NAME_MAX = 200;
const COPY_SUFFIX = ' (copy)';

const ConfigId = Type.String({ pattern: TASK_ID_PATTERN, description: 'Opaque config id' });
const Timestamp = Type.String({ format: 'date-time' });
const IdParams = Type.Object({ id: ConfigId }, strict);

const Config = Type.Object(
  {
    id: ConfigId,
    name: Type.String(),
    category: Type.String(),
    ...GenerationParamsSchema.properties,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { description: 'A stored generation config: name and category next to the flat fields' },
);

// ajv here never coerces, and every query value arrives as a string: numbers are declared as
// digit strings so that `?page=abc` is a 400 naming /page instead of a NaN reaching the store.
const ListQuery = Type.Object(
  {
    name: Type.Optional(
      Type.String({ maxLength: NAME_MAX, description: "Case-insensitive substring; '' means any" }),
    ),
    category: Type.Optional(Type.String({ maxLength: 100, description: "Exact; '' means any" })),
    page: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: 'A positive integer, default 1' }),
    ),
    page_size: Type.Optional(
      Type.String({
        pattern: '^(?:[1-9]|[1-9][0-9]|100)$',
        description: 'An integer from 1 to 100, default 20',
      }),
    ),
  },
  strict,
);

const DuplicateBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: NAME_MAX,
        description: 'Name of the copy; default "<name> (copy)"',
      }),
    ),
  },
  strict,
);

export const configNotFound = (id: string): TailorError =>
  new TailorError(ErrorCode.RESOURCE_NOT_FOUND, `generation config ${id} not found`, {
    config_id: id,
  });

function publicConfig(config: StoredConfig): JsonObject {
  // The body never holds id/name/category (the schema forbids them); spreading it first keeps
  // even a hand-edited row from shadowing them.
  return {
    ...config.body,
    id: config.id,
    name: config.name,
    category: config.category,
    created_at: config.created_at,
    updated_at: config.updated_at,
  };
}

function copyName(name: string): string {
  return name.slice(0, NAME_MAX - COPY_SUFFIX.length) + COPY_SUFFIX;
}

/**
 * An empty store gets the example configs, so a new installation has something to start from.
 * Only an empty one: a user who deleted or edited the examples keeps their choice.
 */
async function seedExamples(store: ConfigStore): Promise<void> {
  const { total } = await store.list({ page: 1, pageSize: 1 });
  if (total > 0) return;
  for (const example of EXAMPLE_CONFIGS) {
    const { name, category, body } = splitGenerationConfig(structuredClone(example) as JsonObject);
    await store.create({
      name,
      category,
      body: validateGenerationParams(body) as JsonObject,
    });
  }
}

export const configRoutes: FastifyPluginAsyncTypebox<{ store: ConfigStore }> = async (
  app,
  { store },
) => {
  await seedExamples(store);

  const mustGet = async (id: string): Promise<StoredConfig> => {
    const config = await store.get(id);
    if (!config) throw configNotFound(id);
    return config;
  };

  app.get(
    '/api/configs',
    {
      schema: {
        tags,
        summary: 'List generation configs, sorted by name',
        querystring: ListQuery,
        response: {
          200: envelope(
            Type.Object({
              configs: Type.Array(Config),
              pagination: Type.Object({
                page: Type.Integer(),
                page_size: Type.Integer(),
                total: Type.Integer(),
              }),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = Number(request.query.page ?? 1);
      const pageSize = Number(request.query.page_size ?? 20);
      const { configs, total } = await store.list({
        page,
        pageSize,
        name: request.query.name || undefined,
        category: request.query.category || undefined,
      });
      return ok({
        configs: configs.map(publicConfig),
        pagination: { page, page_size: pageSize, total },
      });
    },
  );

  app.get(
    '/api/configs/:id',
    {
      schema: {
        tags,
        summary: 'One generation config',
        params: IdParams,
        response: { 200: envelope(Config), ...errorResponses },
      },
    },
    async (request) => ok(publicConfig(await mustGet(request.params.id))),
  );

  app.post(
    '/api/configs',
    {
      schema: {
        tags,
        summary: 'Create a generation config',
        description: 'Validated like a generate task; fields left out get their defaults.',
        body: GenerationConfigSchema,
        response: { 200: envelope(Config), ...errorResponses },
      },
    },
    async (request) => {
      const created = await store.create(splitGenerationConfig(request.body as JsonObject));
      return ok(publicConfig(created));
    },
  );

  app.put(
    '/api/configs/:id',
    {
      schema: {
        tags,
        summary: 'Replace a generation config',
        description: 'A full replacement: fields left out get their defaults, not the old values.',
        params: IdParams,
        body: GenerationConfigSchema,
        response: { 200: envelope(Config), ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const updated = await store.update(id, splitGenerationConfig(request.body as JsonObject));
      if (!updated) throw configNotFound(id);
      return ok(publicConfig(updated));
    },
  );

  app.delete(
    '/api/configs/:id',
    {
      schema: {
        tags,
        summary: 'Delete a generation config',
        description: 'Tasks already made from it keep their own copy of its fields.',
        params: IdParams,
        response: { 200: envelope(Type.Object({ id: ConfigId })), ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await store.delete(id))) throw configNotFound(id);
      return ok({ id });
    },
  );

  app.post(
    '/api/configs/:id/duplicate',
    {
      schema: {
        tags,
        summary: 'Copy a generation config under a new id',
        params: IdParams,
        body: DuplicateBody,
        response: { 200: envelope(Config), ...errorResponses },
      },
      // The body is optional: a bare POST duplicates with the default name.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const source = await mustGet(request.params.id);
      const copy = await store.create({
        name: request.body.name ?? copyName(source.name),
        category: source.category,
        body: source.body,
      });
      return ok(publicConfig(copy));
    },
  );
};
