import { Alert, App, Form, Input, InputNumber, Modal, Select } from 'antd';
import { useEffect, useState } from 'react';
import type { Task } from '../../../src/client/index.js';
import { useSession } from '../session/Session.js';
import { describeError } from './errors.js';

export interface TaskTypeInfo {
  type: string;
  runnable: boolean;
  description: string;
}

interface Props {
  open: boolean;
  types: TaskTypeInfo[];
  onClose(): void;
  onCreated(task: Task): void;
}

interface Values {
  type: string;
  config: string;
  priority: number;
  max_attempts: number;
}

const INITIAL: Omit<Values, 'type'> = { config: '{\n  \n}', priority: 0, max_attempts: 2 };

/** Parse the config textarea; the server validates its fields, this only checks it is an object. */
function parseConfig(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`config is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('config must be a JSON object');
  return value as Record<string, unknown>;
}

/** Generic creation (`/api/task/create`): any registered type with a JSON config. */
export function CreateTaskModal({ open, types, onClose, onCreated }: Props) {
  const { client } = useSession();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  useEffect(() => {
    if (!open) return;
    setError(null);
    if (!form.getFieldValue('type')) {
      const first = types.find((t) => t.runnable) ?? types[0];
      if (first) form.setFieldValue('type', first.type);
    }
  }, [open, types, form]);

  const submit = async () => {
    const values = await form.validateFields();
    setError(null);
    let config: Record<string, unknown>;
    try {
      config = parseConfig(values.config);
    } catch (err) {
      setError((err as Error).message);
      return;
    }
    setSubmitting(true);
    try {
      const task = await client.createTask(values.type, config, {
        priority: values.priority,
        max_attempts: values.max_attempts,
      });
      void message.success(`Task ${task.id} created`);
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
      title="New task"
      okText="Create"
      onOk={() => void submit()}
      onCancel={onClose}
      confirmLoading={submitting}
      okButtonProps={{ 'data-testid': 'create-submit' }}
      forceRender
    >
      <Form form={form} layout="vertical" initialValues={INITIAL} data-testid="create-form">
        <Form.Item
          name="type"
          label="Type"
          rules={[{ required: true, message: 'Choose a task type' }]}
        >
          <Select
            data-testid="create-type"
            options={types.map((t) => ({
              value: t.type,
              label: t.runnable ? t.type : `${t.type} (no executor on this node)`,
              title: t.description,
            }))}
          />
        </Form.Item>
        <Form.Item
          name="config"
          label="Config (JSON)"
          rules={[{ required: true, message: 'Enter a JSON object' }]}
        >
          <Input.TextArea
            autoSize={{ minRows: 6, maxRows: 18 }}
            spellCheck={false}
            style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' }}
            data-testid="create-config"
          />
        </Form.Item>
        <div style={{ display: 'flex', gap: 16 }}>
          <Form.Item
            name="priority"
            label="Priority"
            tooltip="Higher runs first within its type's lane"
          >
            <InputNumber precision={0} data-testid="create-priority" />
          </Form.Item>
          <Form.Item
            name="max_attempts"
            label="Max attempts"
            tooltip="Automatic re-runs after a crash"
          >
            <InputNumber min={1} precision={0} data-testid="create-max-attempts" />
          </Form.Item>
        </div>
        {error && <Alert type="error" showIcon title={error} data-testid="create-error" />}
      </Form>
    </Modal>
  );
}
