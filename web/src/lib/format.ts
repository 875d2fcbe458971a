// Display formatting shared by the views. Timestamps from the core are Unix seconds;
// durations are milliseconds.

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(unixSeconds: number): string {
  return dateFormat.format(new Date(unixSeconds * 1000));
}

/** `m:ss`, or `h:mm:ss` from an hour up: the way players show positions. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${String(m).padStart(2, "0")}:${ss}`;
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Decimal units, as download sizes are usually quoted. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Rough time left, coarse on purpose: a download's rate jitters. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s left`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min left`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return `${h} h ${m} min left`;
}

/** Maps −60…0 dBFS onto 0…100 %, the range where speech shows up on a meter. */
export function dbToPercent(db: number): number {
  if (!Number.isFinite(db)) return 0;
  return Math.min(100, Math.max(0, ((db + 60) / 60) * 100));
}

export interface TextPart {
  text: string;
  match: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Splits `text` into runs that do and do not match one of the query's words, so a view can wrap
 * matches in <mark> without ever treating user text as HTML.
 */
export function highlightParts(text: string, query: string): TextPart[] {
  const words = query
    .split(/\s+/)
    .map((w) => w.replace(/^["'(]+|["')]+$/g, ""))
    .filter((w) => w.length > 0)
    .sort((a, b) => b.length - a.length);
  if (words.length === 0 || text.length === 0) return text ? [{ text, match: false }] : [];
  // At the start of a word only, as the keyword index matches (prefixes, never inside a word:
  // "the" marks "then" but not "other").
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${words.map(escapeRegExp).join("|")})`, "giu");
  const parts: TextPart[] = [];
  let last = 0;
  for (const found of text.matchAll(pattern)) {
    const start = found.index ?? 0;
    if (found[0].length === 0) continue;
    if (start > last) parts.push({ text: text.slice(last, start), match: false });
    parts.push({ text: found[0], match: true });
    last = start + found[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), match: false });
  return parts;
}

/** When a reminder is due, as people say it: "today 17:00", "tomorrow 09:00", "Fri 11 Dec 15:30". */
export function formatDue(unixSeconds: number, now: Date = new Date()): string {
  const due = new Date(unixSeconds * 1000);
  const time = due.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false });
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(due) - day(now)) / 86_400_000);
  if (days === 0) return `today ${time}`;
  if (days === 1) return `tomorrow ${time}`;
  if (days === -1) return `yesterday ${time}`;
  const date = due.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  return `${date} ${time}`;
}
