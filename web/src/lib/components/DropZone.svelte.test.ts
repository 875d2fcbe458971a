import { emit } from "@tauri-apps/api/event";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import DropZone from "./DropZone.svelte";

const at = { x: 1, y: 1 };

describe("DropZone", () => {
  it("shows an overlay while files hover and hands over dropped paths", async () => {
    mockWindows("main");
    mockIPC(() => null, { shouldMockEvents: true });
    const onfiles = vi.fn();
    render(DropZone, { onfiles });
    // The listeners register one after another; the last one is "leave".
    await vi.waitFor(async () => {
      await emit("tauri://drag-enter", { paths: ["/a/x.wav"], position: at });
      await tick();
      expect(screen.queryByTestId("drop-overlay")).not.toBeNull();
      await emit("tauri://drag-leave", {});
      await tick();
      expect(screen.queryByTestId("drop-overlay")).toBeNull();
    });
    await emit("tauri://drag-enter", { paths: ["/a/x.wav"], position: at });
    await tick();
    expect(screen.getByTestId("drop-overlay").textContent).toMatch(/Drop audio files/);
    await emit("tauri://drag-drop", { paths: ["/a/x.wav", "/a/y.mp3"], position: at });
    await tick();
    expect(onfiles).toHaveBeenCalledWith(["/a/x.wav", "/a/y.mp3"]);
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
  });

  it("renders nothing, and does not fail, outside Tauri", () => {
    const { container } = render(DropZone, { onfiles: vi.fn() });
    expect(container.textContent).toBe("");
  });
});
