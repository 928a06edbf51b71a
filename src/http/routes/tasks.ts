import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { redactTask } from '../../domain/redact.js';
import { taskNotFound } from '../../domain/errors.js';
import type { Task as TaskModel } from '../../domain/task.js';
import type { TaskService } from '../../scheduler/tasks.js';
import { ok } from '../envelope.js';
import {
  CleanupBody,
  CreateBody,
  DeleteBody,
  ListBody,
  ListData,
  LogsBody,
  StatusData,
  TaskIdBody,
  envelope,
  errorResponses,
} from '../schemas.js';

const TaskRef = Type.Ref('Task');
const tags = ['tasks'];

/** The seed's task endpoints (all POST with JSON bodies) plus generic creation. */
export const taskRoutes: FastifyPluginAsyncTypebox<{ tasks: TaskService }> = async (
  app,
  { tasks: service },
) => {
  const publicTask = (task: TaskModel): TaskModel => redactTask(task);

  app.post(
    '/api/tasks',
    {
      schema: {
        tags,
        summary: 'List tasks, newest first',
        body: ListBody,
        response: { 200: envelope(ListData), ...errorResponses },
      },
    },
    async (request) => {
      const page = request.body.pagination?.page ?? 1;
      const pageSize = request.body.pagination?.page_size ?? 20;
      const { tasks, total } = await service.list({
        page,
        pageSize,
        status: request.body.status || undefined,
        type: request.body.type || undefined,
      });
      return ok({ tasks: tasks.map(publicTask), pagination: { page, page_size: pageSize, total } });
    },
  );

  app.post(
    '/api/status',
    {
      schema: {
        tags,
        summary: 'Status of one task',
        body: TaskIdBody,
        response: { 200: envelope(StatusData), ...errorResponses },
      },
    },
    async (request) => {
      const task = await service.get(request.body.task_id);
      if (!task) throw taskNotFound(request.body.task_id);
      return ok({
        task_id: task.id,
        status: task.status,
        progress: task.progress,
        message: task.message,
        error_message: task.error_message,
        created_at: task.created_at,
        started_at: task.started_at,
        completed_at: task.completed_at,
      });
    },
  );

  app.post(
    '/api/task/get',
    {
      schema: {
        tags,
        summary: 'One whole task (config redacted)',
        body: TaskIdBody,
        response: { 200: envelope(TaskRef), ...errorResponses },
      },
    },
    async (request) => {
      const task = await service.get(request.body.task_id);
      if (!task) throw taskNotFound(request.body.task_id);
      return ok(publicTask(task));
    },
  );

  app.post(
    '/api/task/create',
    {
      schema: {
        tags,
        summary: 'Create a task of any registered type',
        description:
          "The config is validated by the type's executor schema; 501 if no executor is registered.",
        body: CreateBody,
        response: { 200: envelope(TaskRef), ...errorResponses },
      },
    },
    async (request) => ok(publicTask(await service.create(request.body))),
  );

  app.post(
    '/api/task/start',
    {
      schema: {
        tags,
        summary: 'Re-run a finished task (failed, cancelled or completed → pending)',
        description: 'A pending task is left as it is (200); a running task is a 409.',
        body: TaskIdBody,
        response: { 200: envelope(TaskRef), ...errorResponses },
      },
    },
    async (request) => ok(publicTask(await service.rerun(request.body.task_id))),
  );

  app.post(
    '/api/task/stop',
    {
      schema: {
        tags,
        summary: 'Stop a running task (running → cancelled)',
        description:
          'Aborts the executor and waits for it (at most the grace period). 409 if not running.',
        body: TaskIdBody,
        response: { 200: envelope(TaskRef), ...errorResponses },
      },
    },
    async (request) => ok(publicTask(await service.stop(request.body.task_id))),
  );

  app.post(
    '/api/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a pending or running task',
        body: TaskIdBody,
        response: { 200: envelope(TaskRef), ...errorResponses },
      },
    },
    async (request) => ok(publicTask(await service.cancel(request.body.task_id))),
  );

  app.post(
    '/api/delete',
    {
      schema: {
        tags,
        summary: 'Delete a task (a running one is stopped first)',
        body: DeleteBody,
        response: { 200: envelope(Type.Object({ task_id: Type.String() })), ...errorResponses },
      },
    },
    async (request) => {
      await service.remove(request.body.task_id, {
        deleteFiles: request.body.delete_files ?? false,
      });
      return ok({ task_id: request.body.task_id });
    },
  );

  app.post(
    '/api/task/cleanup',
    {
      schema: {
        tags,
        summary: 'Delete finished tasks; never pending or running ones',
        body: CleanupBody,
        response: {
          200: envelope(
            Type.Object({ cleaned_count: Type.Integer(), cleanup_type: Type.String() }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const ids = await service.cleanup(request.body.cleanup_type, {
        deleteFiles: request.body.delete_files ?? false,
      });
      return ok({ cleaned_count: ids.length, cleanup_type: request.body.cleanup_type });
    },
  );

  app.post(
    '/api/task/logs',
    {
      schema: {
        tags,
        summary: "A task's stored log lines, in order",
        body: LogsBody,
        response: {
          200: envelope(Type.Object({ logs: Type.Array(Type.Ref('TaskLog')) })),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const logs = await service.logs(
        request.body.task_id,
        request.body.after_seq ?? 0,
        request.body.limit ?? 200,
      );
      return ok({ logs });
    },
  );

  app.get(
    '/api/task-types',
    {
      schema: {
        tags,
        summary: 'Registered task types, whether this node runs them, their schemas and settings',
        description:
          'A type this node does not run is still accepted and queued for the nodes that run it ' +
          '(cluster mode). `schema` is the JSON Schema of the task config (for generated forms); ' +
          'secret settings show only whether they are set.',
        response: {
          200: envelope(
            Type.Object({
              types: Type.Array(
                Type.Object({
                  type: Type.String(),
                  runnable: Type.Boolean(),
                  description: Type.String(),
                  schema: Type.Record(Type.String(), Type.Unknown()),
                  settings: Type.Array(
                    Type.Object({
                      key: Type.String(),
                      env: Type.String(),
                      description: Type.String(),
                      secret: Type.Boolean(),
                      set: Type.Boolean(),
                      value: Type.Union([Type.String(), Type.Null()]),
                    }),
                  ),
                }),
              ),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async () => ok({ types: service.describeTypes() }),
  );
};
