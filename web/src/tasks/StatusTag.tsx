import { Badge, Tag } from 'antd';
import type { TaskStatus } from '../../../src/client/index.js';
import { useT } from '../i18n/index.js';

const DOT: Record<TaskStatus, 'default' | 'processing' | 'success' | 'error' | 'warning'> = {
  pending: 'default',
  running: 'processing',
  completed: 'success',
  failed: 'error',
  cancelled: 'warning',
};

/**
 * A status as a neutral tag with a coloured dot. antd's coloured tags put pale text on pale
 * backgrounds (below 4.5:1); here the colour is the dot's and the text keeps the body colour.
 */
export function StatusTag({ status, testId }: { status: TaskStatus; testId: string }) {
  const { t } = useT();
  return (
    <Tag data-testid={testId} data-status={status}>
      <Badge status={DOT[status]} text={t(`status.${status}`)} />
    </Tag>
  );
}
