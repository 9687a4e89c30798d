import { describe, expect, it } from "vitest";
import { extentOf, layoutWaterfall, ticks, type SpanLike } from "./waterfall";

const T0 = 1_796_411_671_000_000_000;
const span = (id: string, startMs: number, durMs: number, children: SpanLike[] = []): SpanLike => ({
  span_id: id, name: id, service: "svc", status: "ok", start_unix_nano: T0 + startMs * 1e6, duration_ns: durMs * 1e6, children,
});

describe("layoutWaterfall", () => {
  const tree = [span("root", 0, 100, [
    span("late", 60, 40),
    span("early", 10, 30, [span("grandchild", 15, 5)]),
  ])];

  it("orders depth-first with children by start time and places bars in percent of the trace", () => {
    const rows = layoutWaterfall(tree);
    expect(rows.map((r) => [r.span.span_id, r.depth])).toEqual([["root", 0], ["early", 1], ["grandchild", 2], ["late", 1]]);
    const early = rows[1];
    expect(early.offsetPct).toBeCloseTo(10);
    expect(early.widthPct).toBeCloseTo(30);
    expect(early.startMs).toBeCloseTo(10);
    expect(early.parentId).toBe("root");
    expect(rows[0].parentId).toBeNull();
    expect(rows[0].hasChildren).toBe(true);
    expect(rows[3].hasChildren).toBe(false);
  });

  it("leaves out the subtree of a collapsed span but keeps its row", () => {
    const rows = layoutWaterfall(tree, new Set(["early"]));
    expect(rows.map((r) => r.span.span_id)).toEqual(["root", "early", "late"]);
  });

  it("measures the trace from the earliest start to the latest end, over several roots and children outlasting parents", () => {
    const roots = [span("b", 50, 10), span("a", 0, 20, [span("async", 5, 95)])];
    expect(extentOf(roots)).toEqual({ startNs: T0, endNs: T0 + 100e6 });
    const rows = layoutWaterfall(roots);
    expect(rows.map((r) => r.span.span_id)).toEqual(["a", "async", "b"]);
    expect(rows[1].widthPct).toBeCloseTo(95);
  });

  it("keeps zero-length and negative-duration spans inside the bar area", () => {
    const rows = layoutWaterfall([span("r", 0, 10, [span("instant", 10, 0), span("broken", 5, -3)])]);
    for (const r of rows) {
      expect(r.widthPct).toBeGreaterThanOrEqual(0);
      expect(r.offsetPct + r.widthPct).toBeLessThanOrEqual(100);
    }
  });

  it("handles a chain deeper than any recursion limit", () => {
    let node = span("leaf", 0, 1);
    for (let i = 0; i < 20_000; i++) node = span(`s${i}`, 0, 1, [node]);
    const rows = layoutWaterfall([node]);
    expect(rows).toHaveLength(20_001);
    expect(rows[rows.length - 1].depth).toBe(20_000);
  });

  it("draws nothing for no spans", () => {
    expect(layoutWaterfall([])).toEqual([]);
  });
});

describe("ticks", () => {
  it("steps by 1, 2 or 5 times a power of ten", () => {
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(7)).toEqual([0, 2, 4, 6]);
    expect(ticks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(ticks(0)).toEqual([0]);
  });
});
