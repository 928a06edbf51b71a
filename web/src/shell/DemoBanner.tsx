import { Alert } from 'antd';
import { useEffect, useState } from 'react';
import { useT } from '../i18n/index.js';

/**
 * A server started by `npm run demo` runs against fake peers on loopback; say so on every page,
 * so nobody mistakes its images and downloads for real ones. `/health` is public and says it.
 */
export function DemoBanner() {
  const { t } = useT();
  const [demo, setDemo] = useState(false);
  useEffect(() => {
    let live = true;
    fetch('/health')
      .then((response) => response.json() as Promise<{ demo?: boolean }>)
      .then(
        (health) => live && setDemo(health.demo === true),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, []);
  if (!demo) return null;
  return (
    <Alert type="warning" showIcon banner title={t('demo.banner')} data-testid="demo-banner" />
  );
}
