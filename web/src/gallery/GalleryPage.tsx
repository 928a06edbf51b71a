import { Alert, Button, Empty, Input, Select, Space, Spin, Typography } from 'antd';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { GalleryImage } from '../../../src/client/index.js';
import { useFeedMessages, useFeedState } from '../feed/useLiveFeed.js';
import { useFileUrl } from '../files/useFileUrl.js';
import { useT } from '../i18n/index.js';
import { navigate, useRoute } from '../router.js';
import { useSession } from '../session/Session.js';
import { describeError } from '../tasks/errors.js';
import { useTaskTypes } from '../tasks/useTaskTypes.js';
import { ImageViewer } from './ImageViewer.js';
import { columnsFor, visibleRows } from './windowing.js';

const PAGE_SIZE = 60;
const MIN_CELL = 160;
const GAP = 8;
const RELOAD_DEBOUNCE_MS = 500;

function Thumbnail({ image, onOpen }: { image: GalleryImage; onOpen(): void }) {
  const { t } = useT();
  const { src } = useFileUrl(image.url);
  return (
    <button
      type="button"
      className="gallery-cell"
      onClick={onOpen}
      aria-label={t('gallery.open', { file: image.file })}
      data-testid="gallery-image"
      data-task={image.task_id}
      data-file={image.file}
    >
      {src && <img src={src} alt="" loading="lazy" decoding="async" />}
    </button>
  );
}

/**
 * Every image the server holds, newest first, as a windowed grid: only the rows near the viewport
 * are in the page, and the next page of the API is fetched as the end comes into view.
 * `#/gallery?task=<id>` shows one task's images.
 */
export function GalleryPage() {
  const { t } = useT();
  const { client } = useSession();
  const { connection } = useFeedState();
  const route = useRoute();
  const types = useTaskTypes();
  const taskFilter = route.params.get('task') ?? '';
  const typeFilter = route.params.get('type') ?? '';
  const [images, setImages] = useState<GalleryImage[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [taskInput, setTaskInput] = useState(taskFilter);
  const loadSeq = useRef(0);
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const setFilters = (next: { type?: string; task?: string }) => {
    const params: Record<string, string> = {};
    const type = next.type ?? typeFilter;
    const task = next.task ?? taskFilter;
    if (type) params.type = type;
    if (task) params.task = task;
    navigate('/gallery', params);
  };

  const load = useCallback(
    async (page: number) => {
      const seq = ++loadSeq.current;
      setLoading(true);
      try {
        const data = await client.getGallery({
          type: typeFilter,
          task_id: taskFilter,
          page,
          page_size: PAGE_SIZE,
        });
        if (seq !== loadSeq.current) return;
        setImages((current) => (page === 1 ? data.images : [...current, ...data.images]));
        setTotal(data.pagination.total);
        setError(null);
      } catch (err) {
        if (seq === loadSeq.current) setError(describeError(err));
      } finally {
        if (seq === loadSeq.current) setLoading(false);
      }
    },
    [client, typeFilter, taskFilter],
  );

  useEffect(() => {
    void load(1);
  }, [load, connection]);

  useEffect(() => setTaskInput(taskFilter), [taskFilter]);

  // New images arrive with finished (or progressing) tasks: refresh the first page, debounced.
  useFeedMessages((message) => {
    if (message.type !== 'task_status' && message.type !== 'task_deleted') return;
    if (
      message.type === 'task_status' &&
      message.status !== 'completed' &&
      message.status !== 'failed'
    )
      return;
    if (reloadTimer.current) return;
    reloadTimer.current = setTimeout(() => {
      reloadTimer.current = null;
      void load(1);
    }, RELOAD_DEBOUNCE_MS);
  });
  useEffect(
    () => () => {
      if (reloadTimer.current) clearTimeout(reloadTimer.current);
    },
    [],
  );

  // Windowing: the grid's width gives the columns, the window's scroll the visible rows.
  const grid = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [range, setRange] = useState({ start: 0, end: 0 });
  const columns = columnsFor(width, MIN_CELL, GAP);
  const cell = width > 0 ? (width - GAP * (columns - 1)) / columns : MIN_CELL;
  const rowHeight = cell + GAP;
  const rowCount = Math.ceil(images.length / columns);

  useLayoutEffect(() => {
    const element = grid.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    setWidth(element.clientWidth);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const update = () => {
      const element = grid.current;
      if (!element) return;
      const next = visibleRows({
        offset: -element.getBoundingClientRect().top,
        viewportHeight: window.innerHeight,
        rowHeight,
        rowCount,
      });
      setRange((current) =>
        current.start === next.start && current.end === next.end ? current : next,
      );
    };
    update();
    window.addEventListener('scroll', update, { passive: true });
    window.addEventListener('resize', update);
    return () => {
      window.removeEventListener('scroll', update);
      window.removeEventListener('resize', update);
    };
  }, [rowHeight, rowCount]);

  // The last rows are in view: fetch the next page.
  useEffect(() => {
    if (!loading && !error && images.length < total && range.end >= rowCount - 1)
      void load(Math.floor(images.length / PAGE_SIZE) + 1);
  }, [range.end, rowCount, images.length, total, loading, error, load]);

  const rows = [];
  for (let row = range.start; row < range.end; row++) {
    rows.push(
      <div
        key={row}
        className="gallery-row"
        style={{
          position: 'absolute',
          top: row * rowHeight,
          left: 0,
          right: 0,
          gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`,
        }}
      >
        {images.slice(row * columns, row * columns + columns).map((image, column) => (
          <Thumbnail
            key={`${image.task_id}/${image.file}`}
            image={image}
            onOpen={() => setViewing(row * columns + column)}
          />
        ))}
      </div>,
    );
  }

  return (
    <>
      <Space style={{ marginBottom: 16, width: '100%', justifyContent: 'space-between' }} wrap>
        <Space wrap>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {t('gallery.title')}
          </Typography.Title>
          <Select<string>
            aria-label={t('gallery.filterType')}
            style={{ width: 160 }}
            value={typeFilter}
            onChange={(type) => setFilters({ type })}
            options={[
              { value: '', label: t('gallery.anyType') },
              ...types.map((type) => ({ value: type.type, label: type.type })),
            ]}
            data-testid="gallery-filter-type"
          />
          <Input.Search
            aria-label={t('gallery.filterTask')}
            placeholder={t('gallery.filterTask')}
            allowClear
            value={taskInput}
            onChange={(event) => setTaskInput(event.target.value)}
            onSearch={(task) => setFilters({ task: task.trim() })}
            style={{ width: 240 }}
            data-testid="gallery-filter-task"
          />
        </Space>
        <Space>
          <Typography.Text type="secondary" data-testid="gallery-total">
            {t('gallery.total', { count: total })}
          </Typography.Text>
          <Button onClick={() => void load(1)}>{t('gallery.refresh')}</Button>
        </Space>
      </Space>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
      <div
        ref={grid}
        data-testid="gallery-grid"
        style={{ position: 'relative', height: rowCount * rowHeight }}
      >
        {rows}
      </div>
      {loading && (
        <div className="page-fallback">
          <Spin />
        </div>
      )}
      {!loading && images.length === 0 && !error && <Empty description={t('gallery.empty')} />}
      <ImageViewer
        images={images}
        index={viewing}
        total={total}
        onIndex={setViewing}
        onClose={() => setViewing(null)}
      />
    </>
  );
}
