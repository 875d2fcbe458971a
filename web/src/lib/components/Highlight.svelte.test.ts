import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import Highlight from "./Highlight.svelte";

describe("Highlight", () => {
  it("marks matches and leaves markup in the text as text", () => {
    const { container } = render(Highlight, {
      text: "Budget <img src=x onerror=alert(1)> budget",
      query: "budget",
    });
    expect(Array.from(container.querySelectorAll("mark")).map((m) => m.textContent)).toEqual([
      "Budget",
      "budget",
    ]);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toContain("<img src=x onerror=alert(1)>");
  });
});
