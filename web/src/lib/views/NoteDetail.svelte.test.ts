import { fireEvent, render, screen } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fail, mockBackend } from "../../test/backend";
import { detail } from "../../test/fixtures";
import { createNotesList } from "../notes.svelte";
import { createSession } from "../session.svelte";
import NoteDetail from "./NoteDetail.svelte";

function setup(answers: Record<string, unknown> = {}, withRecording = true) {
  const backend = mockBackend({ get_note: detail(1, withRecording), ...answers });
  const session = createSession();
  session.openNote(1);
  const notes = createNotesList();
  render(NoteDetail, { id: 1, notes, session });
  return { backend, session };
}

beforeEach(() => {
  // jsdom has neither object URLs nor media playback.
  URL.createObjectURL = vi.fn(() => "blob:sotto/1");
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLMediaElement.prototype, "play").mockImplementation(function (this: HTMLMediaElement) {
    this.dispatchEvent(new Event("play"));
    return Promise.resolve();
  });
  vi.spyOn(HTMLMediaElement.prototype, "pause").mockImplementation(function (this: HTMLMediaElement) {
    this.dispatchEvent(new Event("pause"));
  });
});

describe("NoteDetail", () => {
  it("shows title, body and segments with mm:ss", async () => {
    setup();
    const title = (await screen.findByTestId("note-title")) as HTMLInputElement;
    expect(title.value).toBe("Standup");
    expect((screen.getByTestId("note-body") as HTMLTextAreaElement).value).toContain("We shipped it.");
    const segments = screen.getAllByTestId("segment");
    expect(segments.map((s) => s.dataset.startMs)).toEqual(["0", "65500"]);
    expect(segments[1].textContent).toContain("01:05");
  });

  it("saves an edited title on blur, sending only what changed", async () => {
    const { backend } = setup({
      edit_note: ({ title }: Record<string, unknown>) => ({ ...detail(1).note, title }),
    });
    const title = await screen.findByTestId("note-title");
    await fireEvent.input(title, { target: { value: "Standup, Monday" } });
    await fireEvent.blur(title);
    await vi.waitFor(() =>
      expect(backend.callsOf("edit_note")).toEqual([{ id: 1, title: "Standup, Monday", body: null }]),
    );
    expect(await screen.findByText("Saved")).toBeTruthy();
  });

  it("plays the recording from a segment", async () => {
    const { backend } = setup({ note_audio: new ArrayBuffer(44) });
    const segments = await screen.findAllByTestId("segment");
    const player = screen.getByTestId("player") as HTMLAudioElement;
    expect(player.dataset.state).toBe("paused");
    await fireEvent.click(segments[1]);
    await vi.waitFor(() => expect(player.dataset.state).toBe("playing"));
    expect(backend.callsOf("note_audio")).toEqual([{ id: 1, startMs: 65_500, endMs: 70_000 }]);
    expect(player.getAttribute("src")).toBe("blob:sotto/1");
    await fireEvent.click(segments[0]);
    await vi.waitFor(() => expect(backend.callsOf("note_audio")).toHaveLength(2));
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:sotto/1");
  });

  it("plays a long recording two minutes at a time, each piece after the last", async () => {
    const long = detail(1);
    long.recording!.duration_ms = 300_000;
    const { backend } = setup({ get_note: long, note_audio: new ArrayBuffer(44) });
    const segments = await screen.findAllByTestId("segment");
    const player = screen.getByTestId("player") as HTMLAudioElement;
    await fireEvent.click(segments[1]);
    await vi.waitFor(() => expect(player.dataset.state).toBe("playing"));
    expect(backend.callsOf("note_audio")).toEqual([{ id: 1, startMs: 65_500, endMs: 185_500 }]);
    await fireEvent(player, new Event("ended"));
    await vi.waitFor(() => expect(backend.callsOf("note_audio")).toHaveLength(2));
    expect(backend.callsOf("note_audio")[1]).toEqual({ id: 1, startMs: 185_500, endMs: 300_000 });
    await vi.waitFor(() => expect(player.dataset.state).toBe("playing"));
    await fireEvent(player, new Event("ended"));
    expect(player.dataset.state).toBe("paused");
    expect(backend.callsOf("note_audio")).toHaveLength(2);
  });

  it("has no player without a recording", async () => {
    setup({}, false);
    await screen.findAllByTestId("segment");
    expect(screen.queryByTestId("player")).toBeNull();
  });

  it("asks before deleting, then goes back to the list", async () => {
    const { backend, session } = setup({ delete_note: null });
    await fireEvent.click(await screen.findByTestId("note-delete"));
    expect(backend.callsOf("delete_note")).toHaveLength(0);
    const yes = screen.getByTestId("confirm-yes");
    expect(screen.getByRole("alertdialog").textContent).toContain("Standup");
    await fireEvent.click(yes);
    await vi.waitFor(() => expect(session.noteId).toBeNull());
    expect(backend.callsOf("delete_note")).toEqual([{ id: 1 }]);
  });

  it("cancelling the confirmation keeps the note", async () => {
    const { backend, session } = setup({ delete_note: null });
    await fireEvent.click(await screen.findByTestId("note-delete"));
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("confirm-yes")).toBeNull();
    expect(backend.callsOf("delete_note")).toHaveLength(0);
    expect(session.noteId).toBe(1);
  });

  it("exports through the app's save dialog", async () => {
    const { backend } = setup({ export_note: "/home/me/Standup.md" });
    await screen.findByTestId("note-title");
    await fireEvent.change(screen.getByLabelText("Format"), { target: { value: "md" } });
    await fireEvent.click(screen.getByRole("button", { name: "Export…" }));
    await vi.waitFor(() =>
      expect(backend.callsOf("export_note")).toEqual([{ id: 1, format: "md", defaultName: "Standup" }]),
    );
    expect(await screen.findByText("Exported to /home/me/Standup.md")).toBeTruthy();
  });

  it("says nothing when the save dialog is dismissed", async () => {
    const { backend } = setup({ export_note: null });
    await screen.findByTestId("note-title");
    await fireEvent.click(screen.getByRole("button", { name: "Export…" }));
    await vi.waitFor(() => expect(backend.callsOf("export_note")).toHaveLength(1));
    expect(screen.queryByText(/Exported to/)).toBeNull();
    expect(screen.queryByTestId("error")).toBeNull();
  });

  it("adds and removes tags", async () => {
    let tags = ["work"];
    const { backend } = setup({
      tag_note: ({ add, remove }: Record<string, unknown>) => {
        tags = [...tags, ...(add as string[])].filter((t) => !(remove as string[]).includes(t));
        return tags;
      },
    });
    await screen.findByTestId("note-title");
    await fireEvent.input(screen.getByLabelText("New tag"), { target: { value: "ideas, q3" } });
    await fireEvent.click(screen.getByRole("button", { name: "Add" }));
    await vi.waitFor(() => expect(screen.getByRole("button", { name: "Remove tag q3" })).toBeTruthy());
    expect(backend.callsOf("tag_note")[0]).toEqual({ id: 1, add: ["ideas", "q3"], remove: [] });
    await fireEvent.click(screen.getByRole("button", { name: "Remove tag work" }));
    await vi.waitFor(() =>
      expect(backend.callsOf("tag_note")[1]).toEqual({ id: 1, add: [], remove: ["work"] }),
    );
  });

  it("shows a missing note's error in place", async () => {
    mockBackend({
      get_note: () => {
        throw fail("not_found", "no note 9");
      },
    });
    render(NoteDetail, { id: 9, notes: createNotesList(), session: createSession() });
    expect((await screen.findByTestId("error")).textContent).toMatch(/no longer exists/);
  });
});
