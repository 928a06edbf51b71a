/**
 * Which rows of a grid to render: those within the viewport plus `overscan` rows either side.
 * Rows have one height, so the range follows from the scroll position alone and a gallery of
 * thousands of images keeps a few dozen <img> elements in the page.
 */
export function visibleRows(options: {
  /** Viewport top minus the grid's top, in px (negative while the grid starts below the fold). */
  offset: number;
  viewportHeight: number;
  rowHeight: number;
  rowCount: number;
  overscan?: number;
}): { start: number; end: number } {
  const { offset, viewportHeight, rowHeight, rowCount, overscan = 2 } = options;
  if (rowCount === 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const start = Math.max(0, Math.floor(offset / rowHeight) - overscan);
  const end = Math.min(rowCount, Math.ceil((offset + viewportHeight) / rowHeight) + overscan);
  return { start: Math.min(start, rowCount), end: Math.max(end, Math.min(start, rowCount)) };
}

/** How many square cells of at least `minCell` px fit a row of `width` px with `gap` between. */
export function columnsFor(width: number, minCell: number, gap: number): number {
  return Math.max(1, Math.floor((width + gap) / (minCell + gap)));
}
