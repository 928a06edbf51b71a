import { Form, Input, Tabs, Typography, type FormInstance } from 'antd';
import { useCallback, useState } from 'react';
import { useT } from '../i18n/index.js';
import { SchemaForm } from './SchemaForm.js';
import { toConfig, toFormValues, type Field } from './schema.js';

export type ReadResult =
  { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

export interface SchemaEditorState {
  fields: readonly Field[];
  form: FormInstance<Record<string, unknown>>;
  tab: 'form' | 'json';
  setTab(tab: 'form' | 'json'): void;
  json: string;
  /** Show `config` in both tabs. */
  load(config: Record<string, unknown>): void;
  /** The config from the active tab: the form validated, or the JSON parsed. */
  read(): Promise<ReadResult>;
  formChanged(): void;
  jsonChanged(text: string): void;
}

/**
 * One config edited two ways: a form generated from its schema, and its JSON. Every change on
 * one side is written to the other, so switching tabs never loses an edit.
 */
export function useSchemaEditor(fields: readonly Field[]): SchemaEditorState {
  const { t } = useT();
  const [form] = Form.useForm<Record<string, unknown>>();
  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [json, setJson] = useState('{}');

  const parse = useCallback(
    (text: string): ReadResult => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        return { ok: false, error: t('create.invalidJson', { message: (error as Error).message }) };
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        return { ok: false, error: t('create.notObject') };
      return { ok: true, value: value as Record<string, unknown> };
    },
    [t],
  );

  const load = useCallback(
    (config: Record<string, unknown>) => {
      form.resetFields();
      form.setFieldsValue(toFormValues(fields, config));
      setJson(JSON.stringify(config, null, 2));
    },
    [fields, form],
  );

  const formChanged = () =>
    setJson(JSON.stringify(toConfig(fields, form.getFieldsValue(true)), null, 2));

  const jsonChanged = (text: string) => {
    setJson(text);
    const parsed = parse(text);
    if (!parsed.ok) return;
    form.resetFields();
    form.setFieldsValue(toFormValues(fields, parsed.value));
  };

  const read = async (): Promise<ReadResult> => {
    if (tab === 'json') return parse(json);
    try {
      await form.validateFields();
    } catch {
      return { ok: false, error: '' };
    }
    return { ok: true, value: toConfig(fields, form.getFieldsValue(true)) };
  };

  return { fields, form, tab, setTab, json, load, read, formChanged, jsonChanged };
}

export function SchemaEditor({
  editor,
  testId,
  labelFor,
}: {
  editor: SchemaEditorState;
  testId: string;
  labelFor?: (path: string) => string | undefined;
}) {
  const { t } = useT();
  return (
    <Tabs
      activeKey={editor.tab}
      onChange={(key) => editor.setTab(key === 'json' ? 'json' : 'form')}
      items={[
        {
          key: 'form',
          label: <span data-testid={`${testId}-tab-form`}>{t('create.formTab')}</span>,
          forceRender: true,
          children: (
            <Form
              form={editor.form}
              component="div"
              layout="vertical"
              onValuesChange={editor.formChanged}
              data-testid={`${testId}-form`}
              style={{ maxHeight: '55vh', overflow: 'auto', paddingRight: 4 }}
            >
              {editor.fields.length === 0 ? (
                <Typography.Text type="secondary">{t('create.noFields')}</Typography.Text>
              ) : (
                <SchemaForm fields={editor.fields} testId={`${testId}-field`} labelFor={labelFor} />
              )}
            </Form>
          ),
        },
        {
          key: 'json',
          label: <span data-testid={`${testId}-tab-json`}>{t('create.jsonTab')}</span>,
          forceRender: true,
          children: (
            <Input.TextArea
              aria-label={t('create.config')}
              value={editor.json}
              onChange={(event) => editor.jsonChanged(event.target.value)}
              autoSize={{ minRows: 6, maxRows: 18 }}
              spellCheck={false}
              className="mono"
              data-testid={`${testId}-json`}
            />
          ),
        },
      ]}
    />
  );
}
