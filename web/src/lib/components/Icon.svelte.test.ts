import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import Icon from "./Icon.svelte";

describe("Icon", () => {
  it("is decorative: hidden from assistive technology and not focusable", () => {
    const { container } = render(Icon, { name: "lock", size: 16 });
    const svg = container.querySelector("svg")!;
    expect(svg.getAttribute("aria-hidden")).toBe("true");
    expect(svg.getAttribute("focusable")).toBe("false");
    expect(svg.getAttribute("width")).toBe("16");
    expect(svg.querySelector("path")?.getAttribute("d")).toBeTruthy();
  });
});
