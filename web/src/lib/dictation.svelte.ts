// Live dictation. Kept outside the view so text dictated so far survives switching views,
// and so a session keeps running (and its events keep landing) while another view is shown.
import * as ipc from "./ipc";
import type { SessionEvent, Understood, Undo } from "./ipc";
import { dbToPercent } from "./format";
import { errorMessage, messageFor } from "./messages";

export type DictationState = "idle" | "starting" | "recording" | "stopping";

/** A final that was a voice command: what was understood and done, or why it could not be. */
export type Command = {
  text: string;
  understood: Understood | null;
  error: string | null;
  undone: boolean;
};

export type DictationOptions = {
  /** Whether finals are checked for voice commands (the user's setting). */
  commandsOn?: () => boolean;
  /** A command made, changed or undid a reminder or a note. */
  onCommand?: () => void;
};

/** What undoing a command takes back, if it can be. */
export function undoOf(understood: Understood | null): Undo | null {
  const outcome = understood?.outcome;
  switch (outcome?.done) {
    case "reminder_created":
      return { kind: "reminder", id: outcome.reminder.id };
    case "note_created":
      return { kind: "note", id: outcome.id };
    case "reminder_cancelled":
      return { kind: "cancelled", id: outcome.reminder.id };
    default:
      return null;
  }
}

export function createDictation(options: DictationOptions = {}) {
  let state = $state<DictationState>("idle");
  let finals = $state<string[]>([]);
  let partial = $state("");
  let level = $state(0);
  let peak = $state(0);
  let device = $state<string | null>(null);
  let error = $state<string | null>(null);
  let notice = $state<string | null>(null);
  let savedNoteId = $state<number | null>(null);
  let commands = $state<Command[]>([]);
  // Finals are understood one after another, in the order they were said.
  let understanding: Promise<void> = Promise.resolve();
  // Each start gets a number so events or replies from an older session are ignored.
  let session = 0;

  function resetLevels() {
    level = 0;
    peak = 0;
  }

  function handle(run: number, event: SessionEvent) {
    if (run !== session) return;
    switch (event.type) {
      case "ready":
        device = event.device;
        if (state === "starting") state = "recording";
        break;
      case "level":
        level = dbToPercent(event.rms_db);
        peak = dbToPercent(event.peak_db);
        break;
      case "partial":
        partial = event.text;
        break;
      case "final": {
        const text = event.text.trim();
        partial = "";
        if (!text) break;
        if (options.commandsOn?.()) understanding = understanding.then(() => understand(run, text));
        else finals.push(text);
        break;
      }
      case "device_changed":
        device = event.device;
        notice = `Microphone changed to ${event.device}: ${event.reason}`;
        break;
      case "error":
        error = messageFor(event.code, event.message);
        break;
      case "saved":
        savedNoteId = event.id;
        break;
      case "stopped":
        partial = "";
        resetLevels();
        // Idle once every final is understood: the text is complete when the button says so.
        void understanding.then(() => {
          if (run === session) state = "idle";
        });
        if (event.reason === "input_lost") error = "The microphone stopped sending audio.";
        else if (event.reason === "silence") notice = "Stopped after a long silence.";
        break;
    }
  }

  /** A command is done at once (its undo is offered); plain dictation joins the text. */
  async function understand(run: number, text: string) {
    let understood: Understood | null = null;
    let error: string | null = null;
    try {
      understood = await ipc.runCommand(text);
    } catch (e) {
      error = errorMessage(e);
    }
    if (run !== session) return;
    if (understood && understood.outcome.done === "dictation") {
      finals.push(text);
      return;
    }
    commands.push({ text, understood, error, undone: false });
    if (understood) options.onCommand?.();
  }

  return {
    get state() {
      return state;
    },
    get active() {
      return state !== "idle";
    },
    /** The finished text, one utterance after another. */
    get text() {
      return finals.join(" ");
    },
    get partial() {
      return partial;
    },
    /** Input level (RMS) and peak, 0–100. */
    get level() {
      return level;
    },
    get peak() {
      return peak;
    },
    get device() {
      return device;
    },
    get error() {
      return error;
    },
    get notice() {
      return notice;
    },
    get savedNoteId() {
      return savedNoteId;
    },
    /** Voice commands heard in this dictation, oldest first. */
    get commands() {
      return commands;
    },

    /** Takes back what command `index` did. */
    async undo(index: number) {
      const command = commands[index];
      const undo = undoOf(command?.understood ?? null);
      if (!command || !undo || command.undone) return;
      try {
        await ipc.undoCommand(undo);
        command.undone = true;
        options.onCommand?.();
      } catch (e) {
        command.error = errorMessage(e);
      }
    },

    async start() {
      if (state !== "idle") return;
      const run = ++session;
      state = "starting";
      error = null;
      notice = null;
      savedNoteId = null;
      try {
        await ipc.startDictation((event) => handle(run, event));
        // Whether the command returns at once or after the session, a session still starting
        // when it returns is running.
        if (run === session && state === "starting") state = "recording";
      } catch (e) {
        if (run !== session) return;
        error = errorMessage(e);
        state = "idle";
        resetLevels();
      }
    },

    async stop() {
      if (state !== "recording" && state !== "starting") return;
      const run = session;
      state = "stopping";
      try {
        await ipc.stopDictation();
      } catch (e) {
        if (run !== session) return;
        error = errorMessage(e);
        state = "idle";
        resetLevels();
      }
    },

    async cancel() {
      if (state === "idle") return;
      const run = session;
      state = "stopping";
      try {
        await ipc.cancelDictation();
      } catch (e) {
        if (run !== session) return;
        error = errorMessage(e);
        state = "idle";
        resetLevels();
      }
    },

    /** Saves the text as a dictated note and remembers it for the "open" link. */
    async save(): Promise<number | null> {
      const text = finals.join(" ");
      if (!text) return null;
      try {
        savedNoteId = await ipc.addTextNote("", text, true);
        error = null;
        return savedNoteId;
      } catch (e) {
        error = errorMessage(e);
        return null;
      }
    },

    clear() {
      finals = [];
      commands = [];
      partial = "";
      savedNoteId = null;
      error = null;
      notice = null;
    },

    dismissError() {
      error = null;
    },

    /** Forgets everything (on lock): dictated text must not outlive the unlocked vault. */
    reset() {
      session += 1;
      state = "idle";
      resetLevels();
      device = null;
      this.clear();
    },
  };
}

export type Dictation = ReturnType<typeof createDictation>;
