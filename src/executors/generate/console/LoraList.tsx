import { AutoComplete, Button, InputNumber, Select, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Lora, WebuiOptions } from './api.js';

/** The LoRAs of a generation: name (picked from the WebUI's list when known), weight, trigger words. */
export function LoraList({
  loras,
  onChange,
  available,
}: {
  loras: Lora[];
  onChange(loras: Lora[]): void;
  /** LoRA names the WebUI has; null: unknown, the name is free text. */
  available: WebuiOptions['loras'];
}) {
  const { t } = useTranslation('generate');
  const update = (index: number, patch: Partial<Lora>) =>
    onChange(loras.map((lora, i) => (i === index ? { ...lora, ...patch } : lora)));
  const options = available?.map((name) => ({ value: name }));

  return (
    <div data-testid="lora-list">
      {loras.map((lora, index) => (
        <div key={index} className="lora-row" data-testid="lora-row">
          <AutoComplete
            aria-label={`${t('loraName')} ${index + 1}`}
            value={lora.name}
            options={options}
            placeholder={available ? undefined : t('freeText')}
            onChange={(name: string) => update(index, { name })}
            filterOption={(input, option) =>
              String(option?.value ?? '')
                .toLowerCase()
                .includes(input.toLowerCase())
            }
            style={{ minWidth: 180, flex: 2 }}
            data-testid="lora-name"
          />
          <InputNumber
            aria-label={`${t('loraWeight')} ${index + 1}`}
            value={lora.weight ?? 1}
            min={-5}
            max={5}
            step={0.05}
            onChange={(weight) => update(index, { weight: weight ?? 1 })}
            style={{ width: 100 }}
            data-testid="lora-weight"
          />
          <Select
            aria-label={`${t('triggerWords')} ${index + 1}`}
            mode="tags"
            value={lora.trigger_words ?? []}
            tokenSeparators={[',']}
            placeholder={t('triggerWords')}
            onChange={(words: string[]) => update(index, { trigger_words: words })}
            style={{ minWidth: 200, flex: 3 }}
            open={false}
            suffixIcon={null}
            data-testid="lora-triggers"
          />
          <Button
            danger
            aria-label={t('removeLora', { name: lora.name || String(index + 1) })}
            onClick={() => onChange(loras.filter((_, i) => i !== index))}
          >
            ×
          </Button>
        </div>
      ))}
      <Space>
        <Button
          onClick={() => onChange([...loras, { name: '', weight: 1, trigger_words: [] }])}
          data-testid="lora-add"
        >
          {t('addLora')}
        </Button>
        {loras.length === 0 && <Typography.Text type="secondary">—</Typography.Text>}
      </Space>
    </div>
  );
}
