// Model rows plus what this page started for them (download jobs, checksum checks). Download
// progress itself lives in the jobs store; this only remembers which job belongs to which model.
import * as ipc from "./ipc";
import type { ModelKind, ModelRow } from "./ipc";
import type { Job } from "./jobs.svelte";
import { errorMessage } from "./messages";

/** The kind of model that transcribes; the only kind the Settings model choice offers. */
export const SPEECH_KIND: ModelKind = "whisper";

export type VerifyState = "checking" | "ok" | "mismatch";

export function createModels() {
  let rows = $state<ModelRow[]>([]);
  let loading = $state(false);
  let loaded = $state(false);
  let error = $state<string | null>(null);
  let downloads = $state<Record<string, number>>({});
  let verify = $state<Record<string, VerifyState>>({});
  let rowErrors = $state<Record<string, string>>({});

  return {
    get rows() {
      return rows;
    },
    get loading() {
      return loading;
    },
    get loaded() {
      return loaded;
    },
    get error() {
      return error;
    },
    /** Installed speech models, for the Settings model choice. */
    /** Installed speech models, one row per model (the `model` setting names a model, not a variant). */
    get speechInstalled() {
      const seen = new Set<string>();
      return rows.filter((m) => m.kind === SPEECH_KIND && m.installed && !seen.has(m.model) && seen.add(m.model));
    },
    downloadJob(id: string): number | undefined {
      return downloads[id];
    },
    verifyState(id: string): VerifyState | undefined {
      return verify[id];
    },
    rowError(id: string): string | undefined {
      return rowErrors[id];
    },

    async load() {
      loading = true;
      try {
        rows = await ipc.listModels();
        loaded = true;
        error = null;
      } catch (e) {
        error = errorMessage(e);
      } finally {
        loading = false;
      }
    },

    async download(id: string) {
      delete rowErrors[id];
      try {
        downloads[id] = await ipc.downloadModel(id);
      } catch (e) {
        rowErrors[id] = errorMessage(e);
      }
    },

    /** A download job ended: forget it and re-read the rows (installed/active may have changed). */
    jobFinished(job: Pick<Job, "id" | "state" | "error">) {
      for (const [model, jobId] of Object.entries(downloads)) {
        if (jobId !== job.id) continue;
        delete downloads[model];
        if (job.state === "failed" && job.error) rowErrors[model] = job.error;
      }
      return this.load();
    },

    async remove(id: string) {
      delete rowErrors[id];
      delete verify[id];
      try {
        await ipc.removeModel(id);
        await this.load();
      } catch (e) {
        rowErrors[id] = errorMessage(e);
      }
    },

    async verify(id: string) {
      delete rowErrors[id];
      verify[id] = "checking";
      try {
        verify[id] = (await ipc.verifyModel(id)) ? "ok" : "mismatch";
      } catch (e) {
        delete verify[id];
        rowErrors[id] = errorMessage(e);
      }
    },
  };
}

export type Models = ReturnType<typeof createModels>;
