// The notes list: its sort and tag filter outlive a visit to a note's detail, and an import
// that finishes can refresh it without the view having to be on screen.
import * as ipc from "./ipc";
import type { NoteSummary, SortBy, TagCount } from "./ipc";
import { errorMessage } from "./messages";

export const PAGE_SIZE = 50;

export function createNotesList() {
  let items = $state<NoteSummary[]>([]);
  let tags = $state<TagCount[]>([]);
  let sort = $state<SortBy>("created");
  let descending = $state(true);
  let tag = $state<string | null>(null);
  let loading = $state(false);
  let loaded = $state(false);
  let hasMore = $state(false);
  let error = $state<string | null>(null);
  // Replies to an older request (the user changed the sort meanwhile) are dropped.
  let request = 0;

  async function fetchPage(offset: number, limit: number) {
    const ticket = ++request;
    loading = true;
    try {
      const page = await ipc.listNotes({ sort, descending, limit, offset, tag });
      if (ticket !== request) return;
      items = offset === 0 ? page : [...items, ...page];
      hasMore = page.length === limit;
      loaded = true;
      error = null;
    } catch (e) {
      if (ticket === request) error = errorMessage(e);
    } finally {
      if (ticket === request) loading = false;
    }
  }

  async function fetchTags() {
    try {
      tags = await ipc.listTags();
    } catch {
      // The filter just offers fewer tags; the list itself reports errors.
    }
  }

  return {
    get items() {
      return items;
    },
    get tags() {
      return tags;
    },
    get sort() {
      return sort;
    },
    get descending() {
      return descending;
    },
    get tag() {
      return tag;
    },
    get loading() {
      return loading;
    },
    get loaded() {
      return loaded;
    },
    get hasMore() {
      return hasMore;
    },
    get error() {
      return error;
    },

    load() {
      return Promise.all([fetchPage(0, PAGE_SIZE), fetchTags()]).then(() => undefined);
    },

    /** Reloads what is shown (all pages loaded so far), e.g. after an import added a note. */
    refresh() {
      if (!loaded) return Promise.resolve();
      return Promise.all([fetchPage(0, Math.max(PAGE_SIZE, items.length)), fetchTags()]).then(
        () => undefined,
      );
    },

    more() {
      if (loading || !hasMore) return Promise.resolve();
      return fetchPage(items.length, PAGE_SIZE);
    },

    setOrder(nextSort: SortBy, nextDescending: boolean) {
      sort = nextSort;
      descending = nextDescending;
      return fetchPage(0, PAGE_SIZE);
    },

    setTag(next: string | null) {
      tag = next;
      return fetchPage(0, PAGE_SIZE);
    },

    /** Keeps the list in step with an edit made in the detail view without a reload. */
    updated(id: number, changes: Partial<Pick<NoteSummary, "title" | "tags" | "updated_at">>) {
      const item = items.find((n) => n.id === id);
      if (item) Object.assign(item, changes);
    },

    removed(id: number) {
      items = items.filter((n) => n.id !== id);
      void fetchTags();
    },

    reset() {
      request += 1;
      items = [];
      tags = [];
      tag = null;
      loaded = false;
      hasMore = false;
      loading = false;
      error = null;
    },
  };
}

export type NotesList = ReturnType<typeof createNotesList>;
