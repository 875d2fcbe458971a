//! Note lists: sorted by creation, last edit or title, filtered by tag, a page at a time.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{NoteSummary, Source, Store, StoreError, normalize_tag};

/// What a note list is ordered by; ties go by id, so pages never overlap or skip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SortBy {
    /// When the note was made.
    #[default]
    Created,
    /// When it was last edited.
    Updated,
    /// Its title, case-insensitively.
    Title,
}

/// Which notes to list, in which order, which page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListOptions {
    /// Sort key.
    pub sort: SortBy,
    /// Largest first (newest, latest edit, Z to A).
    pub descending: bool,
    /// Most notes to return; `None` for all.
    pub limit: Option<usize>,
    /// Notes to skip first.
    pub offset: usize,
    /// Only notes with this tag.
    pub tag: Option<String>,
}

impl Default for ListOptions {
    /// Every note, newest first.
    fn default() -> Self {
        Self { sort: SortBy::Created, descending: true, limit: None, offset: 0, tag: None }
    }
}

impl Store {
    /// Notes as `options` ask, each with its tags.
    pub fn list_notes(&self, options: &ListOptions) -> Result<Vec<NoteSummary>, StoreError> {
        let dir = if options.descending { "DESC" } else { "ASC" };
        let order = match options.sort {
            SortBy::Created => format!("n.created_at {dir}, n.id {dir}"),
            SortBy::Updated => format!("n.updated_at {dir}, n.id {dir}"),
            SortBy::Title => format!("n.title COLLATE NOCASE {dir}, n.id {dir}"),
        };
        // SQLite takes -1 as "no limit"; sizes past i64 are as good as none.
        let limit = options.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let offset = i64::try_from(options.offset).unwrap_or(i64::MAX);
        let tag = options.tag.as_deref().map(normalize_tag).transpose()?;
        // Unit separator: a character `normalize_tag` never lets into a tag.
        let sql = format!(
            "SELECT n.id, n.created_at, n.updated_at, n.title, n.source,
                    (SELECT group_concat(t.tag, char(31)) FROM tags t WHERE t.note_id = n.id),
                    (SELECT r.duration_ms FROM recordings r WHERE r.note_id = n.id)
             FROM notes n
             WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.note_id = n.id AND t.tag = ?1)
             ORDER BY {order} LIMIT ?2 OFFSET ?3"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(params![tag, limit, offset], |r| {
            let mut tags: Vec<String> = r
                .get::<_, Option<String>>(5)?
                .map(|t| t.split('\u{1f}').map(str::to_string).collect())
                .unwrap_or_default();
            tags.sort();
            Ok(NoteSummary {
                id: r.get(0)?,
                created_at: r.get(1)?,
                updated_at: r.get(2)?,
                title: r.get(3)?,
                source: Source::parse(&r.get::<_, String>(4)?),
                tags,
                duration_ms: r.get::<_, Option<i64>>(6)?.map(|d| u64::try_from(d).unwrap_or(0)),
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewNote;
    use crate::store::tests::open_temp;

    #[test]
    fn sorts_pages_and_filters_by_tag() {
        let (_dir, mut store) = open_temp();
        let mut ids = Vec::new();
        for (i, title) in ["banana", "Apple", "cherry", "apple pie", "date"].iter().enumerate() {
            let tags = if i % 2 == 0 { vec!["Fruit".to_string()] } else { vec![] };
            ids.push(
                store
                    .add_note(&NewNote { title: title.to_string(), body: "x".into(), tags, ..NewNote::default() })
                    .unwrap(),
            );
        }
        // All made in the same second: the id breaks the tie, newest first by default.
        let all: Vec<i64> = store.list().unwrap().iter().map(|n| n.id).collect();
        assert_eq!(all, ids.iter().rev().copied().collect::<Vec<_>>());

        let by_title = |descending| {
            let o = ListOptions { sort: SortBy::Title, descending, ..ListOptions::default() };
            store.list_notes(&o).unwrap().into_iter().map(|n| n.title).collect::<Vec<_>>()
        };
        assert_eq!(by_title(false), ["Apple", "apple pie", "banana", "cherry", "date"]);
        assert_eq!(by_title(true), ["date", "cherry", "banana", "apple pie", "Apple"]);

        // Pages of 2 cover every note once, in order, whatever the page size.
        let mut paged = Vec::new();
        for page in 0.. {
            let o = ListOptions { limit: Some(2), offset: page * 2, ..ListOptions::default() };
            let got = store.list_notes(&o).unwrap();
            if got.is_empty() {
                break;
            }
            assert!(got.len() <= 2);
            paged.extend(got.into_iter().map(|n| n.id));
        }
        assert_eq!(paged, all);
        let huge = ListOptions { limit: Some(usize::MAX), offset: usize::MAX, ..ListOptions::default() };
        assert!(store.list_notes(&huge).unwrap().is_empty());
        let none = ListOptions { limit: Some(0), ..ListOptions::default() };
        assert!(store.list_notes(&none).unwrap().is_empty());

        // Tags are matched as normalised ("#FRUIT" is "fruit") and listed with each note.
        let fruit = ListOptions { tag: Some("#FRUIT".into()), descending: false, ..ListOptions::default() };
        let got = store.list_notes(&fruit).unwrap();
        assert_eq!(got.iter().map(|n| n.id).collect::<Vec<_>>(), [ids[0], ids[2], ids[4]]);
        assert!(got.iter().all(|n| n.tags == ["fruit"]));
        let bad = ListOptions { tag: Some(" ".into()), ..ListOptions::default() };
        assert!(matches!(store.list_notes(&bad), Err(StoreError::BadTag(_))));

        // The last edit comes first when sorted by update.
        store.connection().execute("UPDATE notes SET updated_at = updated_at + 100 WHERE id = ?1", [ids[1]]).unwrap();
        let o = ListOptions { sort: SortBy::Updated, ..ListOptions::default() };
        assert_eq!(store.list_notes(&o).unwrap()[0].id, ids[1]);
    }
}
