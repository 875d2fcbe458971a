//! A 64x6 AVX-512 f32 matmul kernel for tract, registered through tract-linalg's kernel inventory.
//!
//! Why it exists: every AVX-512 f32 kernel tract-linalg ships (16x12, 32x6, 64x3, ...) keeps at
//! most 12 accumulators, because its assembly templates only use zmm0-15. On the embedder's weight
//! products that reaches ~165 GFLOP/s on one core where onnxruntime's MLAS (24 accumulators) gets
//! ~240. This kernel holds a 64x6 tile in 24 zmm registers, so each step issues 24 multiply-adds
//! per 4 vector loads and 6 broadcasts instead of 12 per 4 and 3.
//!
//! It packs its weights exactly like tract's `avx512_mmm_f32_64x3` (64-row panels, 512-byte
//! aligned), so it joins that packing group: with a symbolic sequence length tract's einsum takes
//! the widest kernel of the group with the widest panels, now this one, and keeps the group's
//! 64x1 for matrix-vector products. With a known `n`, tract's own cost model still chooses.
//!
//! A short query's last panel is mostly padding (7 tokens: 6 + 1), so each panel is scanned for
//! trailing all-zero columns first and only the live ones are multiplied: short queries run as
//! fast as on tract's 64x3, where unscanned they were 10% slower.
//!
//! The kernel interprets tract's fused-op list ([`FusedKerSpec`]) like tract's own kernels do:
//! element-wise ops run on the registers, stores and residual adds are vector moves when the tile's
//! rows are contiguous (the usual `[tokens, features]` output), scalar otherwise.

// Tile code indexes rows, columns and vectors together; iterators would hide the layout.
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;

use tract_linalg::isa::{Arch, Isa, IsaReq};
use tract_linalg::mmm::{DynKernel, FusedKerSpec, FusedSpec, OutputStoreKer};
use tract_linalg::mmm_routines::MmmRoutine;
use tract_linalg::pack::Packing;
use tract_onnx::prelude::f16;

/// Rows of the tile (output features: the weights' side), four zmm vectors.
const MR: usize = 64;
/// Columns of the tile (tokens: the activations' side).
const NR: usize = 6;
/// Vectors per tile column.
const V: usize = MR / 16;

/// The kernel's name in tract's dispatch and in plan dumps.
pub const NAME: &str = "sotto_avx512_mmm_f32_64x6";

/// The tile, column by column: `acc[j][h]` holds rows `16h..16h+16` of column `j`.
type Tile = [[__m512; V]; NR];

/// The kernel as tract-linalg describes one: runnable on any CPU with AVX-512F.
pub fn kernel() -> DynKernel<MR, NR, f32> {
    // Same A packing as tract's avx512 64x3 (and its fma 64x1), so the three share packed weights.
    let packing_a = f32::packing(MR).align(512);
    let packing_b = f32::packing(NR).align(4);
    let mut k = DynKernel::<MR, NR, f32>::new(NAME, entry, packing_a, packing_b)
        .with_isa(IsaReq::ANY.needing(&[Isa::X86_64Avx512f]))
        .with_can_fuse(can_fuse)
        .with_boost(boost);
    k.arch = Some(Arch::X86_64);
    k
}

inventory::submit! {
    MmmRoutine { make: || kernel().mmm() }
}

/// `SOTTO_GEMM=tract` leaves the products to tract's own kernels (for A/B benchmarks): the
/// kernel then loses every tie, which drops it from the set einsum chooses from.
fn boost() -> isize {
    match std::env::var("SOTTO_GEMM") {
        Ok(v) if v == "tract" => tract_linalg::isa::NEVER_PREFERRED,
        _ => 0,
    }
}

/// Integer requantization never reaches an f32 kernel; refusing it keeps the interpreter small.
fn can_fuse(spec: &FusedSpec) -> bool {
    !matches!(spec, FusedSpec::QScale(..) | FusedSpec::RoundingShiftRight(..) | FusedSpec::ShiftLeft(..))
}

