import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { mockBackend } from "../../test/backend";
import { detail, summary } from "../../test/fixtures";
import { createNotesList } from "../notes.svelte";
import { createSession } from "../session.svelte";
import NotesView from "./NotesView.svelte";

describe("NotesView", () => {
  it("goes from the list to a note and back", async () => {
    mockBackend({ list_notes: [summary(1)], list_tags: [], get_note: detail(1) });
    const session = createSession();
    render(NotesView, { notes: createNotesList(), session });
    await fireEvent.click(await screen.findByTestId("note-item"));
    expect(await screen.findByTestId("note-title")).toBeTruthy();
    expect(screen.queryByTestId("note-item")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "← All notes" }));
    expect(await screen.findByTestId("note-item")).toBeTruthy();
  });
});
