// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { ApiError } from "./client";
import { loginPath, makeQueryClient, shouldRetry } from "./queryClient";
import { ME_KEY } from "./session";

const USER = { id: "u1", email: "ann@example.com" };
const fail = (status: number) => () => Promise.reject(new ApiError(status, { error: "A valid credential is required",
  code: "UNAUTHENTICATED" }));

function setup(signedIn: boolean) {
  const went: string[] = [];
  const qc = makeQueryClient((to) => went.push(to), () => "/incidents/abc?tab=timeline");
  if (signedIn) qc.setQueryData(ME_KEY, USER);
  qc.setQueryData(["incidents"], [{ id: "abc" }]);
  return { qc, went };
}

describe("an expired or revoked session", () => {
  it("a 401 on a query clears the cached user and data and goes to /login?next=<this page>", async () => {
    const { qc, went } = setup(true);
    await expect(qc.fetchQuery({ queryKey: ["incident", "abc"], queryFn: fail(401) })).rejects.toThrow();
    expect(went).toEqual(["/login?next=%2Fincidents%2Fabc%3Ftab%3Dtimeline"]);
    expect(qc.getQueryData(ME_KEY)).toBeNull();
    expect(qc.getQueryData(["incidents"])).toBeUndefined();
  });
  it("a 401 on a mutation does the same", async () => {
    const { qc, went } = setup(true);
    const mutation = qc.getMutationCache().build(qc, { mutationFn: fail(401) });
    await expect(mutation.execute(undefined)).rejects.toThrow();
    expect(went).toHaveLength(1);
    expect(qc.getQueryData(ME_KEY)).toBeNull();
  });
  it("other errors keep the session, and a 401 while signed out (a wrong password) stays on the page", async () => {
    const signedIn = setup(true);
    await expect(signedIn.qc.fetchQuery({ queryKey: ["x"], queryFn: fail(404) })).rejects.toThrow();
    expect(signedIn.went).toEqual([]);
    expect(signedIn.qc.getQueryData(ME_KEY)).toEqual(USER);
    const signedOut = setup(false);
    const login = signedOut.qc.getMutationCache().build(signedOut.qc, { mutationFn: fail(401) });
    await expect(login.execute(undefined)).rejects.toThrow();
    expect(signedOut.went).toEqual([]);
  });
  it("the root page goes to plain /login", () => {
    expect(loginPath("/")).toBe("/login");
  });
});

describe("retries", () => {
  it("never retry a 4xx answer, retry a 5xx or network failure twice", () => {
    for (const status of [400, 401, 403, 404, 422]) expect(shouldRetry(0, new ApiError(status, null))).toBe(false);
    expect(shouldRetry(0, new ApiError(503, null))).toBe(true);
    expect(shouldRetry(1, new TypeError("Failed to fetch"))).toBe(true);
    expect(shouldRetry(2, new ApiError(503, null))).toBe(false);
  });
});
