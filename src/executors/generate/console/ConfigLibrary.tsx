import { App, Button, Empty, Input, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../../../../web/src/session/Session.js';
import { describeError } from '../../../../web/src/tasks/errors.js';
import { deleteConfig, duplicateConfig, type StoredConfig } from './api.js';

/** The stored configs: search by name, filter by category, and the create/edit/copy/delete actions. */
export function ConfigLibrary({
  configs,
  selectedId,
  onSelect,
  onCreate,
  onEdit,
  onChanged,
}: {
  configs: StoredConfig[];
  selectedId: string | null;
  onSelect(id: string): void;
  onCreate(): void;
  onEdit(config: StoredConfig): void;
  /** A config was added (the copy) or removed; reload the list. */
  onChanged(select?: string): void;
}) {
  const { t } = useTranslation('generate');
  const { client } = useSession();
  const { message } = App.useApp();
  const [search, setSearch] = useState('');
  const [category, setCategory] = useState('');
  const categories = useMemo(
    () => [...new Set(configs.map((config) => config.category).filter(Boolean))].sort(),
    [configs],
  );
  const shown = configs.filter(
    (config) =>
      config.name.toLowerCase().includes(search.trim().toLowerCase()) &&
      (!category || config.category === category),
  );

  const act = async (action: () => Promise<unknown>, done: string, select?: string) => {
    try {
      const result = await action();
      void message.success(done);
      const id =
        select ??
        (result && typeof result === 'object' && 'name' in result && 'id' in result
          ? String(result.id)
          : undefined);
      onChanged(id);
    } catch (error) {
      const text = describeError(error);
      if (text) void message.error(text);
    }
  };

  return (
    <section aria-labelledby="config-library-title" data-testid="config-library">
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Typography.Title level={5} id="config-library-title" style={{ margin: 0 }}>
          {t('library')}
        </Typography.Title>
        <Button size="small" type="primary" onClick={onCreate} data-testid="config-new">
          {t('newConfig')}
        </Button>
      </Space>
      <Space orientation="vertical" style={{ width: '100%', marginBottom: 8 }}>
        <Input.Search
          aria-label={t('search')}
          placeholder={t('search')}
          allowClear
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          data-testid="config-search"
        />
        <Select<string>
          aria-label={t('category')}
          value={category}
          onChange={setCategory}
          style={{ width: '100%' }}
          options={[
            { value: '', label: t('anyCategory') },
            ...categories.map((value) => ({ value, label: value })),
          ]}
          data-testid="config-category"
        />
      </Space>
      {shown.length === 0 ? (
        <Empty description={t('noConfigs')} />
      ) : (
        <ul style={{ listStyle: 'none', padding: 0, margin: 0 }}>
          {shown.map((config) => (
            <li
              key={config.id}
              className="config-item"
              aria-current={config.id === selectedId}
              data-testid="config-item"
              data-name={config.name}
            >
              <button
                type="button"
                className="config-item-select"
                onClick={() => onSelect(config.id)}
                data-testid="config-select"
              >
                <Typography.Text strong ellipsis title={config.name} style={{ display: 'block' }}>
                  {config.name}
                </Typography.Text>
                {config.category && <Tag>{config.category}</Tag>}
              </button>
              <Space size={2}>
                <Button
                  size="small"
                  type="text"
                  onClick={() => onEdit(config)}
                  data-testid="config-edit"
                >
                  {t('edit')}
                </Button>
                <Button
                  size="small"
                  type="text"
                  onClick={() =>
                    void act(() => duplicateConfig(client, config.id), t('duplicated'))
                  }
                  data-testid="config-duplicate"
                >
                  {t('duplicate')}
                </Button>
                <Popconfirm
                  title={t('deleteConfirm', { name: config.name })}
                  okText={t('delete')}
                  cancelText={t('cancel')}
                  okButtonProps={{ danger: true, 'data-testid': 'config-delete-confirm' }}
                  onConfirm={() => act(() => deleteConfig(client, config.id), t('deleted'), '')}
                >
                  <Button size="small" type="text" danger data-testid="config-delete">
                    {t('delete')}
                  </Button>
                </Popconfirm>
              </Space>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
