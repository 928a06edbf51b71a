import { Alert, Modal } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SchemaEditor, useSchemaEditor } from '../../../../web/src/forms/SchemaEditor.js';
import { defaultsOf, fieldsOf, type JsonSchema } from '../../../../web/src/forms/schema.js';
import { useSession } from '../../../../web/src/session/Session.js';
import { describeError } from '../../../../web/src/tasks/errors.js';
import { GenerationConfigSchema } from '../config-schema.js';
import { saveConfig, type StoredConfig } from './api.js';

export type EditTarget = { mode: 'create' } | { mode: 'edit'; config: StoredConfig };

/** The module's own schema: the form is exactly what `POST/PUT /api/configs` validates. */
const CONFIG_SCHEMA: JsonSchema = GenerationConfigSchema;

/** Create or edit a stored config through a form generated from its schema (JSON one tab away). */
export function ConfigEditorModal({
  target,
  onClose,
  onSaved,
}: {
  target: EditTarget | null;
  onClose(): void;
  onSaved(config: StoredConfig): void;
}) {
  const { t } = useTranslation('generate');
  const { client } = useSession();
  const fields = useMemo(() => fieldsOf(CONFIG_SCHEMA), []);
  const editor = useSchemaEditor(fields);
  const { load } = editor;
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!target) return;
    setError(null);
    if (target.mode === 'create') load({ name: '', ...defaultsOf(fields) });
    else {
      const { id: _id, created_at: _c, updated_at: _u, ...body } = target.config;
      load(body);
    }
  }, [target, fields, load]);

  const save = async () => {
    if (!target) return;
    const read = await editor.read();
    if (!read.ok) {
      if (read.error) setError(read.error);
      return;
    }
    setSaving(true);
    try {
      const saved = await saveConfig(
        client,
        target.mode === 'edit' ? target.config.id : null,
        read.value,
      );
      onSaved(saved);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open={target !== null}
      title={t(target?.mode === 'edit' ? 'editTitle' : 'createTitle')}
      okText={t('save')}
      cancelText={t('cancel')}
      onOk={() => void save()}
      onCancel={onClose}
      confirmLoading={saving}
      okButtonProps={{ 'data-testid': 'config-save' }}
      width={720}
      forceRender
    >
      <SchemaEditor
        editor={editor}
        testId="config"
        labelFor={(path) => {
          const key = `field.${path}`;
          const text = t(key);
          return text === key ? undefined : text;
        }}
      />
      {error && <Alert type="error" showIcon title={error} data-testid="config-error" />}
    </Modal>
  );
}
