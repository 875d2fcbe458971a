// Where the app is: the vault's lock state and which view (and note) is on screen.
import * as ipc from "./ipc";
import { errorMessage } from "./messages";

export type Phase = "loading" | "failed" | "new" | "locked" | "unlocked";
export type View = "dictate" | "notes" | "search" | "reminders" | "import" | "models" | "settings";

export function createSession() {
  let phase = $state<Phase>("loading");
  let loadError = $state<string | null>(null);
  let keyringEnabled = $state(false);
  let dataDir = $state("");
  let view = $state<View>("notes");
  let noteId = $state<number | null>(null);
  const enterListeners = new Set<() => void>();

  return {
    get phase() {
      return phase;
    },
    get loadError() {
      return loadError;
    },
    get keyringEnabled() {
      return keyringEnabled;
    },
    get dataDir() {
      return dataDir;
    },
    get view() {
      return view;
    },
    /** The note open in the Notes view; null shows the list. */
    get noteId() {
      return noteId;
    },

    /** Asks the core whether the vault exists and is open. Never throws: a failure is a phase. */
    async load() {
      phase = "loading";
      loadError = null;
      try {
        const status = await ipc.vaultStatus();
        keyringEnabled = status.keyring_enabled;
        dataDir = status.data_dir;
        if (status.state === "unlocked") this.enter();
        else phase = status.state;
      } catch (e) {
        loadError = errorMessage(e);
        phase = "failed";
      }
    },

    /** The vault is open (and any recovery key was acknowledged): show the app on Notes. */
    enter() {
      phase = "unlocked";
      view = "notes";
      noteId = null;
      for (const listener of enterListeners) listener();
    },

    /** Called each time the vault opens (at start-up when already open, or after unlocking). */
    onEnter(listener: () => void): () => void {
      enterListeners.add(listener);
      return () => enterListeners.delete(listener);
    },

    /** Locks the vault in the core first, so the screen never claims a lock that did not happen. */
    async lock() {
      await ipc.lock();
      phase = "locked";
      noteId = null;
    },

    go(next: View) {
      view = next;
      // The Notes entry in the nav always means "the list".
      if (next === "notes") noteId = null;
    },

    openNote(id: number) {
      view = "notes";
      noteId = id;
    },

    closeNote() {
      noteId = null;
    },
  };
}

export type Session = ReturnType<typeof createSession>;
