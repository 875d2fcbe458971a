import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { Job } from "../jobs.svelte";
import JobProgress from "./JobProgress.svelte";

const base: Job = {
  id: 1,
  kind: "download",
  label: "small.en",
  state: "queued",
  percent: null,
  bytesDone: null,
  bytesTotal: null,
  rateBps: null,
  noteId: null,
  error: null,
};

describe("JobProgress", () => {
  it("is indeterminate until a percentage arrives", () => {
    render(JobProgress, { job: base });
    const bar = screen.getByTestId("job-progress") as HTMLProgressElement;
    expect(bar.hasAttribute("value")).toBe(false);
    expect(screen.getByText("Waiting…")).toBeTruthy();
  });

  it("shows percent, amount, rate and time left", () => {
    render(JobProgress, {
      job: {
        ...base,
        state: "running",
        percent: 50,
        bytesDone: 50_000_000,
        bytesTotal: 100_000_000,
        rateBps: 5_000_000,
      },
      testid: "model-progress",
    });
    const bar = screen.getByTestId("model-progress") as HTMLProgressElement;
    expect(bar.value).toBe(50);
    expect(bar.max).toBe(100);
    expect(bar.parentElement!.textContent).toContain("50 % · 50.0 MB of 100 MB · 5.00 MB/s · 10 s left");
  });
});
