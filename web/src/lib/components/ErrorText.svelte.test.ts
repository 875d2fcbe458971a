import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import ErrorText from "./ErrorText.svelte";

describe("ErrorText", () => {
  it("shows the message as an alert", () => {
    render(ErrorText, { message: "Disk is full" });
    const error = screen.getByTestId("error");
    expect(error.textContent).toBe("Disk is full");
    expect(error.getAttribute("role")).toBe("alert");
  });

  it("keeps its space but shows nothing without a message", () => {
    const { container } = render(ErrorText, { message: null });
    expect(screen.queryByTestId("error")).toBeNull();
    expect(container.querySelector(".slot.reserve")).not.toBeNull();
  });
});