/// What tract calls: the fused-op list, ending with `Done`. Zero on success.
unsafe fn entry(ops: &[FusedKerSpec<f32>]) -> isize {
    // Safety: tract only calls a kernel its dispatch found runnable, i.e. on an AVX-512F CPU.
    unsafe { run(ops.as_ptr()) }
}

/// Applies `$f(v)` to every accumulator vector, `$f` given the column index too.
macro_rules! each {
    ($acc:ident, |$v:ident, $j:ident, $h:ident| $body:expr) => {
        for $j in 0..NR {
            for $h in 0..V {
                let $v = $acc[$j][$h];
                $acc[$j][$h] = $body;
            }
        }
    };
}

#[target_feature(enable = "avx512f")]
unsafe fn run(mut op: *const FusedKerSpec<f32>) -> isize {
    unsafe {
        let mut acc: Tile = [[_mm512_setzero_ps(); V]; NR];
        loop {
            match *op {
                FusedKerSpec::Done => break,
                FusedKerSpec::Clear => acc = [[_mm512_setzero_ps(); V]; NR],
                FusedKerSpec::LoadTile(col_major, _) => {
                    each!(acc, |_v, j, h| _mm512_loadu_ps(col_major.add(j * MR + h * 16)))
                }
                FusedKerSpec::AddMatMul { k, pa, pb, packing } => {
                    if packing != 0 {
                        return 1;
                    }
                    add_mat_mul(&mut acc, k, pa as *const f32, pb as *const f32);
                }
                // Scalar ops take (s, x) in tract's order: `Sub` is s - x, `SubF` is x - s.
                FusedKerSpec::ScalarAdd(s) => {
                    let s = _mm512_set1_ps(s);
                    each!(acc, |v, _j, _h| _mm512_add_ps(s, v))
                }
                FusedKerSpec::ScalarMul(s) => {
                    let s = _mm512_set1_ps(s);
                    each!(acc, |v, _j, _h| _mm512_mul_ps(s, v))
                }
                FusedKerSpec::ScalarSub(s) => {
                    let s = _mm512_set1_ps(s);
                    each!(acc, |v, _j, _h| _mm512_sub_ps(s, v))
                }
                FusedKerSpec::ScalarSubF(s) => {
                    let s = _mm512_set1_ps(s);
                    each!(acc, |v, _j, _h| _mm512_sub_ps(v, s))
                }
                FusedKerSpec::ScalarMin(s) => {
                    let s = _mm512_set1_ps(s);
                    each!(acc, |v, _j, _h| _mm512_min_ps(s, v))
                }
                FusedKerSpec::ScalarMax(s) => {
                    let s = _mm512_set1_ps(s);
                    each!(acc, |v, _j, _h| _mm512_max_ps(s, v))
                }
                FusedKerSpec::LeakyRelu(s) => {
                    let s = _mm512_set1_ps(s);
                    let zero = _mm512_setzero_ps();
                    each!(acc, |v, _j, _h| {
                        let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, zero);
                        _mm512_mask_blend_ps(positive, _mm512_mul_ps(s, v), v)
                    })
                }
                FusedKerSpec::PerRowAdd(p) => {
                    each!(acc, |v, _j, h| _mm512_add_ps(_mm512_loadu_ps(p.add(h * 16)), v))
                }
                FusedKerSpec::PerRowMul(p) => {
                    each!(acc, |v, _j, h| _mm512_mul_ps(_mm512_loadu_ps(p.add(h * 16)), v))
                }
                FusedKerSpec::PerRowSub(p) => {
                    each!(acc, |v, _j, h| _mm512_sub_ps(_mm512_loadu_ps(p.add(h * 16)), v))
                }
                FusedKerSpec::PerRowSubF(p) => {
                    each!(acc, |v, _j, h| _mm512_sub_ps(v, _mm512_loadu_ps(p.add(h * 16))))
                }
                FusedKerSpec::PerRowMin(p) => {
                    each!(acc, |v, _j, h| _mm512_min_ps(_mm512_loadu_ps(p.add(h * 16)), v))
                }
                FusedKerSpec::PerRowMax(p) => {
                    each!(acc, |v, _j, h| _mm512_max_ps(_mm512_loadu_ps(p.add(h * 16)), v))
                }
                FusedKerSpec::PerColAdd(p) => {
                    each!(acc, |v, j, _h| _mm512_add_ps(_mm512_set1_ps(*p.add(j)), v))
                }
                FusedKerSpec::PerColMul(p) => {
                    each!(acc, |v, j, _h| _mm512_mul_ps(_mm512_set1_ps(*p.add(j)), v))
                }
                FusedKerSpec::PerColSub(p) => {
                    each!(acc, |v, j, _h| _mm512_sub_ps(_mm512_set1_ps(*p.add(j)), v))
                }
                FusedKerSpec::PerColSubF(p) => {
                    each!(acc, |v, j, _h| _mm512_sub_ps(v, _mm512_set1_ps(*p.add(j))))
                }
                FusedKerSpec::PerColMin(p) => {
                    each!(acc, |v, j, _h| _mm512_min_ps(_mm512_set1_ps(*p.add(j)), v))
                }
                FusedKerSpec::PerColMax(p) => {
                    each!(acc, |v, j, _h| _mm512_max_ps(_mm512_set1_ps(*p.add(j)), v))
                }
                FusedKerSpec::AddRowColProducts(rows, cols) => {
                    each!(acc, |v, j, h| _mm512_fmadd_ps(
                        _mm512_loadu_ps(rows.add(h * 16)),
                        _mm512_set1_ps(*cols.add(j)),
                        v
                    ))
                }
                FusedKerSpec::AddUnicast(other) => {
                    if !add_unicast(&mut acc, &other) {
                        return 1;
                    }
                }
                FusedKerSpec::Store(tile) => {
                    if !store(&acc, &tile) {
                        return 1;
                    }
                }
                // Refused by `can_fuse`.
                FusedKerSpec::QScale(..) | FusedKerSpec::RoundingShiftRight(..) | FusedKerSpec::ShiftLeft(..) => {
                    return 1;
                }
            }
            op = op.add(1);
        }
        0
    }
}

