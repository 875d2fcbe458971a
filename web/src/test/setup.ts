// Shared test set-up: each test starts with no Tauri mocks, real timers and no saved theme.
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, vi } from "vitest";

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
  vi.restoreAllMocks();
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});
