import { fireEvent, render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import { mockBackend } from "../../test/backend";
import { hit } from "../../test/fixtures";
import { createSearch } from "../search.svelte";
import { createSession } from "../session.svelte";
import SearchView from "./SearchView.svelte";

function setup() {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  const backend = mockBackend({
    search_notes: ({ query }: Record<string, unknown>) => [
      hit(3, { title: "Search plans", snippet: `we talked about ${query} <b>today</b>` }),
      hit(8),
      hit(5),
    ],
  });
  const search = createSearch();
  const session = createSession();
  render(SearchView, { search, session });
  return { backend, session, input: screen.getByTestId("search-input") };
}

async function settle() {
  await vi.advanceTimersByTimeAsync(200);
  await tick();
}

describe("SearchView", () => {
  it("searches once typing pauses, not on every key", async () => {
    const { backend, input } = setup();
    for (const value of ["b", "bu", "bud", "budget"]) {
      await fireEvent.input(input, { target: { value } });
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(backend.callsOf("search_notes")).toHaveLength(0);
    await settle();
    expect(backend.callsOf("search_notes")).toEqual([{ query: "budget", limit: 20 }]);
    expect(screen.getAllByTestId("search-result").map((r) => r.dataset.noteId)).toEqual(["3", "8", "5"]);
  });

  it("makes no call for an empty query and clears the results", async () => {
    const { backend, input } = setup();
    await fireEvent.input(input, { target: { value: "budget" } });
    await settle();
    await fireEvent.input(input, { target: { value: "   " } });
    await settle();
    expect(backend.callsOf("search_notes")).toHaveLength(1);
    expect(screen.queryAllByTestId("search-result")).toHaveLength(0);
  });

  it("highlights the query's words without rendering HTML from the text", async () => {
    const { input } = setup();
    await fireEvent.input(input, { target: { value: "budget" } });
    await settle();
    const first = screen.getAllByTestId("search-result")[0];
    expect(Array.from(first.querySelectorAll("mark")).map((m) => m.textContent)).toEqual(["budget"]);
    expect(first.querySelector("b")).toBeNull();
    expect(first.textContent).toContain("<b>today</b>");
  });

  it("moves a visible selection with the arrows and opens it with Enter", async () => {
    const { input, session } = setup();
    await fireEvent.input(input, { target: { value: "budget" } });
    await settle();
    await fireEvent.keyDown(input, { key: "ArrowDown" });
    await fireEvent.keyDown(input, { key: "ArrowDown" });
    await fireEvent.keyDown(input, { key: "ArrowDown" });
    await fireEvent.keyDown(input, { key: "ArrowUp" });
    const results = screen.getAllByTestId("search-result");
    expect(results.map((r) => r.getAttribute("aria-selected"))).toEqual(["false", "true", "false"]);
    expect(input.getAttribute("aria-activedescendant")).toBe(results[1].id);
    await fireEvent.keyDown(input, { key: "Enter" });
    expect(session.view).toBe("notes");
    expect(session.noteId).toBe(8);
  });

  it("opens a result on click", async () => {
    const { input, session } = setup();
    await fireEvent.input(input, { target: { value: "budget" } });
    await settle();
    await fireEvent.click(screen.getAllByTestId("search-result")[2]);
    expect(session.noteId).toBe(5);
  });
});
