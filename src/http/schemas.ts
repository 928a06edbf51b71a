import type {} from '@fastify/swagger'; // augments FastifySchema with tags/summary
import { Type, type TSchema } from 'typebox';
import {
  LOG_LEVELS,
  TASK_ID_PATTERN,
  TASK_STATUSES,
  TASK_TYPE_PATTERN,
  TERMINAL_STATUSES,
} from '../domain/task.js';
import { LIMITS } from '../scheduler/tasks.js';

/**
 * Request and response schemas. Fastify validates bodies and serialises responses with them, and
 * the OpenAPI document at /openapi.json is generated from the same objects.
 */

export const TaskId = Type.String({
  pattern: TASK_ID_PATTERN,
  description: 'Opaque, URL-safe task id',
});
export const TaskType = Type.String({
  pattern: TASK_TYPE_PATTERN,
  description: 'Task type: one of those /api/task-types lists',
});
export const TaskStatus = Type.Enum([...TASK_STATUSES]);
const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const Task = Type.Object(
  {
    id: TaskId,
    type: Type.String(),
    status: TaskStatus,
    progress: Type.Integer({ minimum: 0, maximum: 100 }),
    message: Type.String(),
    config: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Validated parameters; secrets redacted',
    }),
    result: Type.Unknown({ description: 'Executor output, or null' }),
    error_message: Type.Union([Type.String(), Type.Null()]),
    priority: Type.Integer(),
    attempts: Type.Integer(),
    max_attempts: Type.Integer(),
    owner: Type.Union([Type.String(), Type.Null()], {
      description: 'Node that runs or last ran it',
    }),
    version: Type.Integer({ description: 'Increases with every visible change' }),
    created_at: Timestamp,
    started_at: NullableTimestamp,
    completed_at: NullableTimestamp,
    updated_at: Timestamp,
  },
  { $id: 'Task' },
);

export const TaskLog = Type.Object(
  {
    task_id: TaskId,
    seq: Type.Integer({ minimum: 1 }),
    time: Timestamp,
    level: Type.Enum([...LOG_LEVELS]),
    message: Type.String(),
  },
  { $id: 'TaskLog' },
);

const strict = { additionalProperties: false } as const;

export const TaskIdBody = Type.Object({ task_id: TaskId }, strict);

export const DeleteBody = Type.Object(
  {
    task_id: TaskId,
    delete_files: Type.Optional(
      Type.Boolean({ description: "Also delete the task's output folder" }),
    ),
  },
  strict,
);

export const ListBody = Type.Object(
  {
    pagination: Type.Optional(
      Type.Object(
        {
          page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
          page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          total: Type.Optional(
            Type.Integer({ description: 'Ignored; accepted for seed compatibility' }),
          ),
        },
        strict,
      ),
    ),
    status: Type.Optional(
      Type.Union([TaskStatus, Type.Literal('')], { description: "'' means any" }),
    ),
    type: Type.Optional(Type.Union([TaskType, Type.Literal('')], { description: "'' means any" })),
  },
  strict,
);

export const CleanupBody = Type.Object(
  {
    cleanup_type: Type.Enum([...TERMINAL_STATUSES, 'all']),
    delete_files: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const LogsBody = Type.Object(
  {
    task_id: TaskId,
    after_seq: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  strict,
);

/** Higher runs first within its lane. */
export const Priority = Type.Integer({
  minimum: -LIMITS.priority,
  maximum: LIMITS.priority,
  default: 0,
  description: 'Higher runs first within its lane',
});

export const CreateBody = Type.Object(
  {
    type: TaskType,
    config: Type.Record(Type.String(), Type.Unknown(), {
      description: "Validated by the type's executor schema",
    }),
    priority: Type.Optional(Priority),
    max_attempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: LIMITS.maxAttempts,
        default: 2,
        description: 'Limit for automatic re-runs after a crash',
      }),
    ),
  },
  strict,
);

export const StatusData = Type.Object({
  task_id: TaskId,
  status: TaskStatus,
  progress: Type.Integer(),
  message: Type.String(),
  error_message: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  started_at: NullableTimestamp,
  completed_at: NullableTimestamp,
});

export const ListData = Type.Object({
  tasks: Type.Array(Type.Ref('Task')),
  pagination: Type.Object({
    page: Type.Integer(),
    page_size: Type.Integer(),
    total: Type.Integer(),
  }),
});

const Status = Type.Object({ code: Type.Integer(), message: Type.String() });

/** `{status:{code:0,message:"success"},data:…}` around a data schema. */
export function envelope(data: TSchema): TSchema {
  return Type.Object({ status: Status, data });
}

export const ErrorEnvelope = Type.Object(
  {
    status: Type.Object({
      code: Type.Integer({ description: 'Non-zero; the first three digits are the HTTP status' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error' },
);

/** Responses every JSON route may give besides its success. */
export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
  413: Type.Ref('Error'),
  415: Type.Ref('Error'),
  500: Type.Ref('Error'),
  501: Type.Ref('Error'),
  503: Type.Ref('Error'),
};
