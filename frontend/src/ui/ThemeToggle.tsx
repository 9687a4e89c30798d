import { useState } from "react";
import { applyTheme, type Theme } from "../lib/theme";

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => (document.documentElement.dataset.theme as Theme) || "light");
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <button type="button" className="btn btn-sm" aria-label={`Switch to ${next} theme`}
      onClick={() => { applyTheme(next, true); setTheme(next); }}>
      {theme === "dark" ? "☀ Light" : "☾ Dark"}
    </button>
  );
}
