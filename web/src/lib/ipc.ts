// The one place the page talks to the Rust side: every command of src-tauri/src/commands/ as a
// typed function. Views never call `invoke` themselves. A failed command rejects with an
// `IpcError` carrying the app's stable error `code` (src-tauri/src/error.rs).
import { Channel, invoke } from "@tauri-apps/api/core";

import type { AppError } from "./bindings/AppError";
import type { AppInfo } from "./bindings/AppInfo";
import type { NoteFormat } from "./bindings/NoteFormat";
import type { Hit } from "./bindings/Hit";
import type { JobEvent } from "./bindings/JobEvent";
import type { ListOptions } from "./bindings/ListOptions";
import type { Microphone } from "./bindings/Microphone";
import type { ModelRow } from "./bindings/ModelRow";
import type { Note } from "./bindings/Note";
import type { Reminder } from "./bindings/Reminder";
import type { Understood } from "./bindings/Understood";
import type { Undo } from "./bindings/Undo";
import type { NoteDetail } from "./bindings/NoteDetail";
import type { NoteSummary } from "./bindings/NoteSummary";
import type { SessionEvent } from "./bindings/SessionEvent";
import type { Settings } from "./bindings/Settings";
import type { ShortcutStatus } from "./bindings/ShortcutStatus";
import type { TagCount } from "./bindings/TagCount";
import type { Unlocked } from "./bindings/Unlocked";
import type { VaultStatus } from "./bindings/VaultStatus";

export type * from "./bindings/AppError";
export type * from "./bindings/AppInfo";
export type * from "./bindings/CleanupRules";
export type * from "./bindings/Intent";
export type * from "./bindings/Outcome";
export type * from "./bindings/Parsed";
export type * from "./bindings/Reminder";
export type * from "./bindings/ReminderState";
export type * from "./bindings/Replacement";
export type * from "./bindings/Slots";
export type * from "./bindings/Understood";
export type * from "./bindings/Undo";
export type * from "./bindings/NoteFormat";
export type * from "./bindings/Hit";
export type * from "./bindings/AnywhereEvent";
export type * from "./bindings/Binding";
export type * from "./bindings/Insertion";
export type * from "./bindings/Method";
export type * from "./bindings/ShortcutStatus";
export type * from "./bindings/JobEvent";
export type * from "./bindings/JobKind";
export type * from "./bindings/ListOptions";
export type * from "./bindings/Microphone";
export type * from "./bindings/ModelKind";
export type * from "./bindings/ModelRow";
export type * from "./bindings/Note";
export type * from "./bindings/NoteDetail";
export type * from "./bindings/NoteSummary";
export type * from "./bindings/Segment";
export type * from "./bindings/SessionEvent";
export type * from "./bindings/Settings";
export type * from "./bindings/SortBy";
export type * from "./bindings/Source";
export type * from "./bindings/StopReason";
export type * from "./bindings/TagCount";
export type * from "./bindings/Theme";
export type * from "./bindings/Unlocked";
export type * from "./bindings/VaultState";
export type * from "./bindings/VaultStatus";

/** A command that failed: `code` is stable (see `messages.ts`), `message` is the core's words. */
export class IpcError extends Error {
  readonly code: string;
  constructor(error: AppError) {
    super(error.message);
    this.name = "IpcError";
    this.code = error.code;
  }
}

function isAppError(e: unknown): e is AppError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw new IpcError(isAppError(e) ? e : { code: "internal", message: String(e) });
  }
}

// Vault: the lock screen.
export const vaultStatus = () => call<VaultStatus>("vault_status");
/** Unlocks; on a new data dir creates the vault and returns its recovery key (shown once). */
export const unlock = (passphrase: string) => call<Unlocked>("unlock", { passphrase });
export const unlockWithKeyring = () => call<Unlocked>("unlock_with_keyring");
export const lock = () => call<void>("lock");
export const changePassphrase = (old: string, next: string) =>
  call<void>("change_passphrase", { old, new: next });

// Notes.
export const listNotes = (options: ListOptions) => call<NoteSummary[]>("list_notes", { options });
export const getNote = (id: number) => call<NoteDetail>("get_note", { id });
export const editNote = (id: number, title: string | null, body: string | null) =>
  call<Note>("edit_note", { id, title, body });
