import { describe, expect, it } from "vitest";
import { dbToPercent, formatBytes, formatClock, formatDue, formatEta, highlightParts } from "./format";

describe("format", () => {
  it("shows positions as mm:ss", () => {
    expect(formatClock(0)).toBe("00:00");
    expect(formatClock(65_500)).toBe("01:05");
    expect(formatClock(3_725_000)).toBe("1:02:05");
  });

  it("uses human units for sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(142_000_000)).toBe("142 MB");
    expect(formatBytes(1_550_000_000)).toBe("1.55 GB");
  });

  it("rounds time left coarsely", () => {
    expect(formatEta(12.4)).toBe("12 s left");
    expect(formatEta(150)).toBe("3 min left");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("");
  });

  it("maps −60…0 dBFS to 0…100 %", () => {
    expect(dbToPercent(-60)).toBe(0);
    expect(dbToPercent(-30)).toBe(50);
    expect(dbToPercent(0)).toBe(100);
    expect(dbToPercent(-120)).toBe(0);
    expect(dbToPercent(6)).toBe(100);
    expect(dbToPercent(Number.NEGATIVE_INFINITY)).toBe(0);
  });

  it("splits text around the query's words, case-insensitively", () => {
    expect(highlightParts("Search the Notes", "notes search")).toEqual([
      { text: "Search", match: true },
      { text: " the ", match: false },
      { text: "Notes", match: true },
    ]);
    expect(highlightParts("a+b (c)", "a+b")).toEqual([
      { text: "a+b", match: true },
      { text: " (c)", match: false },
    ]);
    expect(highlightParts("plain", "   ")).toEqual([{ text: "plain", match: false }]);
    expect(highlightParts("other then", "the")).toEqual([
      { text: "other ", match: false },
      { text: "the", match: true },
      { text: "n", match: false },
    ]);
  });
});

describe("formatDue", () => {
  it("says today, tomorrow, or the date", () => {
    const now = new Date(2026, 11, 7, 8, 30);
    const at = (d: number, h: number, m = 0) => new Date(2026, 11, d, h, m).getTime() / 1000;
    expect(formatDue(at(7, 17), now)).toBe("today 17:00");
    expect(formatDue(at(8, 9, 5), now)).toBe("tomorrow 09:05");
    expect(formatDue(at(11, 15, 30), now)).toMatch(/11.*15:30$/);
  });
});
