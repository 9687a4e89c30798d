import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series { label: string; values: (number | null)[]; color?: string }

/** A time series chart (uPlot: ~50 KB, fast with many points). `times` in seconds since the epoch. */
export default function TimeChart({ times, series, height = 220, title, unit = "" }:
  { times: number[]; series: Series[]; height?: number; title: string; unit?: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const text = css.getPropertyValue("--muted").trim() || "#666";
    const grid = css.getPropertyValue("--border").trim() || "#ddd";
    const palette = [css.getPropertyValue("--accent").trim() || "#2449c9", "#d97706", "#059669", "#dc2626", "#7c3aed"];
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const plot = new uPlot({
      width: Math.max(240, el.clientWidth),
      height,
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: s.color ?? palette[i % palette.length], width: 2,
        value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${v}${unit}`),
      }))],
      axes: [axis, { ...axis, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${t}${unit}`) }],
      cursor: { drag: { x: true, y: false } },
    }, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series, height, unit]);
  return <figure style={{ margin: 0 }} aria-label={title}><div ref={host} /></figure>;
}
