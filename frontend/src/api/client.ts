import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** The readable copy of the session's CSRF token (the session cookie itself is HttpOnly). */
export const CSRF_COOKIE = "xinex_csrf";

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Mutations with the session cookie must echo the CSRF token (docs/security.md, "The session cookie"). */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method.toUpperCase())) {
      const token = readCookie(CSRF_COOKIE);
      if (token) request.headers.set("X-CSRF-Token", token);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(csrfMiddleware);

/** An answer in the error catalog's shape (docs/errors.md): {"error", "code", "details"}. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, body: unknown) {
    const b = (body ?? {}) as { error?: unknown; code?: unknown; details?: unknown };
    super(typeof b.error === "string" ? b.error : `The server answered ${status}`);
    this.status = status;
    this.code = typeof b.code === "string" ? b.code : "HTTP_" + status;
    this.details = b.details && typeof b.details === "object" ? (b.details as Record<string, unknown>) : {};
  }

  /** Per-field messages of a 422 VALIDATION_FAILED. */
  get fields(): Record<string, string> {
    const f = this.details.fields;
    return f && typeof f === "object" ? (f as Record<string, string>) : {};
  }
}

/** The body of a successful answer, or an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw new ApiError(result.response.status, result.error);
  return result.data as T;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = Object.entries(err.fields);
    if (fields.length) return fields.map(([k, v]) => `${k}: ${v}`).join("; ");
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