/// The hot loop: `acc += A·B` over `k` steps of a 64-row A panel and a 6-column B panel.
///
/// The last panel of a product whose token count is not a multiple of 6 comes zero-padded; a
/// short query (7 tokens: 6 + 1) would spend half its products on padding, where tract's 64x3
/// spends a quarter. So the padding is found first (a pass over the panel's `k x 6` values,
/// ~1% of the products) and only the columns up to the last non-zero one are multiplied.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn add_mat_mul(acc: &mut Tile, k: usize, pa: *const f32, pb: *const f32) {
    unsafe {
        match live_columns(k, pb) {
            0 => {}
            1 => add_mat_mul_cols::<1>(acc, k, pa, pb),
            2 => add_mat_mul_cols::<2>(acc, k, pa, pb),
            3 => add_mat_mul_cols::<3>(acc, k, pa, pb),
            4 => add_mat_mul_cols::<4>(acc, k, pa, pb),
            5 => add_mat_mul_cols::<5>(acc, k, pa, pb),
            _ => add_mat_mul_cols::<NR>(acc, k, pa, pb),
        }
    }
}

/// One more than the last column of the B panel holding a non-zero value (zero if none);
/// `NR` when `k` does not split into whole 48-value blocks (8 steps of 6).
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn live_columns(k: usize, pb: *const f32) -> usize {
    if !k.is_multiple_of(8) {
        return NR;
    }
    unsafe {
        // 48 values = 8 steps of 6 columns = 3 vectors, so value v of a block is column v % 6.
        let mut any = [_mm512_setzero_si512(); 3];
        for block in 0..k / 8 {
            for (v, bits) in any.iter_mut().enumerate() {
                let x = _mm512_loadu_si512(pb.add(block * 48 + v * 16) as *const __m512i);
                *bits = _mm512_or_si512(*bits, x);
            }
        }
        let mut lanes = [0u32; 48];
        for (v, bits) in any.iter().enumerate() {
            _mm512_storeu_si512(lanes.as_mut_ptr().add(v * 16) as *mut __m512i, *bits);
        }
        // Sign bits dropped: -0.0 is zero too.
        (0..NR).rev().find(|&j| (0..8).any(|step| lanes[step * NR + j] & 0x7fff_ffff != 0)).map_or(0, |j| j + 1)
    }
}

