// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { ApiError, csrfMiddleware, errorMessage, readCookie, unwrap } from "./client";

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("xinex_csrf", "a=1; xinex_csrf=abc%3D; b=2")).toBe("abc=");
    expect(readCookie("xinex_csrf", "xinex_csrf_other=1")).toBeNull();
  });
});

describe("the CSRF header", () => {
  const run = async (method: string) => {
    document.cookie = "xinex_csrf=tok123; path=/";
    const request = new Request("http://localhost/api/v1/heartbeats", { method });
    const onRequest = csrfMiddleware.onRequest!;
    const out = (await onRequest({ request } as Parameters<typeof onRequest>[0])) as Request;
    return out.headers.get("X-CSRF-Token");
  };
  it("goes with every mutation, as the session cookie requires", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) expect(await run(method)).toBe("tok123");
  });
  it("stays off reads", async () => {
    expect(await run("GET")).toBeNull();
  });
});

describe("errors in the catalog's shape", () => {
  it("keeps code, message and per-field details", () => {
    const err = new ApiError(422, { error: "The request did not validate", code: "VALIDATION_FAILED",
      details: { fields: { password: "too short" } } });
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(err.fields).toEqual({ password: "too short" });
    expect(errorMessage(err)).toBe("password: too short");
  });
  it("copes with a body that is not the catalog's", () => {
    const err = new ApiError(502, "Bad Gateway");
    expect(err.code).toBe("HTTP_502");
    expect(err.message).toBe("The server answered 502");
  });
  it("unwrap throws on a failed answer and passes a good one", () => {
    expect(unwrap({ data: { a: 1 }, response: new Response(null, { status: 200 }) })).toEqual({ a: 1 });
    expect(() => unwrap({ error: { code: "NOT_FOUND", error: "nope" }, response: new Response(null, { status: 404 }) }))
      .toThrow("nope");
  });
});

describe("fetchAll", () => {
  it("collects every page in order, and stops at the cap", async () => {
    const { fetchAll } = await import("./queries");
    const asked: number[] = [];
    const page = async (n: number) => {
      asked.push(n);
      return { items: [n * 10, n * 10 + 1], total_pages: 4 };
    };
    expect(await fetchAll(page)).toEqual([10, 11, 20, 21, 30, 31, 40, 41]);
    asked.length = 0;
    expect(await fetchAll(page, 2)).toEqual([10, 11, 20, 21]);
    expect(asked).toEqual([1, 2]);
  });
});
