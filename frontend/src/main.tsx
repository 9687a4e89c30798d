import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { makeQueryClient } from "./api/queryClient";
import { applyTheme, initialTheme } from "./lib/theme";
import { router } from "./routes";
import "./ui/theme.css";

applyTheme(initialTheme());

// An expired or revoked session (any 401 while signed in) goes back to /login?next=<this page>.
const queryClient = makeQueryClient((to) => void router.navigate(to, { replace: true }));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
