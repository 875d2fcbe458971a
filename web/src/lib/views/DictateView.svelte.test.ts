import { fireEvent, render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import { fail, mockBackend } from "../../test/backend";
import { createDictation } from "../dictation.svelte";
import { createSession } from "../session.svelte";
import DictateView from "./DictateView.svelte";

function setup(answers: Record<string, unknown> = {}) {
  const backend = mockBackend({
    start_dictation: null,
    stop_dictation: null,
    cancel_dictation: null,
    ...answers,
  });
  const dictation = createDictation();
  const session = createSession();
  render(DictateView, { dictation, session });
  return { backend, dictation, session };
}

async function startRecording(backend: ReturnType<typeof mockBackend>) {
  await fireEvent.click(screen.getByTestId("record-button"));
  await vi.waitFor(() => expect(backend.callsOf("start_dictation")).toHaveLength(1));
  backend.emit("start_dictation", { type: "ready", device: "USB mic" });
  await tick();
}

describe("DictateView", () => {
  it("records: Stop while running, partial greyed after finals, back to idle on stopped", async () => {
    const { backend } = setup();
    const button = screen.getByTestId("record-button");
    expect(button.textContent).toMatch(/Record/);
    await startRecording(backend);
    expect(button.textContent).toMatch(/Stop/);
    expect(screen.getByText(/Listening on USB mic/)).toBeTruthy();

    backend.emit("start_dictation", { type: "partial", start_ms: 0, end_ms: 500, text: "hello wor" });
    await tick();
    const live = screen.getByTestId("live-text");
    expect(live.querySelector(".partial")?.textContent).toBe("hello wor");

    backend.emit("start_dictation", { type: "final", start_ms: 0, end_ms: 900, text: "Hello world." });
    backend.emit("start_dictation", { type: "partial", start_ms: 900, end_ms: 1200, text: "and" });
    await tick();
    expect(live.textContent).toContain("Hello world.");
    expect(live.querySelector(".partial")?.textContent?.trim()).toBe("and");

    await fireEvent.click(button);
    expect(backend.callsOf("stop_dictation")).toHaveLength(1);
    backend.emit("start_dictation", { type: "final", start_ms: 900, end_ms: 1500, text: "and more." });
    backend.emit("start_dictation", { type: "stopped", audio_ms: 1500, reason: "requested" });
    await tick();
    expect(live.textContent).toBe("Hello world. and more.");
    expect(live.querySelector(".partial")).toBeNull();
    expect(button.textContent).toMatch(/Record/);
  });

  it("maps the level to the meter", async () => {
    const { backend } = setup();
    await startRecording(backend);
    backend.emit("start_dictation", { type: "level", rms_db: -30, peak_db: -12 });
    await tick();
    expect(screen.getByTestId("level-meter").getAttribute("aria-valuenow")).toBe("50");
  });

  it("cancels with Escape", async () => {
    const { backend } = setup();
    await startRecording(backend);
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(backend.callsOf("cancel_dictation")).toHaveLength(1);
  });

  it("shows errors in place", async () => {
    setup({
      start_dictation: () => {
        throw fail("no_microphone", "no input device");
      },
    });
    await fireEvent.click(screen.getByTestId("record-button"));
    expect((await screen.findByTestId("error")).textContent).toMatch(/No microphone/);
    expect(screen.getByTestId("record-button").textContent).toMatch(/Record/);
  });

  it("saves the text as a dictated note and links to it", async () => {
    const { backend, session } = setup({ add_text_note: 42 });
    await startRecording(backend);
    backend.emit("start_dictation", { type: "final", start_ms: 0, end_ms: 900, text: "Buy milk." });
    backend.emit("start_dictation", { type: "stopped", audio_ms: 900, reason: "requested" });
    await tick();
    await fireEvent.click(screen.getByRole("button", { name: "Save as note" }));
    const open = await screen.findByRole("button", { name: "Open it in Notes" });
    expect(backend.callsOf("add_text_note")).toEqual([
      { title: "", body: "Buy milk.", dictated: true },
    ]);
    await fireEvent.click(open);
    expect(session.view).toBe("notes");
    expect(session.noteId).toBe(42);
  });

  it("copies and clears", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const { backend } = setup();
    await startRecording(backend);
    backend.emit("start_dictation", { type: "final", start_ms: 0, end_ms: 900, text: "Copy me." });
    await tick();
    await fireEvent.click(screen.getByRole("button", { name: "Copy" }));
    expect(writeText).toHaveBeenCalledWith("Copy me.");
    await fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    expect(screen.getByTestId("live-text").textContent).not.toContain("Copy me.");
  });

  it("carries out a voice command, shows what it understood, and undoes it", async () => {
    // Tomorrow at 17:00 wherever and whenever the test runs (a fixed date turned "yesterday").
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(17, 0, 0, 0);
    const due = Math.floor(tomorrow.getTime() / 1000);
    const reminder = { id: 4, due_at: due, text: "call Ana", state: "pending", note_id: null, created_at: 0 };
    const backend = mockBackend({
      start_dictation: null,
      undo_command: null,
      run_command: ({ text }: Record<string, unknown>) =>
        String(text).startsWith("Remind")
          ? {
              parsed: { intent: "create_reminder", slots: { text: "call Ana", due: null, query: null }, confidence: 0.95 },
              outcome: { done: "reminder_created", reminder },
            }
          : {
              parsed: { intent: "none", slots: { text: null, due: null, query: null }, confidence: 1 },
              outcome: { done: "dictation" },
            },
    });
    const changed = vi.fn();
    const dictation = createDictation({ commandsOn: () => true, onCommand: changed });
    render(DictateView, { dictation, session: createSession() });
    await startRecording(backend);
    backend.emit("start_dictation", { type: "final", start_ms: 0, end_ms: 900, text: "Remind me to call Ana at 5 pm." });
    backend.emit("start_dictation", { type: "final", start_ms: 900, end_ms: 1500, text: "Dear Ana," });
    const command = await screen.findByTestId("command");
    expect(command.textContent).toMatch(/Reminder: call Ana — tomorrow 17:00/);
    // The command is not dictated text; the plain final is.
    await vi.waitFor(() => expect(screen.getByTestId("live-text").textContent).toBe("Dear Ana,"));
    expect(changed).toHaveBeenCalledTimes(1);

    await fireEvent.click(screen.getByTestId("undo-command"));
    await vi.waitFor(() => expect(backend.callsOf("undo_command")).toEqual([{ undo: { kind: "reminder", id: 4 } }]));
    await vi.waitFor(() => expect(screen.getByTestId("command").classList.contains("undone")).toBe(true));
    expect(screen.queryByTestId("undo-command")).toBeNull();
  });

  it("says why a command could not be done", async () => {
    const backend = mockBackend({
      start_dictation: null,
      run_command: () => {
        throw fail("command_incomplete", "the reminder has no time: say when");
      },
    });
    const dictation = createDictation({ commandsOn: () => true });
    render(DictateView, { dictation, session: createSession() });
    await startRecording(backend);
    backend.emit("start_dictation", { type: "final", start_ms: 0, end_ms: 900, text: "Remind me to buy milk." });
    const command = await screen.findByTestId("command");
    await vi.waitFor(() => expect(command.textContent).toMatch(/no time/));
  });
});