/// `acc += A·B` for the first `C` columns of the tile.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn add_mat_mul_cols<const C: usize>(acc: &mut Tile, k: usize, pa: *const f32, pb: *const f32) {
    unsafe {
        // A local copy, so the accumulators live in registers for the whole loop.
        let mut c: [[__m512; V]; C] = std::array::from_fn(|j| acc[j]);
        for i in 0..k {
            let a = pa.add(i * MR);
            let a: [__m512; V] = std::array::from_fn(|h| _mm512_loadu_ps(a.add(h * 16)));
            let b = pb.add(i * NR);
            for j in 0..C {
                let bj = _mm512_set1_ps(*b.add(j));
                for h in 0..V {
                    c[j][h] = _mm512_fmadd_ps(a[h], bj, c[j][h]);
                }
            }
        }
        acc[..C].copy_from_slice(&c);
    }
}

/// The tile in memory, column-major like `acc`, for the scalar paths.
#[target_feature(enable = "avx512f")]
fn spill(acc: &Tile) -> [[f32; MR]; NR] {
    let mut out = [[0f32; MR]; NR];
    for j in 0..NR {
        for h in 0..V {
            // Safety: 16 floats at h*16 stay inside the 64-float column.
            unsafe { _mm512_storeu_ps(out[j].as_mut_ptr().add(h * 16), acc[j][h]) };
        }
    }
    out
}

/// Adds another tile (a residual) of f32 or f16; false for an item type tract never fuses here.
#[target_feature(enable = "avx512f")]
unsafe fn add_unicast(acc: &mut Tile, other: &OutputStoreKer) -> bool {
    unsafe {
        if other.item_size == 4 && other.row_byte_stride == 4 {
            each!(acc, |v, j, h| {
                let col = other.ptr.offset(other.col_byte_stride * j as isize) as *const f32;
                _mm512_add_ps(v, _mm512_loadu_ps(col.add(h * 16)))
            });
            return true;
        }
        if other.item_size != 4 && other.item_size != 2 {
            return false;
        }
        let mut tile = spill(acc);
        for (j, column) in tile.iter_mut().enumerate() {
            for (i, x) in column.iter_mut().enumerate() {
                let at = other.ptr.offset(other.row_byte_stride * i as isize + other.col_byte_stride * j as isize);
                *x += if other.item_size == 4 { *(at as *const f32) } else { (*(at as *const f16)).to_f32() };
            }
        }
        each!(acc, |_v, j, h| _mm512_loadu_ps(tile[j].as_ptr().add(h * 16)));
        true
    }
}

