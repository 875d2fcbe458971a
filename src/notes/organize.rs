//! Editing and organising notes: text edits (the keyword index and the vectors follow), tags,
//! sorted and paged lists.

use super::{Library, NotesError};
use crate::store::vector::VectorIndex;
use crate::store::{ListOptions, Note, NoteEdit, NoteSummary};

impl Library {
    /// Change a note's title and/or body. Keyword search sees the new text at once; search by
    /// meaning drops the old text's vectors at once and finds the new text once it is embedded
    /// (a search by meaning waits for that).
    pub fn edit(&self, id: i64, edit: &NoteEdit) -> Result<Note, NotesError> {
        let note = {
            let mut store = self.store();
            let note = store.edit_note(id, edit)?;
            // Under the store lock, as in `delete`: no search sees the old text's vectors again.
            self.index_mut().remove(id);
            note
        };
        self.enqueue(id);
        Ok(note)
    }

    /// Add tags to note `id` and remove others (see [`crate::store::normalize_tag`]); returns its
    /// tags now.
    pub fn retag(&self, id: i64, add: &[String], remove: &[String]) -> Result<Vec<String>, NotesError> {
        Ok(self.store().retag(id, add, remove)?)
    }

    /// Every tag in use with its number of notes, sorted by tag.
    pub fn tags(&self) -> Result<Vec<(String, u64)>, NotesError> {
        Ok(self.store().all_tags()?)
    }

    /// Notes sorted, filtered by tag and paged as `options` ask.
    pub fn list_notes(&self, options: &ListOptions) -> Result<Vec<NoteSummary>, NotesError> {
        Ok(self.store().list_notes(options)?)
    }
}
