// Reminders: the list for the Reminders view, and the due ones (polled while unlocked) for the
// banner that stays until each is done or snoozed. The app's Rust side shows the desktop
// notification; the page is where the user deals with it.
import * as ipc from "./ipc";
import type { Reminder } from "./ipc";
import { errorMessage } from "./messages";

/** How often the due list is asked for (one indexed query in the core). */
const POLL_MS = 5000;
/** "Snooze" moves a reminder this far. */
export const SNOOZE_MINUTES = 10;

export function createReminders() {
  let all = $state<Reminder[]>([]);
  let due = $state<Reminder[]>([]);
  let loaded = $state(false);
  let error = $state<string | null>(null);
  let timer: ReturnType<typeof setInterval> | null = null;

  async function refreshDue() {
    try {
      due = await ipc.dueReminders();
    } catch {
      // Locked meanwhile, or a passing failure: the next poll tries again.
    }
  }

  async function act(run: () => Promise<unknown>) {
    error = null;
    try {
      await run();
    } catch (e) {
      error = errorMessage(e);
    }
    await Promise.all([refreshDue(), loaded ? load() : Promise.resolve()]);
  }

  async function load() {
    try {
      all = await ipc.listReminders();
      loaded = true;
    } catch (e) {
      error = errorMessage(e);
    }
  }

  return {
    get all() {
      return all;
    },
    get due() {
      return due;
    },
    get loaded() {
      return loaded;
    },
    get error() {
      return error;
    },
    dismissError() {
      error = null;
    },
    load,
    refreshDue,
    /** Polls the due list until `stopPolling` (from the unlock to the lock). */
    startPolling() {
      if (timer) return;
      void refreshDue();
      timer = setInterval(() => void refreshDue(), POLL_MS);
    },
    stopPolling() {
      if (timer) clearInterval(timer);
      timer = null;
    },
    done: (id: number) => act(() => ipc.completeReminder(id)),
    snooze: (id: number, minutes = SNOOZE_MINUTES) => act(() => ipc.snoozeReminder(id, minutes)),
    cancel: (id: number) => act(() => ipc.cancelReminder(id)),
    /** After a voice command made or cancelled one. */
    changed: () => Promise.all([refreshDue(), loaded ? load() : Promise.resolve()]),
    /** Forgets everything (on lock). */
    reset() {
      this.stopPolling();
      all = [];
      due = [];
      loaded = false;
      error = null;
    },
  };
}

export type Reminders = ReturnType<typeof createReminders>;
