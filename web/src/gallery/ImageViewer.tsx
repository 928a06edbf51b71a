import { Button, Descriptions, Modal, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { GalleryImage } from '../../../src/client/index.js';
import { useFileUrl } from '../files/useFileUrl.js';
import { LOCALE_TAG } from '../i18n/detect.js';
import { formatTime, useT } from '../i18n/index.js';
import { useConsoleModules } from '../modules/registry.js';
import { navigate } from '../router.js';
import { describeSidecar } from './sidecar.js';

interface Props {
  images: GalleryImage[];
  index: number | null;
  total: number;
  onIndex(index: number): void;
  onClose(): void;
}

const ZOOMS = [0.5, 0.75, 1, 1.5, 2, 3, 4];
const FIT = 2;

function ModuleReopen({ image }: { image: GalleryImage }) {
  const modules = useConsoleModules();
  const { t: tm } = useTranslation(modules?.map((m) => m.type) ?? []);
  return (
    <>
      {(modules ?? [])
        .filter((module) => module.reopenImage?.(image))
        .map((module) => (
          <Button
            key={module.type}
            type="primary"
            data-testid={`reopen-${module.type}`}
            onClick={() =>
              navigate(`/${module.type}`, { from_task: image.task_id, from_file: image.file })
            }
          >
            {tm(`${module.type}:reopenImage`)}
          </Button>
        ))}
    </>
  );
}

/** Full-size view: ←/→ move through the loaded images, +/−/0 zoom, Esc closes. */
export function ImageViewer({ images, index, total, onIndex, onClose }: Props) {
  const { t, language } = useT();
  const image = index === null ? undefined : images[index];
  const { src } = useFileUrl(image?.url ?? null);
  const [zoom, setZoom] = useState(FIT);

  useEffect(() => setZoom(FIT), [index]);

  useEffect(() => {
    if (index === null) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement)
        return;
      if (event.key === 'ArrowLeft' && index > 0) onIndex(index - 1);
      else if (event.key === 'ArrowRight' && index < images.length - 1) onIndex(index + 1);
      else if (event.key === '+' || event.key === '=')
        setZoom((z) => Math.min(ZOOMS.length - 1, z + 1));
      else if (event.key === '-') setZoom((z) => Math.max(0, z - 1));
      else if (event.key === '0') setZoom(FIT);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, images.length, onIndex]);

  const scale = ZOOMS[zoom] ?? 1;
  const details = describeSidecar(image?.sidecar ?? null);

  return (
    <Modal
      open={image !== undefined}
      onCancel={onClose}
      footer={null}
      width="min(1400px, 96vw)"
      centered
      title={
        image && (
          <Space wrap>
            <span>{t('gallery.viewer')}</span>
            <Typography.Text type="secondary" data-testid="viewer-position">
              {t('gallery.position', { index: (index ?? 0) + 1, total })}
            </Typography.Text>
          </Space>
        )
      }
      closable={{ 'aria-label': t('gallery.close') }}
      destroyOnHidden
    >
      {image && (
        <div className="viewer" data-testid="image-viewer" data-file={image.file}>
          <div className="viewer-stage">
            {src && (
              <img
                src={src}
                alt={image.file}
                // Fit fills the stage (small images are scaled up too); other zooms are relative
                // to the image's own pixels.
                style={
                  zoom === FIT
                    ? { width: '100%', height: '100%', objectFit: 'contain' }
                    : { maxWidth: 'none', maxHeight: 'none', transform: `scale(${scale})` }
                }
                data-testid="viewer-image"
              />
            )}
          </div>
          <div className="viewer-side">
            <Space wrap style={{ marginBottom: 12 }}>
              <Button
                aria-label={t('gallery.previous')}
                disabled={index === 0}
                onClick={() => index !== null && onIndex(index - 1)}
                data-testid="viewer-previous"
              >
                ←
              </Button>
              <Button
                aria-label={t('gallery.next')}
                disabled={index === images.length - 1}
                onClick={() => index !== null && onIndex(index + 1)}
                data-testid="viewer-next"
              >
                →
              </Button>
              <Button
                aria-label={t('gallery.zoomOut')}
                onClick={() => setZoom((z) => Math.max(0, z - 1))}
              >
                −
              </Button>
              <Button aria-label={`1:1 ${t('gallery.zoomReset')}`} onClick={() => setZoom(FIT)}>
                1:1
              </Button>
              <Button
                aria-label={t('gallery.zoomIn')}
                onClick={() => setZoom((z) => Math.min(ZOOMS.length - 1, z + 1))}
              >
                +
              </Button>
            </Space>
            <Space wrap style={{ marginBottom: 12 }}>
              <Button
                onClick={() => navigate('/tasks', { task: image.task_id })}
                data-testid="viewer-open-task"
              >
                {t('gallery.openTask')}
              </Button>
              <ModuleReopen image={image} />
            </Space>
            <Descriptions
              size="small"
              column={1}
              bordered
              title={t('gallery.metadata')}
              data-testid="viewer-details"
            >
              {details.map((detail) => (
                <Descriptions.Item key={detail.key} label={t(detail.key)}>
                  <span className="wrap-text" data-testid={`detail-${detail.key}`}>
                    {detail.value}
                  </span>
                </Descriptions.Item>
              ))}
              <Descriptions.Item label={t('gallery.file')}>
                <span className="wrap-text">{image.file}</span>
              </Descriptions.Item>
              <Descriptions.Item label={t('gallery.taskType')}>{image.task_type}</Descriptions.Item>
              <Descriptions.Item label={t('gallery.modified')}>
                {formatTime(image.modified_at)}
              </Descriptions.Item>
              <Descriptions.Item label={t('gallery.size')}>
                {new Intl.NumberFormat(LOCALE_TAG[language], {
                  style: 'unit',
                  unit: 'kilobyte',
                }).format(Math.round(image.size / 102.4) / 10)}
              </Descriptions.Item>
            </Descriptions>
            {details.length === 0 && (
              <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
                {t('gallery.noMetadata')}
              </Typography.Paragraph>
            )}
          </div>
        </div>
      )}
    </Modal>
  );
}