export const tagNote = (id: number, add: string[], remove: string[]) =>
  call<string[]>("tag_note", { id, add, remove });
export const listTags = () => call<TagCount[]>("list_tags");
export const deleteNote = (id: number) => call<void>("delete_note", { id });
/** Saves dictated or typed text as a note; returns its id. */
export const addTextNote = (title: string, body: string, dictated: boolean) =>
  call<number>("add_text_note", { title, body, dictated });
/** Exports the note in `format` where the user picks in the save dialog (opened by the app,
 * `defaultName` offered); the path written, or null when the dialog was dismissed. */
export const exportNote = (id: number, format: NoteFormat, defaultName: string) =>
  call<string | null>("export_note", { id, format, defaultName });
/** The note's audio from `startMs` to `endMs` as WAV bytes (decrypted by the core). */
export const noteAudio = (id: number, startMs: number, endMs: number) =>
  call<ArrayBuffer>("note_audio", { id, startMs, endMs });

// Search: keywords and meaning together, best first.
export const searchNotes = (query: string, limit: number) => call<Hit[]>("search_notes", { query, limit });

// Jobs (imports, downloads): every job's events arrive on the channel given to `watchJobs`,
// including imports started by `sotto-app FILE…` or "Open with".
export function watchJobs(onEvent: (event: JobEvent) => void): Promise<void> {
  const channel = new Channel<JobEvent>();
  channel.onmessage = onEvent;
  return call<void>("watch_jobs", { onEvent: channel });
}
/** Queues files for import as notes; returns one job id per file. */
export const importFiles = (paths: string[]) => call<number[]>("import_files", { paths });
export const cancelJob = (id: number) => call<void>("cancel_job", { id });

// Live dictation.
export function startDictation(onEvent: (event: SessionEvent) => void): Promise<void> {
  const channel = new Channel<SessionEvent>();
  channel.onmessage = onEvent;
  return call<void>("start_dictation", { onEvent: channel });
}
/** Pending speech becomes a final, then a `stopped` event. */
export const stopDictation = () => call<void>("stop_dictation");
/** Discards pending speech, then a `stopped` event. */
export const cancelDictation = () => call<void>("cancel_dictation");

// Models.
export const listModels = () => call<ModelRow[]>("list_models");
/** Starts a download job (events on the jobs channel); returns its id. */
export const downloadModel = (id: string) => call<number>("download_model", { id });
export const removeModel = (id: string) => call<void>("remove_model", { id });
/** Checks the installed file's SHA-256: true when it matches the manifest. */
export const verifyModel = (id: string) => call<boolean>("verify_model", { id });

// Settings and facts about this install.
export const getSettings = () => call<Settings>("get_settings");
export const setSetting = (key: keyof Settings, value: unknown) =>
  call<Settings>("set_setting", { key, value });
export const appInfo = () => call<AppInfo>("app_info");
export const listMicrophones = () => call<Microphone[]>("list_microphones");
/** Replaces the clean-up replacements with CSV/TSV lines `from,to`; returns all settings. */
export const setReplacements = (text: string) => call<Settings>("set_replacements", { text });
/** Forgets every dictation kept in the history; returns how many went. */
export const clearDictationHistory = () => call<number>("clear_dictation_history");
/** How the shortcuts of dictation into other apps fared; null while locked. */
export const shortcutStatus = () => call<ShortcutStatus | null>("shortcut_status");

// Voice commands: a dictated final understood and, when a command, carried out; undo takes it back.
export const runCommand = (text: string) => call<Understood>("run_command", { text });
export const undoCommand = (undo: Undo) => call<void>("undo_command", { undo });

// Reminders.
export const listReminders = () => call<Reminder[]>("list_reminders");
/** Pending reminders whose time has come. */
export const dueReminders = () => call<Reminder[]>("due_reminders");
export const completeReminder = (id: number) => call<Reminder>("complete_reminder", { id });
export const snoozeReminder = (id: number, minutes: number) =>
  call<Reminder>("snooze_reminder", { id, minutes });
export const cancelReminder = (id: number) => call<Reminder>("cancel_reminder", { id });
