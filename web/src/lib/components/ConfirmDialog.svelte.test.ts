import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import ConfirmDialog from "./ConfirmDialog.svelte";

describe("ConfirmDialog", () => {
  it("starts on the safe choice and reports the answer", async () => {
    const onconfirm = vi.fn();
    const oncancel = vi.fn();
    render(ConfirmDialog, { title: "Delete this note?", onconfirm, oncancel });
    const dialog = screen.getByRole("alertdialog", { name: "Delete this note?" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Cancel" }));
    await fireEvent.click(screen.getByTestId("confirm-yes"));
    expect(onconfirm).toHaveBeenCalledOnce();
    expect(oncancel).not.toHaveBeenCalled();
  });

  it("cancels with Escape and keeps Tab inside", async () => {
    const oncancel = vi.fn();
    render(ConfirmDialog, { title: "Remove?", confirmLabel: "Remove", onconfirm: vi.fn(), oncancel });
    const dialog = screen.getByRole("alertdialog");
    const yes = screen.getByTestId("confirm-yes");
    yes.focus();
    await fireEvent.keyDown(dialog, { key: "Tab" });
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Cancel" }));
    await fireEvent.keyDown(dialog, { key: "Escape" });
    expect(oncancel).toHaveBeenCalledOnce();
  });
});
