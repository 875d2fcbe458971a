import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { mockBackend } from "../../test/backend";
import { SETTINGS } from "../../test/fixtures";
import { createSession } from "../session.svelte";
import { createSettings } from "../settings.svelte";
import Nav from "./Nav.svelte";

function setup() {
  const backend = mockBackend({
    set_setting: ({ key, value }: Record<string, unknown>) => ({ ...SETTINGS, [key as string]: value }),
  });
  const session = createSession();
  const settings = createSettings();
  const onlock = vi.fn();
  render(Nav, { session, settings, onlock, activeJobs: 2 });
  return { backend, session, onlock };
}

describe("Nav", () => {
  it("switches views and marks the current one", async () => {
    const { session } = setup();
    for (const view of ["dictate", "notes", "search", "import", "models", "settings"] as const) {
      await fireEvent.click(screen.getByTestId(`nav-${view}`));
      expect(session.view).toBe(view);
      expect(screen.getByTestId(`nav-${view}`).getAttribute("aria-current")).toBe("page");
    }
    expect(screen.getByTestId("nav-notes").getAttribute("aria-current")).toBeNull();
  });

  it("toggles the theme and saves it", async () => {
    const { backend } = setup();
    const toggle = screen.getByTestId("theme-toggle");
    expect(toggle.getAttribute("aria-label")).toBe("Switch to dark theme");
    await fireEvent.click(toggle);
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(toggle.getAttribute("aria-label")).toBe("Switch to light theme");
    await fireEvent.click(toggle);
    expect(document.documentElement.dataset.theme).toBe("light");
    expect(backend.callsOf("set_setting")).toEqual([
      { key: "theme", value: "dark" },
      { key: "theme", value: "light" },
    ]);
  });

  it("locks on request and shows running jobs", async () => {
    const { onlock } = setup();
    await fireEvent.click(screen.getByTestId("lock-button"));
    expect(onlock).toHaveBeenCalledOnce();
    expect(screen.getByTestId("nav-import").textContent).toContain("2");
  });
});
