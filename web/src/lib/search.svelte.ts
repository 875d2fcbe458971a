// Search as you type: calls wait for a pause in typing, and only the latest reply is shown.
import * as ipc from "./ipc";
import type { Hit } from "./ipc";
import { errorMessage } from "./messages";

export const SEARCH_DELAY_MS = 200;
export const SEARCH_LIMIT = 20;

export function createSearch(delayMs = SEARCH_DELAY_MS) {
  let query = $state("");
  let hits = $state<Hit[]>([]);
  let selected = $state(-1);
  let searching = $state(false);
  let searched = $state(false);
  let error = $state<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let request = 0;

  async function run(text: string) {
    const ticket = ++request;
    searching = true;
    try {
      const found = await ipc.searchNotes(text, SEARCH_LIMIT);
      if (ticket !== request) return;
      hits = found;
      selected = -1;
      searched = true;
      error = null;
    } catch (e) {
      if (ticket === request) error = errorMessage(e);
    } finally {
      if (ticket === request) searching = false;
    }
  }

  return {
    get query() {
      return query;
    },
    get hits() {
      return hits;
    },
    /** Index of the highlighted hit, −1 for none. */
    get selected() {
      return selected;
    },
    get searching() {
      return searching;
    },
    /** True once a reply for the current query arrived (to tell "no results" from "not yet"). */
    get searched() {
      return searched;
    },
    get error() {
      return error;
    },

    setQuery(next: string) {
      query = next;
      clearTimeout(timer);
      // A stale reply must not land after the box changed.
      request += 1;
      searched = false;
      if (next.trim() === "") {
        hits = [];
        selected = -1;
        searching = false;
        error = null;
        return;
      }
      timer = setTimeout(() => void run(next.trim()), delayMs);
    },

    move(delta: number) {
      if (hits.length === 0) return;
      if (selected < 0) selected = delta > 0 ? 0 : hits.length - 1;
      else selected = Math.min(hits.length - 1, Math.max(0, selected + delta));
    },

    select(index: number) {
      selected = index;
    },

    /** The hit Enter would open: the highlighted one, else the best. */
    get current(): Hit | undefined {
      return hits[selected >= 0 ? selected : 0];
    },

    reset() {
      clearTimeout(timer);
      request += 1;
      query = "";
      hits = [];
      selected = -1;
      searching = false;
      searched = false;
      error = null;
    },
  };
}

export type Search = ReturnType<typeof createSearch>;
