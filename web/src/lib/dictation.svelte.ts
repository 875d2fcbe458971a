// Live dictation. Kept outside the view so text dictated so far survives switching views,
// and so a session keeps running (and its events keep landing) while another view is shown.
import * as ipc from "./ipc";
import type { SessionEvent } from "./ipc";
import { dbToPercent } from "./format";
import { errorMessage, messageFor } from "./messages";

export type DictationState = "idle" | "starting" | "recording" | "stopping";

export function createDictation() {
  let state = $state<DictationState>("idle");
  let finals = $state<string[]>([]);
  let partial = $state("");
  let level = $state(0);
  let peak = $state(0);
  let device = $state<string | null>(null);
  let error = $state<string | null>(null);
  let notice = $state<string | null>(null);
  let savedNoteId = $state<number | null>(null);
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
        if (text) finals.push(text);
        partial = "";
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
        state = "idle";
        partial = "";
        resetLevels();
        if (event.reason === "input_lost") error = "The microphone stopped sending audio.";
        else if (event.reason === "silence") notice = "Stopped after a long silence.";
        break;
    }
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
