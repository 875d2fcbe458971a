// Small, realistic values of the core's types for tests.
import type { Hit, ModelRow, NoteDetail, NoteSummary, Settings } from "../lib/ipc";

export function summary(id: number, over: Partial<NoteSummary> = {}): NoteSummary {
  return {
    id,
    created_at: 1_700_000_000 + id * 60,
    updated_at: 1_700_000_000 + id * 60,
    title: `Note ${id}`,
    source: "audio",
    tags: [],
    duration_ms: 65_000,
    ...over,
  };
}

export function detail(id: number, withRecording = true): NoteDetail {
  return {
    note: {
      id,
      created_at: 1_700_000_000,
      updated_at: 1_700_000_000,
      title: "Standup",
      body: "We shipped it. Next is search.",
      source: "audio",
      segments: [
        { start_ms: 0, end_ms: 4_000, text: "We shipped it." },
        { start_ms: 65_500, end_ms: 70_000, text: "Next is search." },
      ],
      tags: ["work"],
    },
    recording: withRecording
      ? { path: "/data/rec/1.wav.enc", duration_ms: 70_000, sample_rate: 16_000 }
      : null,
  };
}

export function hit(id: number, over: Partial<Hit> = {}): Hit {
  return { id, title: `Hit ${id}`, score: 1 / id, snippet: `snippet about search ${id}`, ...over };
}

export function model(id: string, over: Partial<ModelRow> = {}): ModelRow {
  const [modelId, variant = "f16"] = id.split("/");
  return {
    id,
    model: modelId,
    variant,
    kind: "whisper",
    description: `Model ${id}`,
    size_bytes: 142_000_000,
    installed: false,
    active: false,
    recommended: false,
    reason: null,
    downloadable: true,
    ...over,
  };
}

export const SETTINGS: Settings = {
  model: null,
  language: null,
  shortcut: "CmdOrCtrl+Shift+Space",
  toggle_shortcut: "CmdOrCtrl+Alt+Space",
  paste_last_shortcut: "CmdOrCtrl+Alt+V",
  insertion: "auto",
  paste_keys: "ctrl+v",
  theme: "system",
  microphone: null,
  keep_microphone_open: false,
  pre_roll_ms: 300,
  idle_release_secs: 300,
  voice_commands: true,
  keep_running: true,
  start_at_login: false,
  overlay: true,
  sounds: true,
  history_days: 30,
  cleanup: {
    fillers: true,
    spoken_punctuation: true,
    corrections: true,
    capitalize: true,
    replacements: [],
    vocabulary: [],
  },
};
