import { cleanup, render, screen } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import Overlay from "./Overlay.svelte";

describe("Overlay", () => {
  // Unmounted while the event mocks still stand (the shared set-up clears them after).
  afterEach(() => cleanup());

  it("shows the level and the live text of a dictation into another app, then what went in", async () => {
    mockIPC(() => undefined, { shouldMockEvents: true });
    render(Overlay);
    const meter = screen.getByTestId("level-meter");
    // The listener is registered asynchronously: send until it hears.
    await vi.waitFor(async () => {
      await emit("anywhere", { type: "listening", method: "type" });
      await emit("anywhere", { type: "level", rms_db: -20 });
      expect(Number(meter.dataset.level)).toBeGreaterThan(0);
    });
    await emit("anywhere", { type: "partial", text: "And so my fellow" });
    expect(screen.getByTestId("overlay-text").textContent).toBe("And so my fellow");
    await emit("anywhere", { type: "inserted", text: "And so my fellow Americans.", method: "type" });
    expect(screen.getByTestId("overlay-text").textContent).toBe("And so my fellow Americans.");
    await emit("anywhere", { type: "partial", text: "x".repeat(200) });
    expect(screen.getByTestId("overlay-text").textContent).toBe(`…${"x".repeat(90)}`);
    await emit("anywhere", { type: "error", message: "no microphone" });
    expect(screen.getByText("Sotto could not dictate")).toBeTruthy();
    expect(screen.getByTestId("overlay-text").textContent).toBe("no microphone");
  });
});
