import { useCallback, useLayoutEffect, useState, type RefObject } from "react";

export interface Range { start: number; end: number; before: number; after: number }

/**
 * The rows [start, end) to draw in a scroll box of `viewport` px scrolled to `scrollTop`, with `overscan`
 * rows either side, and the heights of the blank space before and after them (fixed-height rows).
 */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): Range {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, Math.ceil((Math.max(0, scrollTop) + viewport) / rowHeight) + overscan);
  const clamped = Math.min(start, end);
  return { start: clamped, end, before: clamped * rowHeight, after: Math.max(0, count - end) * rowHeight };
}

/**
 * A virtual list: only the rows in view (plus a margin) are in the DOM, so a thousand items render as fast
 * as thirty. `box` is the scrolling element; rows must be `rowHeight` px tall.
 */
export function useVirtualRows(box: RefObject<HTMLElement | null>, count: number, rowHeight: number, initialViewport = 720): Range {
  const [view, setView] = useState({ top: 0, height: initialViewport });
  const measure = useCallback(() => {
    const el = box.current;
    if (el) setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight || v.height }));
  }, [box]);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    measure();
    el.addEventListener("scroll", measure, { passive: true });
    const resize = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(measure);
    resize?.observe(el);
    return () => {
      el.removeEventListener("scroll", measure);
      resize?.disconnect();
    };
  }, [box, measure, count]);
  return visibleRange(view.top, view.height, rowHeight, count);
}
