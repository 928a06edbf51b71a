import {
  Alert,
  App,
  AutoComplete,
  Button,
  Card,
  Col,
  Collapse,
  Form,
  Input,
  InputNumber,
  Row,
  Space,
  Spin,
  Typography,
} from 'antd';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fieldsOf, type Field, type JsonSchema } from '../../../../web/src/forms/schema.js';
import { fileUrl } from '../../../../web/src/files/useFileUrl.js';
import { useRoute } from '../../../../web/src/router.js';
import { useSession } from '../../../../web/src/session/Session.js';
import { describeError } from '../../../../web/src/tasks/errors.js';
import { GenerationParamsSchema } from '../config-schema.js';
import {
  draftOf,
  generateWithConfig,
  listConfigs,
  overrideOf,
  serverFeatures,
  webuiOptions,
  type Draft,
  type Lora,
  type StoredConfig,
  type WebuiOptions,
} from './api.js';
import { ConfigLibrary } from './ConfigLibrary.js';
import { ConfigEditorModal, type EditTarget } from './ConfigEditorModal.js';
import { GenerationRun } from './GenerationRun.js';
import { LoraList } from './LoraList.js';

/** Bounds of the numeric inputs come from the same schema the server validates with. */
const PARAM_FIELDS = new Map<string, Field>(
  fieldsOf(GenerationParamsSchema as JsonSchema).map((field) => [field.name, field]),
);

const NUMBERS = [
  ['steps', 'steps'],
  ['cfg_scale', 'cfgScale'],
  ['width', 'width'],
  ['height', 'height'],
  ['seed', 'seed'],
  ['batch_size', 'batchSize'],
  ['batch_count', 'batchCount'],
  ['loop_count', 'loopCount'],
] as const;

const PICKERS = [
  ['model', 'model', 'models'],
  ['sampler', 'sampler', 'samplers'],
  ['vae', 'vae', 'vaes'],
  ['hr_upscaler', 'upscaler', 'upscalers'],
] as const;

function bounds(name: string): { min?: number; max?: number; step?: number; precision?: number } {
  const field = PARAM_FIELDS.get(name);
  if (field?.kind !== 'number') return {};
  return {
    min: field.min,
    max: field.max,
    step: field.step ?? (field.integer ? 1 : 0.5),
    precision: field.integer ? 0 : undefined,
  };
}

