import type { paths } from "./schema";

/** The JSON body of an endpoint's 200/201 answer, by path and method (schema names change when domains share one). */
export type Ok<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends { responses: { 200: { content: { "application/json": infer T } } } } ? T
    : paths[P][M] extends { responses: { 201: { content: { "application/json": infer T } } } } ? T : never;
/** The element type of a paged list answer. */
export type Item<T> = T extends { items: (infer I)[] } ? I : never;
/** The JSON request body of an endpoint. */
export type Body<P extends keyof paths, M extends keyof paths[P]> =
  paths[P][M] extends { requestBody?: { content: { "application/json": infer T } } } ? T : never;
