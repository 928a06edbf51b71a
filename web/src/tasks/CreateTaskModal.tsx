import { Alert, App, Form, InputNumber, Modal, Select } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import type { Task, TaskTypeInfo } from '../../../src/client/index.js';
import { SchemaEditor, useSchemaEditor } from '../forms/SchemaEditor.js';
import { defaultsOf, fieldsOf, type JsonSchema } from '../forms/schema.js';
import { useT } from '../i18n/index.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';

export type { TaskTypeInfo };

interface Props {
  open: boolean;
  types: TaskTypeInfo[];
  onClose(): void;
  onCreated(task: Task): void;
}

interface Options {
  type: string;
  priority: number;
  max_attempts: number;
}

/**
 * Generic creation (`/api/task/create`): a form generated from the chosen type's JSON Schema
 * (`/api/task-types`), with the same config as JSON one tab away.
 */
export function CreateTaskModal({ open, types, onClose, onCreated }: Props) {
  const { t } = useT();
  const { client } = useSession();
  const { message } = App.useApp();
  const [options] = Form.useForm<Options>();
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const type = Form.useWatch('type', options);
  const info = types.find((candidate) => candidate.type === type);
  const fields = useMemo(() => fieldsOf((info?.schema ?? {}) as JsonSchema), [info]);
  const editor = useSchemaEditor(fields);
  const { load } = editor;

  useEffect(() => {
    if (!open) return;
    setError(null);
    if (!options.getFieldValue('type')) {
      const first = types.find((candidate) => candidate.runnable) ?? types[0];
      if (first) options.setFieldValue('type', first.type);
    }
  }, [open, types, options]);

  // A new type starts from its schema's defaults.
  useEffect(() => load(defaultsOf(fields)), [fields, load]);

  const submit = async () => {
    const { type: chosen, priority, max_attempts } = await options.validateFields();
    setError(null);
    const config = await editor.read();
    if (!config.ok) {
      if (config.error) setError(config.error);
      return;
    }
    setSubmitting(true);
    try {
      const task = await client.createTask(chosen, config.value, { priority, max_attempts });
      void message.success(t('create.created', { id: task.id }));
      onCreated(task);
      onClose();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('create.title')}
      okText={t('create.ok')}
      cancelText={t('action.confirmNo')}
      onOk={() => void submit()}
      onCancel={onClose}
      confirmLoading={submitting}
      okButtonProps={{ 'data-testid': 'create-submit' }}
      width={640}
      forceRender
    >
      <Form
        form={options}
        layout="vertical"
        component="div"
        initialValues={{ priority: 0, max_attempts: 2 }}
      >
        <Form.Item
          name="type"
          label={t('create.type')}
          htmlFor="create-type"
          rules={[{ required: true, message: t('create.chooseType') }]}
        >
          <Select
            id="create-type"
            data-testid="create-type"
            options={types.map((candidate) => ({
              value: candidate.type,
              label: candidate.runnable
                ? candidate.type
                : t('create.noExecutor', { type: candidate.type }),
              title: candidate.description,
            }))}
          />
        </Form.Item>
        <SchemaEditor editor={editor} testId="create" />
        <div style={{ display: 'flex', gap: 16 }}>
          <Form.Item
            name="priority"
            label={t('create.priority')}
            tooltip={t('create.priorityHelp')}
            htmlFor="create-priority"
          >
            <InputNumber id="create-priority" precision={0} data-testid="create-priority" />
          </Form.Item>
          <Form.Item
            name="max_attempts"
            label={t('create.maxAttempts')}
            tooltip={t('create.maxAttemptsHelp')}
            htmlFor="create-max-attempts"
          >
            <InputNumber
              id="create-max-attempts"
              min={1}
              precision={0}
              data-testid="create-max-attempts"
            />
          </Form.Item>
        </div>
      </Form>
      {error && <Alert type="error" showIcon title={error} data-testid="create-error" />}
    </Modal>
  );
}
