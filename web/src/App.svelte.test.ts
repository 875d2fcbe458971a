import { fireEvent, render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import App from "./App.svelte";
import { createApp } from "./lib/app.svelte";
import { fail, mockBackend } from "./test/backend";
import { detail, SETTINGS, summary } from "./test/fixtures";

function backendFor(state: "new" | "locked" | "unlocked", answers: Record<string, unknown> = {}) {
  let notes = [summary(1), summary(2)];
  const backend = mockBackend({
    vault_status: { state, keyring_enabled: false, data_dir: "/data" },
    unlock: { recovery_key: null },
    lock: null,
    watch_jobs: null,
    get_settings: SETTINGS,
    list_notes: () => notes,
    list_tags: [],
    list_models: [],
    list_microphones: [],
    app_info: { version: "0.3.0", data_dir: "/data", models_dir: "/models" },
    ...answers,
  });
  return {
    ...backend,
    setNotes(next: ReturnType<typeof summary>[]) {
      notes = next;
    },
  };
}

describe("App", () => {
  it("lands on the Notes list when the vault is already open", async () => {
    const backend = backendFor("unlocked");
    render(App, { app: createApp() });
    expect(await screen.findAllByTestId("note-item")).toHaveLength(2);
    expect(screen.getByTestId("nav-notes").getAttribute("aria-current")).toBe("page");
    expect(backend.callsOf("watch_jobs")).toHaveLength(1);
    expect(backend.callsOf("get_settings")).toHaveLength(1);
  });

  it("asks for a new passphrase on a new vault", async () => {
    backendFor("new");
    render(App, { app: createApp() });
    expect(await screen.findByTestId("unlock-input")).toBeTruthy();
    expect(screen.getByTestId("unlock-confirm")).toBeTruthy();
    expect(screen.queryByTestId("nav-notes")).toBeNull();
  });

  it("locks and unlocks again without registering the jobs channel twice", async () => {
    const backend = backendFor("locked");
    render(App, { app: createApp() });
    await fireEvent.input(await screen.findByTestId("unlock-input"), { target: { value: "correct horse" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await screen.findAllByTestId("note-item");
    await fireEvent.click(screen.getByTestId("lock-button"));
    expect(await screen.findByTestId("unlock-input")).toBeTruthy();
    expect(backend.callsOf("lock")).toHaveLength(1);
    await fireEvent.input(screen.getByTestId("unlock-input"), { target: { value: "correct horse" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await screen.findAllByTestId("note-item");
    expect(backend.callsOf("watch_jobs")).toHaveLength(1);
    expect(backend.callsOf("unlock")).toHaveLength(2);
  });

  it("shows job progress on every view and refreshes the notes an import adds", async () => {
    const backend = backendFor("unlocked", { get_note: detail(3) });
    render(App, { app: createApp() });
    await screen.findAllByTestId("note-item");
    await fireEvent.click(screen.getByTestId("nav-settings"));
    backend.emit("watch_jobs", { type: "queued", id: 3, kind: "import", label: "memo.m4a" });
    backend.emit("watch_jobs", {
      type: "progress",
      id: 3,
      percent: 60,
      bytes_done: null,
      bytes_total: null,
      rate_bps: null,
    });
    await tick();
    expect((screen.getByTestId("job-progress") as HTMLProgressElement).value).toBe(60);
    await fireEvent.click(screen.getByTestId("nav-dictate"));
    expect(screen.getByTestId("job-progress")).toBeTruthy();

    backend.setNotes([summary(1), summary(2), summary(3)]);
    backend.emit("watch_jobs", { type: "done", id: 3, note_id: 3 });
    await fireEvent.click(screen.getByTestId("nav-notes"));
    await vi.waitFor(() => expect(screen.getAllByTestId("note-item")).toHaveLength(3));
    expect(screen.getByTestId("job-item").dataset.state).toBe("done");
    await fireEvent.click(screen.getByRole("button", { name: "Open note" }));
    expect(((await screen.findByTestId("note-title")) as HTMLInputElement).value).toBe("Standup");
  });

  it("never shows a blank window when the core cannot be reached", async () => {
    const backend = backendFor("locked", {
      vault_status: () => {
        throw fail("io", "permission denied: /data");
      },
    });
    render(App, { app: createApp() });
    expect((await screen.findByTestId("error")).textContent).toMatch(/permission denied/);
    backend.answer("vault_status", { state: "locked", keyring_enabled: false, data_dir: "/data" });
    await fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("unlock-input")).toBeTruthy();
  });

  it("reports a failed lock instead of pretending", async () => {
    backendFor("unlocked", {
      lock: () => {
        throw fail("busy", "");
      },
    });
    render(App, { app: createApp() });
    await screen.findAllByTestId("note-item");
    await fireEvent.click(screen.getByTestId("lock-button"));
    expect((await screen.findByTestId("error")).textContent).toMatch(/busy/);
    expect(screen.getByTestId("nav-notes")).toBeTruthy();
  });
});
