import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { fail, mockBackend } from "../../test/backend";
import { createJobs } from "../jobs.svelte";
import ImportView from "./ImportView.svelte";

describe("ImportView", () => {
  it("imports the files picked in the dialog", async () => {
    const backend = mockBackend({
      "plugin:dialog|open": ["/a/memo.m4a", "/a/call.wav"],
      import_files: [11, 12],
    });
    render(ImportView, { jobs: createJobs() });
    await fireEvent.click(screen.getByRole("button", { name: "Choose audio files…" }));
    expect(await screen.findByText("2 files queued for import.")).toBeTruthy();
    expect(backend.callsOf("import_files")).toEqual([{ paths: ["/a/memo.m4a", "/a/call.wav"] }]);
    const options = backend.callsOf("plugin:dialog|open")[0].options as {
      multiple: boolean;
      filters: { extensions: string[] }[];
    };
    expect(options.multiple).toBe(true);
    expect(options.filters[0].extensions).toEqual(
      expect.arrayContaining(["wav", "mp3", "m4a", "ogg", "oga", "opus", "flac", "mp4", "aac", "mkv", "webm"]),
    );
  });

  it("does nothing when the dialog is dismissed", async () => {
    const backend = mockBackend({ "plugin:dialog|open": null });
    render(ImportView, { jobs: createJobs() });
    await fireEvent.click(screen.getByRole("button", { name: "Choose audio files…" }));
    await vi.waitFor(() => expect(backend.callsOf("plugin:dialog|open")).toHaveLength(1));
    expect(backend.callsOf("import_files")).toHaveLength(0);
    expect(screen.queryByTestId("error")).toBeNull();
  });

  it("shows a refused import in place", async () => {
    mockBackend({
      "plugin:dialog|open": ["/a/x.wav"],
      import_files: () => {
        throw fail("locked", "vault locked");
      },
    });
    render(ImportView, { jobs: createJobs() });
    await fireEvent.click(screen.getByRole("button", { name: "Choose audio files…" }));
    expect((await screen.findByTestId("error")).textContent).toMatch(/vault is locked/);
  });
});
