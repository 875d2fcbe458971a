// All of the app's state, created once and wired together: finished jobs refresh the lists
// that show their results, and locking forgets everything read from the vault.
import { createDictation } from "./dictation.svelte";
import { createJobs } from "./jobs.svelte";
import { createModels } from "./models.svelte";
import { createNotesList } from "./notes.svelte";
import { createReminders } from "./reminders.svelte";
import { createSearch } from "./search.svelte";
import { createSession } from "./session.svelte";
import { createSettings } from "./settings.svelte";

export function createApp() {
  const session = createSession();
  const jobs = createJobs();
  const settings = createSettings();
  const notes = createNotesList();
  const reminders = createReminders();
  const dictation = createDictation({
    commandsOn: () => settings.current?.voice_commands ?? false,
    onCommand: () => {
      void reminders.changed();
      void notes.refresh();
    },
  });
  const search = createSearch();
  const models = createModels();

  jobs.onFinish((job) => {
    if (job.kind === "download") void models.jobFinished(job);
    else if (job.state === "done") void notes.refresh();
  });

  const app = {
    session,
    jobs,
    settings,
    dictation,
    notes,
    search,
    models,
    reminders,

    /** Runs each time the vault opens; the jobs channel itself is registered only once. */
    async afterUnlock() {
      reminders.startPolling();
      await Promise.all([jobs.watch(), settings.load()]);
    },

    /** Stops any dictation, locks, and drops what was read from the vault. */
    async lockNow() {
      if (dictation.active) await dictation.cancel();
      await session.lock();
      dictation.reset();
      notes.reset();
      search.reset();
      reminders.reset();
    },
  };

  session.onEnter(() => void app.afterUnlock());
  return app;
}

export type AppState = ReturnType<typeof createApp>;
