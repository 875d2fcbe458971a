// Every background job (imports, model downloads) as the core reports it on the jobs channel.
// One channel for the app's lifetime: imports started from the command line or "Open with"
// arrive here too, whichever view is on screen.
import * as ipc from "./ipc";
import type { JobEvent, JobKind } from "./ipc";
import { errorMessage, messageFor } from "./messages";

export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

export interface Job {
  id: number;
  kind: JobKind | null;
  label: string;
  state: JobState;
  percent: number | null;
  bytesDone: number | null;
  bytesTotal: number | null;
  rateBps: number | null;
  noteId: number | null;
  /** Why it failed, or why cancelling it failed; readable. */
  error: string | null;
}

export const isActive = (job: Job) => job.state === "queued" || job.state === "running";

export function createJobs() {
  let jobs = $state<Job[]>([]);
  let watchError = $state<string | null>(null);
  let importError = $state<string | null>(null);
  let watching: Promise<void> | null = null;
  const finishListeners = new Set<(job: Job) => void>();

  function find(id: number): Job {
    let job = jobs.find((j) => j.id === id);
    if (!job) {
      // An event for a job this page never saw queued (e.g. queued before the page loaded).
      jobs.push({
        id,
        kind: null,
        label: `Job ${id}`,
        state: "queued",
        percent: null,
        bytesDone: null,
        bytesTotal: null,
        rateBps: null,
        noteId: null,
        error: null,
      });
      job = jobs[jobs.length - 1];
    }
    return job;
  }

  function finish(job: Job) {
    for (const listener of finishListeners) listener(job);
  }

  function handle(event: JobEvent) {
    const job = find(event.id);
    switch (event.type) {
      case "queued":
        job.kind = event.kind;
        job.label = event.label;
        break;
      case "progress":
        if (!isActive(job)) return;
        job.state = "running";
        job.percent = Math.min(100, Math.max(0, event.percent));
        job.bytesDone = event.bytes_done;
        job.bytesTotal = event.bytes_total;
        job.rateBps = event.rate_bps;
        break;
      case "done":
        job.state = "done";
        job.percent = 100;
        job.noteId = event.note_id;
        job.rateBps = null;
        finish(job);
        break;
      case "failed":
        job.state = "failed";
        job.error = messageFor(event.code, event.message);
        job.rateBps = null;
        finish(job);
        break;
      case "cancelled":
        job.state = "cancelled";
        job.rateBps = null;
        finish(job);
        break;
    }
  }

  return {
    get list() {
      return jobs;
    },
    get active() {
      return jobs.filter(isActive);
    },
    get finished() {
      return jobs.filter((j) => !isActive(j));
    },
    get watchError() {
      return watchError;
    },
    /** Why the last import could not be queued (per-file failures arrive as failed jobs). */
    get importError() {
      return importError;
    },
    byId(id: number): Job | undefined {
      return jobs.find((j) => j.id === id);
    },

    /** Registers the jobs channel once; later calls reuse it (a failed attempt may be retried). */
    watch(): Promise<void> {
      if (!watching) {
        watchError = null;
        watching = ipc.watchJobs(handle).catch((e) => {
          watching = null;
          watchError = errorMessage(e);
        });
      }
      return watching;
    },

    /** Called with each job that reaches done, failed or cancelled. Returns an unsubscribe. */
    onFinish(listener: (job: Job) => void): () => void {
      finishListeners.add(listener);
      return () => finishListeners.delete(listener);
    },

    /** Queues files for import; their jobs then arrive on the channel. Returns how many. */
    async importFiles(paths: string[]): Promise<number> {
      importError = null;
      if (paths.length === 0) return 0;
      try {
        return (await ipc.importFiles(paths)).length;
      } catch (e) {
        importError = errorMessage(e);
        return 0;
      }
    },

    dismissImportError() {
      importError = null;
    },

    /** Hides the message; the next unlock tries to register the channel again. */
    dismissWatchError() {
      watchError = null;
    },

    async cancel(id: number) {
      const job = jobs.find((j) => j.id === id);
      try {
        await ipc.cancelJob(id);
      } catch (e) {
        if (job) job.error = errorMessage(e);
      }
    },

    dismiss(id: number) {
      jobs = jobs.filter((j) => j.id !== id || isActive(j));
    },

    clearFinished() {
      jobs = jobs.filter(isActive);
    },

    /** Exposed for the store's own tests and for commands that report inline. */
    handle,
  };
}

export type Jobs = ReturnType<typeof createJobs>;
