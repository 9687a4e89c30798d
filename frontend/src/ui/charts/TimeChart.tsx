import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series { label: string; values: (number | null)[]; color?: string }
/** A marker on the time axis (an annotation such as a deploy): a line at `at`, or a band to `end`; seconds. */
export interface Mark { at: number; end?: number | null; label: string }

/** Draws the marks over the plot: dashed lines, shaded bands, their names along the top. */
function marksPlugin(marks: Mark[], color: string): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const { ctx } = u;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
        for (const m of marks) {
          const x = u.valToPos(m.at, "x", true);
          if (m.end && m.end > m.at) {
            ctx.fillStyle = color + "22";
            ctx.fillRect(x, top, u.valToPos(m.end, "x", true) - x, height);
          }
          ctx.strokeStyle = color;
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.lineWidth = devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillStyle = color;
          ctx.fillText(m.label.slice(0, 40), x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

/** A time series chart (uPlot: ~50 KB, fast with many points). `times` in seconds since the epoch. */
export default function TimeChart({ times, series, height = 220, title, unit = "", marks }:
  { times: number[]; series: Series[]; height?: number; title: string; unit?: string; marks?: Mark[] }) {
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
      plugins: marks?.length ? [marksPlugin(marks, css.getPropertyValue("--warn").trim() || "#b45309")] : [],
    }, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series, height, unit, marks]);
  return <figure style={{ margin: 0 }} aria-label={title}><div ref={host} /></figure>;
}
