import { Button, Card, Form, Input, InputNumber, Select, Space, Switch } from 'antd';
import type { Rule } from 'antd/es/form';
import { useT } from '../i18n/index.js';
import type { Field } from './schema.js';

export type NamePath = (string | number)[];

interface Props {
  fields: readonly Field[];
  /** Where these fields sit in the form's values (nested objects and list items). */
  prefix?: NamePath;
  /** A translated label for a field path (e.g. `loras.weight`); the schema's title otherwise. */
  labelFor?: (path: string, field: Field) => string | undefined;
  /** Prefix for data-testid (`<testId>-<path>`), so tests and users find a field by its name. */
  testId?: string;
}

const pathKey = (path: NamePath): string => path.filter((p) => typeof p === 'string').join('.');
const domId = (testId: string, path: NamePath): string =>
  `${testId}-${path.map(String).join('-')}`.replace(/[^A-Za-z0-9_-]/g, '_');

/** The inputs for `fields`, to place inside an antd `<Form>`; see `schema.ts` for the mapping. */
export function SchemaForm({ fields, prefix = [], labelFor, testId = 'field' }: Props) {
  return (
    <>
      {fields.map((field) => (
        <SchemaField
          key={field.name}
          field={field}
          path={[...prefix, field.name]}
          schemaPath={[...prefix, field.name]}
          labelFor={labelFor}
          testId={testId}
        />
      ))}
    </>
  );
}

function SchemaField({
  field,
  path,
  schemaPath,
  labelFor,
  testId,
  listName,
}: {
  field: Field;
  /** The name relative to the enclosing Form.List item (or the form). */
  path: NamePath;
  /** The full path, for labels and ids. */
  schemaPath: NamePath;
  labelFor: Props['labelFor'];
  testId: string;
  listName?: NamePath;
}) {
  const { t } = useT();
  const label = labelFor?.(pathKey(schemaPath), field) ?? field.label;
  // Inside a list item `path` starts with the item's index in Form.List terms; the id uses the list's.
  const id = domId(testId, listName ? [...listName, ...path.slice(1)] : schemaPath);
  const rules: Rule[] = [];
  if (field.required && field.kind !== 'boolean' && field.kind !== 'object')
    rules.push({ required: true, message: t('form.required', { field: label }) });
  if (field.kind === 'text') {
    if (field.pattern)
      rules.push({
        pattern: new RegExp(field.pattern),
        message: t('form.pattern', { field: label }),
      });
    if (field.minLength !== undefined || field.maxLength !== undefined)
      rules.push({
        type: 'string',
        ...(field.minLength !== undefined ? { min: field.minLength } : {}),
        ...(field.maxLength !== undefined ? { max: field.maxLength } : {}),
      });
  }
  const common = {
    name: path,
    label,
    tooltip: field.description,
    rules,
    htmlFor: id,
  };

  switch (field.kind) {
    case 'text':
      return (
        <Form.Item {...common}>
          {field.multiline ? (
            <Input.TextArea id={id} autoSize={{ minRows: 2, maxRows: 10 }} data-testid={id} />
          ) : (
            <Input id={id} data-testid={id} />
          )}
        </Form.Item>
      );
    case 'number':
      return (
        <Form.Item {...common}>
          <InputNumber
            id={id}
            data-testid={id}
            min={field.min}
            max={field.max}
            step={field.step ?? (field.integer ? 1 : 0.1)}
            precision={field.integer ? 0 : undefined}
            style={{ width: '100%', maxWidth: 220 }}
          />
        </Form.Item>
      );
    case 'boolean':
      return (
        <Form.Item {...common} valuePropName="checked">
          <Switch id={id} data-testid={id} />
        </Form.Item>
      );
    case 'select':
      return (
        <Form.Item {...common}>
          <Select
            id={id}
            data-testid={id}
            aria-label={label}
            allowClear={!field.required}
            options={field.options.map((value) => ({
              value,
              label: value === '' ? t('form.none') : String(value),
            }))}
          />
        </Form.Item>
      );
    case 'tags':
      return (
        <Form.Item {...common}>
          <Select
            id={id}
            data-testid={id}
            aria-label={label}
            mode={field.options ? 'multiple' : 'tags'}
            tokenSeparators={field.options ? undefined : [',']}
            maxCount={field.maxItems}
            options={field.options?.map((value) => ({ value, label: String(value) }))}
          />
        </Form.Item>
      );
    case 'object':
      return (
        <fieldset className="schema-fieldset">
          <legend>{label}</legend>
          {field.fields.map((child) => (
            <SchemaField
              key={child.name}
              field={child}
              path={[...path, child.name]}
              schemaPath={[...schemaPath, child.name]}
              labelFor={labelFor}
              testId={testId}
              listName={listName}
            />
          ))}
        </fieldset>
      );
    case 'list':
      return (
        <fieldset className="schema-fieldset" data-testid={id}>
          <legend>{label}</legend>
          <Form.List name={path}>
            {(items, { add, remove }) => (
              <Space orientation="vertical" style={{ width: '100%' }}>
                {items.map((item, index) => (
                  <Card
                    key={item.key}
                    size="small"
                    title={`${label} ${index + 1}`}
                    extra={
                      <Button
                        size="small"
                        danger
                        onClick={() => remove(item.name)}
                        aria-label={`${t('form.remove')} ${label} ${index + 1}`}
                      >
                        {t('form.remove')}
                      </Button>
                    }
                  >
                    {field.fields.map((child) => (
                      <SchemaField
                        key={child.name}
                        field={child}
                        path={[item.name, child.name]}
                        schemaPath={[...schemaPath, child.name]}
                        labelFor={labelFor}
                        testId={testId}
                        listName={[...schemaPath, index]}
                      />
                    ))}
                  </Card>
                ))}
                <Button
                  onClick={() => add()}
                  disabled={field.maxItems !== undefined && items.length >= field.maxItems}
                  data-testid={`${id}-add`}
                >
                  {t('form.add')} {label}
                </Button>
              </Space>
            )}
          </Form.List>
        </fieldset>
      );
    case 'json':
      return (
        <Form.Item {...common}>
          <Input.TextArea
            id={id}
            data-testid={id}
            className="mono"
            autoSize={{ minRows: 2, maxRows: 10 }}
            spellCheck={false}
          />
        </Form.Item>
      );
  }
}
