// The core's settings, plus applying the theme to the page. The chosen theme is also kept in
// localStorage so the lock screen, shown before settings can be read, already has it.
import * as ipc from "./ipc";
import type { Settings, Theme } from "./ipc";
import { errorMessage } from "./messages";

const THEME_KEY = "sotto.theme";
const DARK_QUERY = "(prefers-color-scheme: dark)";

function isTheme(value: unknown): value is Theme {
  return value === "system" || value === "light" || value === "dark";
}

export function storedTheme(): Theme {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return isTheme(value) ? value : "system";
  } catch {
    return "system";
  }
}

function systemPrefersDark(): boolean {
  return typeof window.matchMedia === "function" && window.matchMedia(DARK_QUERY).matches;
}

/**
 * Marks <html> with an explicit theme; without the mark the stylesheet follows the OS through
 * `prefers-color-scheme`, so "system" needs no script to track changes.
 */
export function applyTheme(theme: Theme) {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}

export function createSettings() {
  let settings = $state<Settings | null>(null);
  let theme = $state<Theme>(storedTheme());
  let systemDark = $state(systemPrefersDark());
  let error = $state<string | null>(null);
  // Counts saves, so a load that was overtaken by one does not bring back older values.
  let writes = 0;

  function useTheme(next: Theme) {
    theme = next;
    applyTheme(next);
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // Private mode or a full store: the theme still applies for this session.
    }
  }

  return {
    get current() {
      return settings;
    },
    get theme() {
      return theme;
    },
    /** The theme actually on screen, resolving "system". */
    get effectiveTheme(): "light" | "dark" {
      return theme === "system" ? (systemDark ? "dark" : "light") : theme;
    },
    get error() {
      return error;
    },
    dismissError() {
      error = null;
    },

    /** Follows OS theme changes for `effectiveTheme`; returns the cleanup. */
    watchSystemTheme(): () => void {
      if (typeof window.matchMedia !== "function") return () => {};
      const query = window.matchMedia(DARK_QUERY);
      const onChange = () => (systemDark = query.matches);
      query.addEventListener("change", onChange);
      return () => query.removeEventListener("change", onChange);
    },

    async load() {
      const before = writes;
      try {
        const loaded = await ipc.getSettings();
        error = null;
        if (writes !== before) return;
        settings = loaded;
        if (loaded.theme !== theme) useTheme(loaded.theme);
      } catch (e) {
        error = errorMessage(e);
      }
    },

    /** Saves one setting; throws the readable message so the caller can show it in place. */
    async set<K extends keyof Settings>(key: K, value: Settings[K]): Promise<Settings> {
      writes += 1;
      settings = await ipc.setSetting(key, value);
      return settings;
    },

    /** Saves the clean-up replacements from CSV/TSV text; throws the readable message. */
    async setReplacements(text: string): Promise<Settings> {
      writes += 1;
      settings = await ipc.setReplacements(text);
      return settings;
    },

    /** Applies at once (the user sees the click work) and then saves; a failed save is reported. */
    async setTheme(next: Theme) {
      writes += 1;
      useTheme(next);
      try {
        settings = await ipc.setSetting("theme", next);
        error = null;
      } catch (e) {
        error = errorMessage(e);
      }
    },

    /** The nav's toggle: flips what is on screen, whatever "system" currently resolves to. */
    toggleTheme() {
      return this.setTheme(this.effectiveTheme === "dark" ? "light" : "dark");
    },
  };
}

export type SettingsStore = ReturnType<typeof createSettings>;
