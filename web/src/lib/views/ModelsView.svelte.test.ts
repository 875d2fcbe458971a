import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { tick } from "svelte";
import { describe, expect, it, vi } from "vitest";
import { mockBackend } from "../../test/backend";
import { model } from "../../test/fixtures";
import { createJobs } from "../jobs.svelte";
import { createModels } from "../models.svelte";
import ModelsView from "./ModelsView.svelte";

const ROWS = [
  model("base.en", { installed: true, active: true }),
  model("small.en", { recommended: true, reason: "fits 16 GB of memory", size_bytes: 487_600_000 }),
  model("minilm", { kind: "embedder", installed: true }),
];

async function setup(answers: Record<string, unknown> = {}) {
  const backend = mockBackend({ list_models: ROWS, watch_jobs: null, ...answers });
  const jobs = createJobs();
  await jobs.watch();
  const models = createModels();
  render(ModelsView, { models, jobs });
  await screen.findAllByTestId("model-row");
  const row = (id: string) =>
    screen.getAllByTestId("model-row").find((r) => r.dataset.modelId === id)!;
  return { backend, jobs, row };
}

describe("ModelsView", () => {
  it("lists models with size, kind and badges", async () => {
    const { row } = await setup();
    expect(screen.getAllByTestId("model-row").map((r) => r.dataset.modelId)).toEqual([
      "base.en",
      "small.en",
      "minilm",
    ]);
    expect(row("base.en").textContent).toMatch(/Active/);
    expect(row("base.en").textContent).toMatch(/Installed/);
    expect(row("small.en").textContent).toMatch(/Recommended/);
    expect(row("small.en").textContent).toMatch(/fits 16 GB of memory/);
    expect(row("small.en").textContent).toMatch(/488 MB/);
    expect(row("minilm").textContent).toMatch(/Search/);
  });

  it("downloads with progress, rate and time left, and can cancel", async () => {
    const { backend, row } = await setup({ download_model: 21, cancel_job: null });
    await fireEvent.click(within(row("small.en")).getByRole("button", { name: "Download" }));
    await vi.waitFor(() => expect(backend.callsOf("download_model")).toEqual([{ id: "small.en" }]));
    backend.emit("watch_jobs", { type: "queued", id: 21, kind: "download", label: "small.en" });
    backend.emit("watch_jobs", {
      type: "progress",
      id: 21,
      percent: 25,
      bytes_done: 121_900_000,
      bytes_total: 487_600_000,
      rate_bps: 10_000_000,
    });
    await tick();
    const bar = within(row("small.en")).getByTestId("model-progress") as HTMLProgressElement;
    expect(bar.value).toBe(25);
    expect(row("small.en").textContent).toMatch(/10\.0 MB\/s/);
    expect(row("small.en").textContent).toMatch(/37 s left/);
    await fireEvent.click(within(row("small.en")).getByRole("button", { name: "Cancel download" }));
    expect(backend.callsOf("cancel_job")).toEqual([{ id: 21 }]);
  });

  it("re-reads the rows when a download finishes, and shows a failure on the row", async () => {
    const backend = mockBackend({ list_models: ROWS, watch_jobs: null, download_model: 21 });
    const jobs = createJobs();
    await jobs.watch();
    const models = createModels();
    // createApp wires finished jobs to the models store; do the same here.
    jobs.onFinish((job) => void models.jobFinished(job));
    render(ModelsView, { models, jobs });
    await fireEvent.click(await screen.findByRole("button", { name: "Download" }));
    await vi.waitFor(() => expect(backend.callsOf("download_model")).toHaveLength(1));
    backend.emit("watch_jobs", {
      type: "progress",
      id: 21,
      percent: 5,
      bytes_done: null,
      bytes_total: null,
      rate_bps: null,
    });
    await tick();
    expect(screen.queryByRole("button", { name: "Download" })).toBeNull();
    backend.emit("watch_jobs", { type: "failed", id: 21, code: "io", message: "connection reset" });
    await vi.waitFor(() => expect(backend.callsOf("list_models")).toHaveLength(2));
    expect((await screen.findByTestId("error")).textContent).toMatch(/connection reset/);
    expect(screen.getByRole("button", { name: "Download" })).toBeTruthy();
  });

  it("verifies a checksum", async () => {
    const { row } = await setup({ verify_model: ({ id }: Record<string, unknown>) => id === "base.en" });
    await fireEvent.click(within(row("base.en")).getByRole("button", { name: "Verify" }));
    expect(await within(row("base.en")).findByText(/Checksum OK/)).toBeTruthy();
    await fireEvent.click(within(row("minilm")).getByRole("button", { name: "Verify" }));
    expect(await within(row("minilm")).findByText(/Checksum mismatch/)).toBeTruthy();
  });

  it("asks before removing", async () => {
    const { backend, row } = await setup({ remove_model: null });
    await fireEvent.click(within(row("base.en")).getByRole("button", { name: "Remove…" }));
    expect(backend.callsOf("remove_model")).toHaveLength(0);
    await fireEvent.click(screen.getByTestId("confirm-yes"));
    await vi.waitFor(() => expect(backend.callsOf("remove_model")).toEqual([{ id: "base.en" }]));
    await vi.waitFor(() => expect(screen.queryByTestId("confirm-yes")).toBeNull());
  });
});
