/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app on :5173 with hot reload and forwards the server's surfaces to a
// running `xinex run` (XINEX_API, default http://127.0.0.1:8000), so cookies stay same-origin.
const api = process.env.XINEX_API ?? "http://127.0.0.1:8000";
const proxied = ["/api", "/ping", "/oauth", "/sso", "/docs", "/redoc", "/openapi.json", "/health", "/.well-known"];

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: api, ws: p === "/api", changeOrigin: false }])),
  },
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
