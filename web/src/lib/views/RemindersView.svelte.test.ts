import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { mockBackend } from "../../test/backend";
import DueBanner from "../components/DueBanner.svelte";
import { createReminders } from "../reminders.svelte";
import RemindersView from "./RemindersView.svelte";

const now = Math.floor(Date.now() / 1000);
const reminder = (id: number, due_at: number, text: string, state = "pending") => ({
  id,
  due_at,
  text,
  state,
  note_id: null,
  created_at: 0,
});
const LIST = [
  reminder(1, now - 3600, "call Ana"),
  reminder(2, now + 3600, "water the plants"),
  reminder(3, now - 7200, "pay the rent", "done"),
];

describe("RemindersView", () => {
  it("groups due, upcoming and settled reminders, and settles one", async () => {
    const backend = mockBackend({
      list_reminders: LIST,
      due_reminders: [LIST[0]],
      complete_reminder: () => reminder(1, now - 3600, "call Ana", "done"),
    });
    render(RemindersView, { reminders: createReminders() });
    const due = await screen.findByTestId("reminders-due");
    expect(due.textContent).toContain("call Ana");
    expect(screen.getByTestId("reminders-upcoming").textContent).toContain("water the plants");
    expect(screen.getByTestId("reminders-settled").textContent).toMatch(/pay the rent.*done/);

    await fireEvent.click(within(due).getByRole("button", { name: "Done" }));
    await vi.waitFor(() => expect(backend.callsOf("complete_reminder")).toEqual([{ id: 1 }]));
    // The list is read again after the change.
    await vi.waitFor(() => expect(backend.callsOf("list_reminders").length).toBeGreaterThan(1));
  });
});

describe("DueBanner", () => {
  it("shows due reminders on every view until snoozed", async () => {
    const backend = mockBackend({ due_reminders: [LIST[0]], snooze_reminder: () => LIST[0] });
    const reminders = createReminders();
    render(DueBanner, { reminders });
    await reminders.refreshDue();
    const banner = await screen.findByTestId("due-banner");
    expect(banner.textContent).toContain("call Ana");
    backend.answer("due_reminders", []);
    await fireEvent.click(within(banner).getByRole("button", { name: /Snooze 10 min/ }));
    await vi.waitFor(() => expect(backend.callsOf("snooze_reminder")).toEqual([{ id: 1, minutes: 10 }]));
    await vi.waitFor(() => expect(screen.queryByTestId("due-banner")).toBeNull());
  });
});
