import { fireEvent, render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import { mockBackend } from "../../test/backend";
import { createJobs } from "../jobs.svelte";
import JobsPanel from "./JobsPanel.svelte";

async function setup() {
  const backend = mockBackend({ watch_jobs: null, cancel_job: null });
  const jobs = createJobs();
  await jobs.watch();
  const onopen = vi.fn();
  render(JobsPanel, { jobs, onopen });
  const send = async (event: unknown) => {
    backend.emit("watch_jobs", event);
    await tick();
  };
  return { backend, jobs, onopen, send };
}

const progress = (id: number, percent: number) => ({
  type: "progress",
  id,
  percent,
  bytes_done: null,
  bytes_total: null,
  rate_bps: null,
});

describe("JobsPanel", () => {
  it("is absent without jobs", async () => {
    await setup();
    expect(screen.queryByRole("region")).toBeNull();
    expect(screen.queryByTestId("job-item")).toBeNull();
  });

  it("updates the bar as progress arrives and links the finished note", async () => {
    const { send, onopen } = await setup();
    await send({ type: "queued", id: 4, kind: "import", label: "interview.mp3" });
    const item = screen.getByTestId("job-item");
    expect(item.dataset.state).toBe("queued");
    expect(item.textContent).toContain("interview.mp3");
    await send(progress(4, 30));
    expect(item.dataset.state).toBe("running");
    expect((screen.getByTestId("job-progress") as HTMLProgressElement).value).toBe(30);
    await send(progress(4, 80));
    expect((screen.getByTestId("job-progress") as HTMLProgressElement).value).toBe(80);
    await send({ type: "done", id: 4, note_id: 17 });
    expect(item.dataset.state).toBe("done");
    expect(screen.queryByTestId("job-progress")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Open note" }));
    expect(onopen).toHaveBeenCalledWith(17);
  });

  it("cancels a running job", async () => {
    const { send, backend } = await setup();
    await send({ type: "queued", id: 5, kind: "import", label: "a.wav" });
    await fireEvent.click(screen.getByRole("button", { name: "Cancel a.wav" }));
    expect(backend.callsOf("cancel_job")).toEqual([{ id: 5 }]);
    await send({ type: "cancelled", id: 5 });
    expect(screen.getByTestId("job-item").dataset.state).toBe("cancelled");
  });

  it("shows a failed job's message and keeps the others going", async () => {
    const { send } = await setup();
    await send({ type: "queued", id: 1, kind: "import", label: "broken.ogg" });
    await send({ type: "queued", id: 2, kind: "import", label: "fine.ogg" });
    await send({ type: "failed", id: 1, code: "bad_audio", message: "no audio stream" });
    await send(progress(2, 10));
    const [failed, running] = screen.getAllByTestId("job-item");
    expect(failed.dataset.state).toBe("failed");
    expect(screen.getByTestId("error").textContent).toMatch(/could not be read as audio/);
    expect(running.dataset.state).toBe("running");
  });

  it("folds finished jobs away but never running ones", async () => {
    const { send } = await setup();
    await send({ type: "queued", id: 1, kind: "import", label: "one.wav" });
    await send({ type: "done", id: 1, note_id: 3 });
    await send({ type: "queued", id: 2, kind: "download", label: "base.en" });
    await fireEvent.click(screen.getByRole("button", { name: "Hide finished" }));
    expect(screen.getAllByTestId("job-item").map((i) => i.dataset.state)).toEqual(["queued"]);
    expect(screen.getAllByTestId("job-progress")).toHaveLength(1);
    await fireEvent.click(screen.getByRole("button", { name: "Clear finished" }));
    expect(screen.getAllByTestId("job-item")).toHaveLength(1);
  });
});
