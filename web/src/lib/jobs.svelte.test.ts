import { describe, expect, it } from "vitest";
import { mockBackend } from "../test/backend";
import { createJobs } from "./jobs.svelte";

describe("jobs store", () => {
  it("registers the jobs channel once", async () => {
    const backend = mockBackend({ watch_jobs: null });
    const jobs = createJobs();
    await Promise.all([jobs.watch(), jobs.watch()]);
    await jobs.watch();
    expect(backend.callsOf("watch_jobs")).toHaveLength(1);
  });

  it("follows a job from queued to done and tells listeners", async () => {
    const backend = mockBackend({ watch_jobs: null });
    const jobs = createJobs();
    const finished: number[] = [];
    jobs.onFinish((job) => finished.push(job.id));
    await jobs.watch();

    backend.emit("watch_jobs", { type: "queued", id: 7, kind: "import", label: "memo.m4a" });
    expect(jobs.list[0]).toMatchObject({ id: 7, state: "queued", label: "memo.m4a" });
    backend.emit("watch_jobs", {
      type: "progress",
      id: 7,
      percent: 40,
      bytes_done: null,
      bytes_total: null,
      rate_bps: null,
    });
    expect(jobs.list[0]).toMatchObject({ state: "running", percent: 40 });
    backend.emit("watch_jobs", { type: "done", id: 7, note_id: 3 });
    expect(jobs.list[0]).toMatchObject({ state: "done", noteId: 3 });
    expect(finished).toEqual([7]);
    expect(jobs.active).toHaveLength(0);
  });

  it("keeps a failed job's readable message and tolerates unknown ids", async () => {
    const backend = mockBackend({ watch_jobs: null });
    const jobs = createJobs();
    await jobs.watch();
    backend.emit("watch_jobs", { type: "failed", id: 9, code: "bad_audio", message: "no stream" });
    expect(jobs.byId(9)).toMatchObject({ state: "failed", label: "Job 9" });
    expect(jobs.byId(9)?.error).toContain("could not be read as audio");
  });

  it("may retry watching after a failure", async () => {
    const backend = mockBackend({});
    const jobs = createJobs();
    await jobs.watch();
    expect(jobs.watchError).toBeTruthy();
    backend.answer("watch_jobs", null);
    await jobs.watch();
    expect(jobs.watchError).toBeNull();
    expect(backend.callsOf("watch_jobs")).toHaveLength(2);
  });
});
