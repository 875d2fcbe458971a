//! Search by meaning: a vector index behind a trait (brute force today; an ANN index can replace
//! it) and reciprocal-rank fusion of keyword and vector rankings.

use std::collections::HashMap;

/// Nearest-neighbour search over note chunk vectors.
pub trait VectorIndex: Send + Sync {
    /// Replace all vectors of a note.
    fn upsert(&mut self, note_id: i64, vectors: Vec<Vec<f32>>);
    /// Forget a note.
    fn remove(&mut self, note_id: i64);
    /// Notes by best chunk cosine to `query` (unit vector), best first.
    fn search(&self, query: &[f32], limit: usize) -> Vec<(i64, f32)>;
    /// Number of chunks indexed.
    fn len(&self) -> usize;
    /// Whether nothing is indexed.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Exact search: one contiguous matrix scanned with dot products (vectorises well); fine to
/// ~100k chunks on a phone.
#[derive(Debug, Default)]
pub struct FlatIndex {
    dim: usize,
    data: Vec<f32>,
    owners: Vec<i64>,
}

impl FlatIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bulk load (note id, chunk vector) rows, e.g. from the database at start-up. Appends
    /// directly: going through `upsert` would scan all owners per note, quadratic at 100k notes.
    pub fn from_rows(rows: impl IntoIterator<Item = (i64, Vec<f32>)>) -> Self {
        let mut index = Self::new();
        for (note_id, v) in rows {
            if index.dim == 0 {
                index.dim = v.len();
            }
            if v.len() == index.dim {
                index.data.extend_from_slice(&v);
                index.owners.push(note_id);
            }
        }
        index
    }

    /// The notes with vectors in the index, sorted.
    pub fn note_ids(&self) -> Vec<i64> {
        let mut ids = self.owners.clone();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl VectorIndex for FlatIndex {
    fn upsert(&mut self, note_id: i64, vectors: Vec<Vec<f32>>) {
        self.remove(note_id);
        for v in vectors {
            if self.dim == 0 {
                self.dim = v.len();
            }
            if v.len() != self.dim {
                continue;
            }
            self.data.extend_from_slice(&v);
            self.owners.push(note_id);
        }
    }

    fn remove(&mut self, note_id: i64) {
        if !self.owners.contains(&note_id) {
            return;
        }
        let dim = self.dim;
        let mut data = Vec::with_capacity(self.data.len());
        let mut owners = Vec::with_capacity(self.owners.len());
        for (i, &o) in self.owners.iter().enumerate() {
            if o != note_id {
                data.extend_from_slice(&self.data[i * dim..(i + 1) * dim]);
                owners.push(o);
            }
        }
        self.data = data;
        self.owners = owners;
    }

    fn search(&self, query: &[f32], limit: usize) -> Vec<(i64, f32)> {
        if self.dim == 0 || query.len() != self.dim || limit == 0 {
            return Vec::new();
        }
        // A note's chunks sit next to each other (upsert appends them together, from_rows is
        // fed ordered by note), so the best chunk per note is a max over each run of owners: no
        // map per row, which cost 5x the dot products themselves (bench/search).
        let mut runs: Vec<(i64, f32)> = Vec::new();
        for (row, &owner) in self.data.chunks_exact(self.dim).zip(&self.owners) {
            let score = dot(row, query);
            match runs.last_mut() {
                Some((o, best)) if *o == owner => *best = best.max(score),
                _ => runs.push((owner, score)),
            }
        }
        let by_score = |a: &(i64, f32), b: &(i64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        // Only the top few runs need sorting; a note split over several runs (not expected, but
        // possible) can only push a duplicate in, so widen the cut until enough distinct notes.
        let mut take = limit.saturating_mul(2).max(16);
        loop {
            let mut top = runs.clone();
            if take < top.len() {
                top.select_nth_unstable_by(take - 1, by_score);
                top.truncate(take);
            }
            top.sort_by(by_score);
            let mut seen = std::collections::HashSet::new();
            top.retain(|(id, _)| seen.insert(*id));
            if top.len() >= limit || take >= runs.len() {
                top.truncate(limit);
                return top;
            }
            take = take.saturating_mul(2);
        }
    }

    fn len(&self) -> usize {
        self.owners.len()
    }
}

/// Dot product with eight independent sums, so the compiler can keep them in one SIMD register
/// (a single running sum is a dependency chain it may not reorder).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The constant of reciprocal-rank fusion (Cormack et al.): damps the weight of the top ranks.
const RRF_K: f64 = 60.0;

/// Fuse rankings (ids best first) into one: score = Σ 1 / (k + rank).
pub fn reciprocal_rank_fusion(rankings: &[Vec<i64>]) -> Vec<(i64, f64)> {
    let mut scores: HashMap<i64, f64> = HashMap::new();
    for ranking in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            *scores.entry(*id).or_default() += 1.0 / (RRF_K + rank as f64 + 1.0);
        }
    }
    let mut fused: Vec<(i64, f64)> = scores.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_index_ranks_by_best_chunk() {
        let mut idx = FlatIndex::new();
        idx.upsert(1, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        idx.upsert(2, vec![vec![0.6, 0.8]]);
        assert_eq!(idx.search(&[0.0, 1.0], 10), vec![(1, 1.0), (2, 0.8)]);
        idx.upsert(1, vec![vec![-1.0, 0.0]]);
        assert_eq!(idx.search(&[0.0, 1.0], 10)[0].0, 2);
        idx.remove(2);
        assert_eq!(idx.len(), 1);
        let bulk = FlatIndex::from_rows(vec![(1, vec![1.0, 0.0]), (1, vec![0.0, 1.0]), (2, vec![0.6, 0.8])]);
        assert_eq!(bulk.search(&[0.0, 1.0], 10), vec![(1, 1.0), (2, 0.8)]);
    }

    #[test]
    fn flat_index_matches_a_plain_scan() {
        // 300 notes of 1-3 chunks, pseudo-random 13-d vectors (a dimension that leaves a tail).
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut rows = Vec::new();
        for note in 0..300i64 {
            for _ in 0..(note % 3 + 1) {
                rows.push((note, (0..13).map(|_| next()).collect::<Vec<f32>>()));
            }
        }
        // The same note also in a second, separate run must still appear once.
        rows.push((5, (0..13).map(|_| next()).collect()));
        let query: Vec<f32> = (0..13).map(|_| next()).collect();
        let index = FlatIndex::from_rows(rows.clone());
        let mut best: HashMap<i64, f32> = HashMap::new();
        for (id, v) in &rows {
            let s: f32 = v.iter().zip(&query).map(|(a, b)| a * b).sum();
            let e = best.entry(*id).or_insert(f32::MIN);
            *e = e.max(s);
        }
        let mut expected: Vec<(i64, f32)> = best.into_iter().collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for limit in [1, 10, 40, 300, 500] {
            let got = index.search(&query, limit);
            assert_eq!(got.len(), limit.min(300));
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g.0, e.0, "limit {limit}");
                assert!((g.1 - e.1).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn fusion_rewards_agreement() {
        let fused = reciprocal_rank_fusion(&[vec![1, 2, 3], vec![2, 4, 5]]);
        assert_eq!(fused[0].0, 2, "found by both beats first in one: {fused:?}");
        assert_eq!(fused.len(), 5);
    }
}