/** The generate studio: the config library, an editor for one generation, and its live run. */
export default function GeneratePage() {
  const { t } = useTranslation('generate');
  const { client, token } = useSession();
  const { message } = App.useApp();
  const route = useRoute();
  const [configs, setConfigs] = useState<StoredConfig[] | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>({});
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<EditTarget | null>(null);
  const [features, setFeatures] = useState({ options: false, preview: false });
  const [options, setOptions] = useState<WebuiOptions | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const [queueing, setQueueing] = useState(false);
  const [prefilledFrom, setPrefilledFrom] = useState<string | null>(null);
  const prefilled = useRef<string | null>(null);

  const selected = configs?.find((config) => config.id === selectedId) ?? null;
  const stored = useMemo(() => (selected ? draftOf(selected) : {}), [selected]);
  const override = useMemo(() => overrideOf(stored, draft), [stored, draft]);

  const select = useCallback((config: StoredConfig | null) => {
    setSelectedId(config?.id ?? null);
    setDraft(config ? draftOf(config) : {});
  }, []);

  const reload = useCallback(
    async (selectId?: string) => {
      try {
        const list = await listConfigs(client);
        setConfigs(list);
        setError(null);
        if (selectId !== undefined)
          select(list.find((config) => config.id === selectId) ?? list[0] ?? null);
        return list;
      } catch (err) {
        setError(describeError(err));
        return null;
      }
    },
    [client, select],
  );

  useEffect(() => {
    void reload().then((list) => {
      if (list && !prefilled.current) select(list[0] ?? null);
    });
  }, [reload, select]);

  useEffect(() => {
    let live = true;
    void serverFeatures(client, token).then(async (found) => {
      if (!live) return;
      setFeatures(found);
      if (found.options) {
        const fetched = await webuiOptions(client).catch(() => null);
        if (live) setOptions(fetched);
      }
    });
    return () => {
      live = false;
    };
  }, [client, token]);

  // "Re-generate with these settings" from the gallery: the task's own config, with the seed the
  // image was actually made with (a random seed is -1 in the config).
  const fromTask = route.params.get('from_task');
  const fromFile = route.params.get('from_file');
  useEffect(() => {
    if (!fromTask || !fromFile || !configs) return;
    const key = `${fromTask}/${fromFile}`;
    if (prefilled.current === key) return;
    prefilled.current = key;
    void (async () => {
      try {
        const task = await client.getTask(fromTask);
        const sidecarPath = fileUrl(fromTask, fromFile.replace(/\.[^./]+$/, '.json'));
        const response = await fetch(client.baseUrl + sidecarPath, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        const sidecar: unknown = response.ok ? await response.json() : null;
        const seed =
          sidecar &&
          typeof sidecar === 'object' &&
          'seed' in sidecar &&
          typeof sidecar.seed === 'number'
            ? sidecar.seed
            : undefined;
        const base =
          configs.find((config) => config.id === task.config.config_id) ?? configs[0] ?? null;
        setSelectedId(base?.id ?? null);
        setDraft({ ...draftOf(task.config), ...(seed !== undefined ? { seed } : {}) });
        setPrefilledFrom(fromFile);
      } catch (err) {
        void message.error(t('prefillFailed', { message: describeError(err) ?? '' }));
      }
    })();
  }, [fromTask, fromFile, configs, client, token, message, t]);

  const set = (key: keyof Draft, value: unknown) =>
    setDraft((current) => {
      const next = { ...current };
      if (value === null || value === undefined || value === '') delete next[key];
      else next[key] = value;
      return next;
    });

  const generate = async () => {
    if (!selected) return;
    setQueueing(true);
    try {
      const task = await generateWithConfig(client, selected.id, override);
      setRunId(task.id);
      void message.success(t('queued', { id: task.id }));
    } catch (err) {
      const text = describeError(err);
      if (text) void message.error(text);
    } finally {
      setQueueing(false);
    }
  };

  const changed = Object.keys(override).length;
  const loras = (Array.isArray(draft.loras) ? draft.loras : []) as Lora[];
  const text = (key: keyof Draft): string =>
    typeof draft[key] === 'string' ? String(draft[key]) : '';
  const number = (key: keyof Draft): number | null =>
    typeof draft[key] === 'number' ? Number(draft[key]) : null;

  return (
    <>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={8} xl={7}>
          <Card size="small">
            {configs === null ? (
              <Spin />
            ) : (
              <ConfigLibrary
                configs={configs}
                selectedId={selectedId}
                onSelect={(id) => {
                  setPrefilledFrom(null);
                  select(configs.find((config) => config.id === id) ?? null);
                }}
                onCreate={() => setEditing({ mode: 'create' })}
                onEdit={(config) => setEditing({ mode: 'edit', config })}
                onChanged={(id) => void reload(id ?? selectedId ?? '')}
              />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={16} xl={17}>
          <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
            {!selected ? (
              <Card size="small">
                <Typography.Text type="secondary">{t('noneSelected')}</Typography.Text>
              </Card>
            ) : (
              <Card
                size="small"
                title={<span data-testid="editor-title">{selected.name}</span>}
                extra={
                  <Space>
                    {changed > 0 && (
                      <>
                        <Typography.Text type="secondary" data-testid="changed-count">
                          {t('changed', { count: changed })}
                        </Typography.Text>
                        <Button size="small" onClick={() => select(selected)}>
                          {t('revert')}
                        </Button>
                      </>
                    )}
                  </Space>
                }
                data-testid="generation-editor"
              >
                {prefilledFrom && (
                  <Alert
                    type="info"
                    showIcon
                    title={t('prefilled', { file: prefilledFrom })}
                    style={{ marginBottom: 12 }}
                    data-testid="prefilled"
                  />
                )}
                <Form layout="vertical" component="div">
                  <Form.Item label={t('prompt')} htmlFor="gen-prompt">
                    <Input.TextArea
                      id="gen-prompt"
                      value={text('prompt')}
                      onChange={(event) => set('prompt', event.target.value)}
                      autoSize={{ minRows: 3, maxRows: 10 }}
                      data-testid="gen-prompt"
                    />
                  </Form.Item>
                  <Form.Item label={t('negativePrompt')} htmlFor="gen-negative">
                    <Input.TextArea
                      id="gen-negative"
                      value={text('negative_prompt')}
                      onChange={(event) => set('negative_prompt', event.target.value)}
                      autoSize={{ minRows: 2, maxRows: 8 }}
                      data-testid="gen-negative"
                    />
                  </Form.Item>
                  <Form.Item label={t('loras')}>
                    <LoraList
                      loras={loras}
                      onChange={(next) => setDraft((current) => ({ ...current, loras: next }))}
                      available={options?.loras ?? null}
                    />
                  </Form.Item>
                  <Collapse
                    size="small"
                    defaultActiveKey={['params']}
                    items={[
                      {
                        key: 'params',
                        label: t('parameters'),
                        children: (
                          <Row gutter={12}>
                            {PICKERS.map(([key, label, list]) => (
                              <Col xs={24} sm={12} key={key}>
                                <Form.Item label={t(label)} htmlFor={`gen-${key}`}>
                                  <AutoComplete
                                    id={`gen-${key}`}
                                    value={text(key)}
                                    options={options?.[list]?.map((value) => ({ value }))}
                                    placeholder={options?.[list] ? undefined : t('freeText')}
                                    onChange={(value: string) => set(key, value)}
                                    data-testid={`gen-${key}`}
                                  />
                                </Form.Item>
                              </Col>
                            ))}
                            {NUMBERS.map(([key, label]) => (
                              <Col xs={12} sm={8} md={6} key={key}>
                                <Form.Item label={t(label)} htmlFor={`gen-${key}`}>
                                  <InputNumber
                                    id={`gen-${key}`}
                                    value={number(key)}
                                    {...bounds(key)}
                                    onChange={(value) => set(key, value)}
                                    style={{ width: '100%' }}
                                    data-testid={`gen-${key}`}
                                  />
                                </Form.Item>
                              </Col>
                            ))}
                          </Row>
                        ),
                      },
                    ]}
                  />
                </Form>
                <Space style={{ marginTop: 16 }}>
                  <Button
                    type="primary"
                    size="large"
                    loading={queueing}
                    onClick={() => void generate()}
                    data-testid="generate-button"
                  >
                    {t('generate')}
                  </Button>
                </Space>
              </Card>
            )}
            {runId && (
              <GenerationRun key={runId} taskId={runId} previewAvailable={features.preview} />
            )}
          </Space>
        </Col>
      </Row>
      <ConfigEditorModal
        target={editing}
        onClose={() => setEditing(null)}
        onSaved={(config) => {
          setEditing(null);
          void message.success(t('saved'));
          void reload(config.id);
        }}
      />
    </>
  );
}