/// Writes the tile out as f32, the only store type the kernel declares.
#[target_feature(enable = "avx512f")]
unsafe fn store(acc: &Tile, tile: &OutputStoreKer) -> bool {
    unsafe {
        if tile.item_size != 4 {
            return false;
        }
        if tile.row_byte_stride == 4 {
            for j in 0..NR {
                let col = tile.ptr.offset(tile.col_byte_stride * j as isize) as *mut f32;
                for h in 0..V {
                    _mm512_storeu_ps(col.add(h * 16), acc[j][h]);
                }
            }
            return true;
        }
        let values = spill(acc);
        for (j, column) in values.iter().enumerate() {
            for (i, x) in column.iter().enumerate() {
                let at = tile.ptr.offset(tile.row_byte_stride * i as isize + tile.col_byte_stride * j as isize);
                *(at as *mut f32) = *x;
            }
        }
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::ops::einsum::EinSum;

    /// Deterministic values in [-1, 1) (the bf16 tests in `text::linear` use them too).
    pub(crate) fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn close(got: f32, want: f32) -> bool {
        (got - want).abs() <= 1e-4 * (1.0 + want.abs())
    }

    fn avx512() -> bool {
        let ok = std::arch::is_x86_feature_detected!("avx512f");
        if !ok {
            eprintln!("skipped: this CPU has no AVX-512F, tract never selects the kernel");
        }
        ok
    }

    /// Every fused op the kernel interprets, against tract's generic semantics done in scalar
    /// code (`Sub` is s - x, `SubF` x - s, and so on), stores in both layouts.
    #[test]
    fn fused_ops_match_a_scalar_reference() {
        if !avx512() {
            return;
        }
        let k = 37;
        let pa = values(k * MR, 1);
        let pb = values(k * NR, 2);
        let rows = values(MR, 3);
        let cols = values(NR, 4);
        let col_major_in = values(MR * NR, 5);
        let row_major_in = values(MR * NR, 6);
        let half_in: Vec<f16> = values(MR * NR, 7).into_iter().map(f16::from_f32).collect();

        // Reference: want[i][j], row i of the 64, column j of the 6.
        let mut want = [[0f32; NR]; MR];
        for (i, row) in want.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = (0..k).map(|kk| pa[kk * MR + i] * pb[kk * NR + j]).sum();
            }
        }
        type Op = fn(f32, f32) -> f32;
        let scalar: [(f32, Op); 6] = [
            (0.5, |s, x| s * x),
            (1.0, |s, x| s + x),
            (2.0, |s, x| s - x),
            (0.25, |s, x| x - s),
            (3.0, |s, x| s.min(x)),
            (-3.0, |s, x| s.max(x)),
        ];
        let vector: [Op; 6] =
            [|s, x| s + x, |s, x| s * x, |s, x| s - x, |s, x| x - s, |s, x| s.min(x), |s, x| s.max(x)];
        for (s, f) in scalar {
            want.iter_mut().flatten().for_each(|x| *x = f(s, *x));
        }
        for f in vector {
            for (i, row) in want.iter_mut().enumerate() {
                row.iter_mut().for_each(|x| *x = f(rows[i], *x));
            }
        }
        for f in vector {
            for row in want.iter_mut() {
                row.iter_mut().enumerate().for_each(|(j, x)| *x = f(cols[j], *x));
            }
        }
        for (i, row) in want.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = if *x > 0.0 { *x } else { 0.1 * *x };
                *x += rows[i] * cols[j];
                *x += col_major_in[j * MR + i] + row_major_in[i * NR + j] + half_in[j * MR + i].to_f32();
            }
        }

        let tile = |ptr: *const u8, row: isize, col: isize, size: usize| OutputStoreKer {
            ptr: ptr as *mut u8,
            row_byte_stride: row,
            col_byte_stride: col,
            item_size: size,
        };
        let mut out_col_major = vec![0f32; MR * NR];
        let mut out_row_major = vec![0f32; MR * NR];
        let (r, c) = (rows.as_ptr(), cols.as_ptr());
        let ops = [
            FusedKerSpec::Clear,
            FusedKerSpec::AddMatMul { k, pa: pa.as_ptr() as _, pb: pb.as_ptr() as _, packing: 0 },
            FusedKerSpec::ScalarMul(0.5),
            FusedKerSpec::ScalarAdd(1.0),
            FusedKerSpec::ScalarSub(2.0),
            FusedKerSpec::ScalarSubF(0.25),
            FusedKerSpec::ScalarMin(3.0),
            FusedKerSpec::ScalarMax(-3.0),
            FusedKerSpec::PerRowAdd(r),
            FusedKerSpec::PerRowMul(r),
            FusedKerSpec::PerRowSub(r),
            FusedKerSpec::PerRowSubF(r),
            FusedKerSpec::PerRowMin(r),
            FusedKerSpec::PerRowMax(r),
            FusedKerSpec::PerColAdd(c),
            FusedKerSpec::PerColMul(c),
            FusedKerSpec::PerColSub(c),
            FusedKerSpec::PerColSubF(c),
            FusedKerSpec::PerColMin(c),
            FusedKerSpec::PerColMax(c),
            FusedKerSpec::LeakyRelu(0.1),
            FusedKerSpec::AddRowColProducts(r, c),
            FusedKerSpec::AddUnicast(tile(col_major_in.as_ptr() as _, 4, 4 * MR as isize, 4)),
            FusedKerSpec::AddUnicast(tile(row_major_in.as_ptr() as _, 4 * NR as isize, 4, 4)),
            FusedKerSpec::AddUnicast(tile(half_in.as_ptr() as _, 2, 2 * MR as isize, 2)),
            FusedKerSpec::Store(tile(out_col_major.as_mut_ptr() as _, 4, 4 * MR as isize, 4)),
            FusedKerSpec::Store(tile(out_row_major.as_mut_ptr() as _, 4 * NR as isize, 4, 4)),
            FusedKerSpec::Done,
        ];
        assert_eq!(unsafe { entry(&ops) }, 0);
        for i in 0..MR {
            for j in 0..NR {
                let w = want[i][j];
                let (a, b) = (out_col_major[j * MR + i], out_row_major[i * NR + j]);
                assert!(close(a, w) && close(b, w), "[{i}][{j}]: {a} / {b}, want {w}");
            }
        }

        // A tile loaded as it was stored comes back unchanged; other packings are refused.
        let mut again = vec![0f32; MR * NR];
        let ops = [
            FusedKerSpec::LoadTile(out_col_major.as_ptr(), std::ptr::null()),
            FusedKerSpec::Store(tile(again.as_mut_ptr() as _, 4, 4 * MR as isize, 4)),
            FusedKerSpec::Done,
        ];
        assert_eq!(unsafe { entry(&ops) }, 0);
        assert_eq!(again, out_col_major);
        let ops =
            [FusedKerSpec::AddMatMul { k, pa: pa.as_ptr() as _, pb: pb.as_ptr() as _, packing: 1 }, FusedKerSpec::Done];
        assert_ne!(unsafe { entry(&ops) }, 0);
    }

    /// Zero-padded trailing columns are skipped, anything else is multiplied: a zero column
    /// before a live one, -0.0, and panels whose `k` is no multiple of 8 (not scanned).
    #[test]
    fn padding_columns_are_skipped_and_nothing_else() {
        if !avx512() {
            return;
        }
        for k in [8, 64, 384, 13] {
            let pa = values(k * MR, 21);
            for live in 0..=NR {
                for gap in [None, Some(0)] {
                    let mut pb = values(k * NR, 22 + live as u64);
                    for i in 0..k {
                        for j in 0..NR {
                            if j >= live {
                                pb[i * NR + j] = if i % 2 == 0 { 0.0 } else { -0.0 };
                            } else if Some(j) == gap && live > 1 {
                                pb[i * NR + j] = 0.0;
                            }
                        }
                    }
                    let scanned = unsafe { live_columns(k, pb.as_ptr()) };
                    assert_eq!(scanned, if k.is_multiple_of(8) { live } else { NR }, "k {k} live {live}");
                    // Start from a loaded tile: skipped columns must keep it, live ones add to it.
                    let start = values(MR * NR, 23);
                    let mut out = vec![0f32; MR * NR];
                    let store = OutputStoreKer {
                        ptr: out.as_mut_ptr() as _,
                        row_byte_stride: 4,
                        col_byte_stride: 4 * MR as isize,
                        item_size: 4,
                    };
                    let ops = [
                        FusedKerSpec::LoadTile(start.as_ptr(), std::ptr::null()),
                        FusedKerSpec::AddMatMul { k, pa: pa.as_ptr() as _, pb: pb.as_ptr() as _, packing: 0 },
                        FusedKerSpec::Store(store),
                        FusedKerSpec::Done,
                    ];
                    assert_eq!(unsafe { entry(&ops) }, 0);
                    for j in 0..NR {
                        for i in 0..MR {
                            let want =
                                start[j * MR + i] + (0..k).map(|kk| pa[kk * MR + i] * pb[kk * NR + j]).sum::<f32>();
                            assert!(close(out[j * MR + i], want), "k {k} live {live} [{i}][{j}]");
                        }
                    }
                }
            }
        }
    }

    /// A linear layer with a symbolic token count, bias and residual, as the embedder's graph has:
    /// tract's einsum picks this kernel, fuses the adds into it, and the products are right for
    /// token counts that fill no tile, one, and many.
    #[test]
    fn tract_runs_linear_layers_on_it() {
        // Dispatch reads tract's view of the CPU, which `TRACT_CPU_ISA` can edit.
        if !avx512() || !tract_linalg::isa::native().has(Isa::X86_64Avx512f) {
            return;
        }
        let (m, k) = (384, 384);
        let mut model = TypedModel::default();
        let n = model.sym("n");
        model.symbols.add_assertion("n >= 1").unwrap();
        let weights = values(m * k, 11);
        let bias = values(m, 12);
        let w = model.add_const("w", tensor1(&weights).into_shape(&[m, k]).unwrap()).unwrap();
        let b = model.add_const("b", tensor1(&bias).into_shape(&[1, m]).unwrap()).unwrap();
        let x = model.add_source("x", f32::fact(&[n.to_dim(), k.to_dim()])).unwrap();
        let r = model.add_source("r", f32::fact(&[n.to_dim(), m.to_dim()])).unwrap();
        let y = model.wire_node("mm", EinSum::new("nk,mk->nm".parse().unwrap(), f32::datum_type()), &[x, w]).unwrap();
        let y = model.wire_node("bias", tract_onnx::tract_core::ops::math::add(), &[y[0], b]).unwrap();
        let y = model.wire_node("residual", tract_onnx::tract_core::ops::math::add(), &[y[0], r]).unwrap();
        model.select_output_outlets(&y).unwrap();
        let model = model.into_optimized().unwrap();
        let info: Vec<String> = model
            .nodes()
            .iter()
            .filter(|n| n.op().name() == "OptMatMul")
            .flat_map(|n| n.op().info().unwrap())
            .collect();
        assert!(info.iter().any(|l| l.contains(NAME)), "{info:?}");
        let plan = model.into_runnable().unwrap();
        for tokens in [1, 5, 6, 13, 96] {
            let input = values(tokens * k, 13 + tokens as u64);
            let residual = values(tokens * m, 14);
            let out = plan
                .run(tvec!(
                    tensor1(&input).into_shape(&[tokens, k]).unwrap().into(),
                    tensor1(&residual).into_shape(&[tokens, m]).unwrap().into()
                ))
                .unwrap();
            let out = out[0].to_plain_array_view::<f32>().unwrap();
            let out = out.as_slice().unwrap();
            for t in 0..tokens {
                for o in 0..m {
                    let dot: f64 = (0..k).map(|i| input[t * k + i] as f64 * weights[o * k + i] as f64).sum();
                    let want = (dot + bias[o] as f64 + residual[t * m + o] as f64) as f32;
                    assert!(close(out[t * m + o], want), "token {t} feature {o}: {} want {want}", out[t * m + o]);
                }
            }
        }
    }
}
