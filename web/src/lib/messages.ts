// The one place an error code becomes words a person can act on. Codes come from the core
// (src-tauri/src/error.rs); the core's own message is kept where it carries the useful detail
// (which file, which setting), and shown as is for codes this table does not know.
import { IpcError } from "./ipc";

type Text = string | ((detail: string) => string);

/** "Lead." or, with the core's detail, "Lead: detail". */
const withDetail = (lead: string) => (detail: string) =>
  detail ? `${lead.replace(/\.$/, "")}: ${detail}` : lead;

const MESSAGES: Record<string, Text> = {
  locked: "The vault is locked. Unlock it to continue.",
  wrong_passphrase: "That passphrase is not right. Check it and try again.",
  vault_missing: "No vault was found in the data folder.",
  vault_corrupt:
    "The vault could not be read: it looks damaged. Restore the data folder from a backup.",
  not_found: "That item no longer exists. It may have been deleted.",
  bad_audio: withDetail("This file could not be read as audio."),
  no_model: "No speech model is installed. Download one under Models.",
  busy: "Sotto is busy with another task. Try again in a moment.",
  no_microphone: "No microphone was found. Connect one, or choose another under Settings.",
  cancelled: "Cancelled.",
  io: withDetail("A file could not be read or written."),
  model: withDetail("The speech model failed."),
  bad_setting: withDetail("That setting value is not valid."),
  keyring: withDetail("The system keyring could not be used."),
  internal: withDetail("Something went wrong inside Sotto."),
};

/** Readable text for an error `code` with the core's `detail` message. */
export function messageFor(code: string, detail: string): string {
  const text = MESSAGES[code];
  if (text === undefined) return detail || code;
  return typeof text === "function" ? text(detail) : text;
}

/** Readable text for anything a promise rejected with. */
export function errorMessage(error: unknown): string {
  if (error instanceof IpcError) return messageFor(error.code, error.message);
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The error's code when it is one of the core's, so callers can react to specific cases. */
export function errorCode(error: unknown): string | null {
  return error instanceof IpcError ? error.code : null;
}
