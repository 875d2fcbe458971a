import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { mockBackend } from "../../test/backend";
import { summary } from "../../test/fixtures";
import { createNotesList } from "../notes.svelte";
import { createSession } from "../session.svelte";
import NoteList from "./NoteList.svelte";

function setup(pages: ReturnType<typeof summary>[][]) {
  let call = 0;
  const backend = mockBackend({
    list_notes: () => pages[Math.min(call++, pages.length - 1)],
    list_tags: [
      { tag: "work", count: 2 },
      { tag: "home", count: 1 },
    ],
  });
  const notes = createNotesList();
  const session = createSession();
  render(NoteList, { notes, session });
  return { backend, notes, session };
}

describe("NoteList", () => {
  it("lists notes with title, date and duration, newest first, 50 at a time", async () => {
    const { backend } = setup([[summary(2, { tags: ["work"] }), summary(1, { duration_ms: null, title: "" })]]);
    const items = await screen.findAllByTestId("note-item");
    expect(items.map((i) => i.dataset.noteId)).toEqual(["2", "1"]);
    expect(items[0].textContent).toContain("Note 2");
    expect(items[0].textContent).toContain("01:05");
    expect(items[0].textContent).toContain("work");
    expect(items[1].textContent).toContain("Untitled");
    expect(backend.callsOf("list_notes")[0]).toEqual({
      options: { sort: "created", descending: true, limit: 50, offset: 0, tag: null },
    });
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("opens a note on click", async () => {
    const { session } = setup([[summary(5)]]);
    await fireEvent.click(await screen.findByTestId("note-item"));
    expect(session.noteId).toBe(5);
  });

  it("changes sort and tag filter", async () => {
    const { backend } = setup([[summary(1)]]);
    await screen.findAllByTestId("note-item");
    await fireEvent.change(screen.getByLabelText("Sort"), { target: { value: "title:asc" } });
    await vi.waitFor(() => expect(backend.callsOf("list_notes")).toHaveLength(2));
    expect(backend.callsOf("list_notes")[1].options).toMatchObject({ sort: "title", descending: false });
    await vi.waitFor(() => expect(screen.getByRole("option", { name: "work (2)" })).toBeTruthy());
    await fireEvent.change(screen.getByLabelText("Tag"), { target: { value: "work" } });
    await vi.waitFor(() => expect(backend.callsOf("list_notes")).toHaveLength(3));
    expect(backend.callsOf("list_notes")[2].options).toMatchObject({ tag: "work", offset: 0 });
  });

  it("loads more when a full page came back", async () => {
    const full = Array.from({ length: 50 }, (_, i) => summary(100 - i));
    const { backend } = setup([full, [summary(1)]]);
    await fireEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("note-item")).toHaveLength(51));
    expect(backend.callsOf("list_notes")[1].options).toMatchObject({ offset: 50, limit: 50 });
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("says so when there are no notes", async () => {
    setup([[]]);
    expect(await screen.findByText("No notes yet.")).toBeTruthy();
  });
});
