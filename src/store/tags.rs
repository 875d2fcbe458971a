//! Tags on notes: added, removed, listed with their counts. Tags are case-insensitive ("Work",
//! "work" and "#work" are one tag), kept lowercase.

use rusqlite::{TransactionBehavior, params};

use super::{Store, StoreError};

/// Longest tag, in characters.
const MAX_TAG_CHARS: usize = 64;

/// The stored form of a tag: trimmed, without a leading `#`, lowercase; [`StoreError::BadTag`]
/// when that is empty, longer than 64 characters or holds control characters.
pub fn normalize_tag(tag: &str) -> Result<String, StoreError> {
    let t = tag.trim();
    let t = t.strip_prefix('#').unwrap_or(t).trim().to_lowercase();
    if t.is_empty() || t.chars().count() > MAX_TAG_CHARS || t.chars().any(char::is_control) {
        return Err(StoreError::BadTag(tag.to_string()));
    }
    Ok(t)
}

impl Store {
    /// Add `add` to note `id` and take `remove` off it, in one transaction; returns its tags now.
    /// Adding a tag it has, or removing one it lacks, is no error.
    pub fn retag(&mut self, id: i64, add: &[String], remove: &[String]) -> Result<Vec<String>, StoreError> {
        // Every tag is checked before anything is written: a bad one changes nothing.
        let add = add.iter().map(|t| normalize_tag(t)).collect::<Result<Vec<_>, _>>()?;
        let remove = remove.iter().map(|t| normalize_tag(t)).collect::<Result<Vec<_>, _>>()?;
        let path = self.path.clone();
        let err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let exists: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM notes WHERE id = ?1)", [id], |r| r.get(0)).map_err(err)?;
        if !exists {
            return Err(StoreError::NoSuchNote(id));
        }
        for t in &remove {
            tx.execute("DELETE FROM tags WHERE note_id = ?1 AND tag = ?2", params![id, t]).map_err(err)?;
        }
        for t in &add {
            tx.execute("INSERT OR IGNORE INTO tags (note_id, tag) VALUES (?1, ?2)", params![id, t]).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.note_tags(id)
    }

    /// The tags of note `id`, sorted.
    pub fn note_tags(&self, id: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT tag FROM tags WHERE note_id = ?1 ORDER BY tag").map_err(|e| self.err(e))?;
        stmt.query_map([id], |r| r.get(0)).and_then(Iterator::collect).map_err(|e| self.err(e))
    }

    /// Every tag in use with its number of notes, sorted by tag.
    pub fn all_tags(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY tag").map_err(|e| self.err(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewNote;
    use crate::store::tests::open_temp;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn tags_are_added_removed_and_counted() {
        let (_dir, mut store) = open_temp();
        let a = store.add_note(&NewNote { body: "a".into(), tags: strings(&["Work"]), ..NewNote::default() }).unwrap();
        let b = store.add_note(&NewNote { body: "b".into(), ..NewNote::default() }).unwrap();
        assert_eq!(store.note_tags(a).unwrap(), ["work"], "saved normalised");
        assert_eq!(store.retag(b, &strings(&["#work", "Ideas", "ideas"]), &[]).unwrap(), ["ideas", "work"]);
        assert_eq!(store.all_tags().unwrap(), [("ideas".to_string(), 1), ("work".to_string(), 2)]);
        assert_eq!(store.retag(a, &strings(&["home"]), &strings(&["WORK", "never-there"])).unwrap(), ["home"]);
        assert_eq!(store.note(a).unwrap().tags, ["home"]);

        // A bad tag anywhere in the request changes nothing.
        for bad in ["", "  #  ", "line\nbreak", &"x".repeat(65)] {
            let r = store.retag(b, &strings(&["fine", bad]), &strings(&["work"]));
            assert!(matches!(r, Err(StoreError::BadTag(_))), "{bad:?}: {r:?}");
        }
        assert_eq!(store.note_tags(b).unwrap(), ["ideas", "work"]);
        assert_eq!(normalize_tag(&"é".repeat(64)).unwrap().chars().count(), 64, "characters, not bytes");
        assert!(matches!(store.retag(999, &strings(&["x"]), &[]), Err(StoreError::NoSuchNote(999))));

        // Deleting a note takes its tags along.
        store.delete(b).unwrap();
        assert_eq!(store.all_tags().unwrap(), [("home".to_string(), 1)]);
    }
}
