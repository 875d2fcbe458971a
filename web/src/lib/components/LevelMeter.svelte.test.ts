import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import LevelMeter from "./LevelMeter.svelte";

describe("LevelMeter", () => {
  it("exposes the level as a meter and draws it without a style attribute string", () => {
    render(LevelMeter, { level: 42.4, peak: 70 });
    const meter = screen.getByTestId("level-meter");
    expect(meter.getAttribute("role")).toBe("meter");
    expect(meter.getAttribute("aria-valuenow")).toBe("42");
    const fill = meter.querySelector<HTMLElement>(".fill")!;
    expect(fill.style.width).toBe("42.4%");
  });
});
