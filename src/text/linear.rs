//! The embedder's weight products in bf16 on CPUs with AVX512-BF16: one tract op per product.
//!
//! Why: in f32 a weight product is bound by the multiply-add rate (~205 GFLOP/s on one Zen 5 core,
//! which Sotto's f32 kernel reaches with cached weights) and streams the model's 42 MB of weights
//! per call. `vdpbf16ps` multiplies pairs of bf16 values into f32 sums at twice that rate (~410
//! GFLOP/s measured), and bf16 weights (21 MB) fit in the L3 cache.
//!
//! Accuracy: weights and activations are rounded to bf16 (to nearest, ties to even) and summed in
//! f32; everything else (attention products, softmax, layer norms) stays f32. MiniLM's vectors
//! then stay within cosine 0.99997 of an f64 forward pass (simulated over the reference
//! sentences; tests/embed.rs holds them to 0.9999) and of onnxruntime's (bench/embed's corpus).
//!
//! tract's einsum packs an operand only in its own type, so no registered kernel can get bf16
//! operands: [`rewrite`] replaces every f32 product of an activation by a constant weight matrix
//! with a [`Linear`] op that packs the weights once, and folds what follows it when it can: the
//! bias add, an exact GELU, and a residual add.

// Tile code indexes rows, columns and vectors together; iterators would hide the layout.
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;
use std::cell::RefCell;
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::math::Add;
use tract_onnx::tract_core::ops::nn::GeluExact;

/// Output features per weight panel: four zmm vectors of f32 sums.
const MR: usize = 64;
/// Tokens per tile: 6 x 4 accumulators, 4 weight vectors and a broadcast fill 29 of 32 registers.
const NR: usize = 6;
/// Vectors per tile column.
const V: usize = MR / 16;

/// Whether this CPU runs the bf16 kernel (AVX-512F with the BF16 extension).
pub fn supported() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bf16")
}

/// Round to the nearest bf16, ties to even (what `vcvtneps2bf16` does); NaN stays NaN.
pub fn bf16_bits(x: f32) -> u16 {
    let bits = x.to_bits();
    if x.is_nan() {
        return ((bits >> 16) | 0x40) as u16;
    }
    ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16
}

/// The f32 value of a bf16.
pub fn bf16_value(bits: u16) -> f32 {
    f32::from_bits((bits as u32) << 16)
}

/// 16 u32 lanes, aligned for vector loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(64))]
struct Lanes([u32; 16]);

/// A `[k, n]` weight matrix in bf16, in panels of [`MR`] output features: for each pair of
/// inputs `(2q, 2q+1)`, one u32 per feature holding both weights (low half: `2q`), the pairing
/// `vdpbf16ps` multiplies against a broadcast pair of activations.
#[derive(Debug, PartialEq, Eq)]
pub struct PackedWeights {
    k: usize,
    n: usize,
    lanes: Vec<Lanes>,
}

impl PackedWeights {
    /// Pack a row-major `[k, n]` matrix; `k` even, `n` a multiple of 64.
    pub fn new(w: &[f32], k: usize, n: usize) -> TractResult<Self> {
        ensure!(
            k.is_multiple_of(2) && n.is_multiple_of(MR) && w.len() == k * n,
            "bf16 weights must be [even, 64 n], got {k}x{n}"
        );
        let kq = k / 2;
        let mut lanes = vec![Lanes([0; 16]); n / MR * kq * V];
        for p in 0..n / MR {
            for q in 0..kq {
                for r in 0..MR {
                    let col = p * MR + r;
                    let lo = bf16_bits(w[2 * q * n + col]) as u32;
                    let hi = bf16_bits(w[(2 * q + 1) * n + col]) as u32;
                    lanes[(p * kq + q) * V + r / 16].0[r % 16] = lo | hi << 16;
                }
            }
        }
        Ok(Self { k, n, lanes })
    }

    fn panel(&self, p: usize) -> *const __m512i {
        self.lanes[p * self.k / 2 * V..].as_ptr() as *const __m512i
    }
}

/// `y = x W (+ bias) (then GELU) (+ residual)` over the last axes of `x`, weights in bf16.
#[derive(Clone, Debug)]
pub struct Linear {
    /// The weights; shared by clones of the op (tract clones ops while optimising).
    weights: Arc<PackedWeights>,
    /// How many trailing axes of the input the product sums over (their volume is `k`).
    contracted_rank: usize,
    /// Per output feature, added to every row.
    bias: Option<Arc<Vec<f32>>>,
    /// Exact GELU (erf form, as tract's `GeluExact`) after the bias.
    gelu: bool,
    /// A second input of the output's volume, added last (a transformer's skip connection).
    residual: bool,
}

impl PartialEq for Linear {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.weights, &other.weights)
            && self.contracted_rank == other.contracted_rank
            && self.bias.as_ref().map(Arc::as_ptr) == other.bias.as_ref().map(Arc::as_ptr)
            && self.gelu == other.gelu
            && self.residual == other.residual
    }
}
impl Eq for Linear {}

impl Op for Linear {
    fn name(&self) -> StaticName {
        "SottoLinearBf16".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let mut folded = vec![];
        folded.extend(self.bias.as_ref().map(|_| "bias"));
        folded.extend(self.gelu.then_some("gelu"));
        folded.extend(self.residual.then_some("residual"));
        Ok(vec![format!("{}x{} bf16 weights, folds [{}]", self.weights.k, self.weights.n, folded.join(", "))])
    }

    fn as_typed(&self) -> Option<&dyn TypedOp> {
        Some(self)
    }
}

impl EvalOp for Linear {
    fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
        Ok(Some(EvalOp::eval(self, &EvalContext::out_of_plan(), inputs)?))
    }

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = &inputs[0];
        let (k, n) = (self.weights.k, self.weights.n);
        let xs = x.try_as_plain_ram()?;
        let xs = xs.as_slice::<f32>()?;
        let rows = xs.len() / k;
        let mut shape: TVec<usize> = x.shape()[..x.rank() - self.contracted_rank].into();
        shape.push(n);
        ensure!(xs.len() == rows * k, "{} inputs for rows of {k}", xs.len());
        let residual = if self.residual {
            let r = inputs.get(1).context("the residual input is missing")?;
            ensure!(r.len() == rows * n, "residual of {} values for a {rows}x{n} product", r.len());
            Some(r.try_as_plain_ram()?.as_slice::<f32>()?.as_ptr())
        } else {
            None
        };
        // Safety: every element is written below.
        let mut out = unsafe { Tensor::uninitialized::<f32>(&shape)? };
        {
            let mut view = out.try_as_plain_ram_mut()?;
            let ys = view.as_slice_mut::<f32>()?;
            let epilogue = Epilogue { bias: self.bias.as_ref().map(|b| b.as_ptr()), gelu: self.gelu, residual };
            ensure!(supported(), "bf16 weight products need AVX512-BF16");
            // Safety: the CPU check above; sizes follow from the shapes checked at rewrite.
            unsafe { product(&self.weights, xs, rows, ys, &epilogue) };
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Linear {
    fn as_op(&self) -> &dyn Op {
        self
    }

    fn as_op_mut(&mut self) -> &mut dyn Op {
        self
    }

    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(shape.rank() >= self.contracted_rank);
        let mut out: TVec<TDim> = shape[..shape.rank() - self.contracted_rank].into();
        out.push(self.weights.n.to_dim());
        Ok(tvec!(f32::fact(out)))
    }

    /// Adding or removing a row axis (a unit one, when removing) changes the input, the residual
    /// and the output alike; without this, tract's optimiser could not take the leading unit axis
    /// off a layer's tensors, and left the layer norms around the op on its generic broadcasting
    /// path (a fifth of a call, measured).
    fn change_axes(
        &self,
        model: &TypedModel,
        node: &TypedNode,
        _io: InOut,
        change: &AxisOp,
    ) -> TractResult<Option<AxisChangeConsequence>> {
        let rows = model.outlet_fact(node.inputs[0])?.rank() - self.contracted_rank;
        let row_axis = match change {
            AxisOp::Rm(axis) => *axis < rows,
            AxisOp::Add(axis) => *axis <= rows,
            _ => false,
        };
        Ok(row_axis.then(|| AxisChangeConsequence::new(model, node, None, change)))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let rows: TDim = inputs[0].shape.iter().take(inputs[0].rank() - self.contracted_rank).product();
        Ok(tvec!((Cost::FMA(f32::datum_type()), rows * (self.weights.k * self.weights.n))))
    }
}

/// What the kernel applies to a tile after its sums, in this order.
struct Epilogue {
    bias: Option<*const f32>,
    gelu: bool,
    /// Same layout as the output.
    residual: Option<*const f32>,
}

thread_local! {
    /// Activations converted to bf16 for the product under way; kept to spare an allocation per op.
    static SCRATCH: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// `ys[rows, n] = epilogue(xs[rows, k] W)`.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn product(w: &PackedWeights, xs: &[f32], rows: usize, ys: &mut [f32], e: &Epilogue) {
    let (k, n) = (w.k, w.n);
    let kq = k / 2;
    assert!(xs.len() >= rows * k && ys.len() >= rows * n);
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        scratch.resize(rows * kq, 0);
        // Row-major bf16: the pair (2q, 2q+1) of a row is then one u32, as the kernel broadcasts it.
        unsafe { to_bf16(&xs[..rows * k], &mut scratch) };
        let x = scratch.as_ptr();
        // Panels outer: a panel (48 KB for k = 384) stays in L1/L2 while every token tile uses it.
        for p in 0..n / MR {
            let a = w.panel(p);
            let mut t = 0;
            while t < rows {
                let cols = (rows - t).min(NR);
                let tile = Tile {
                    x: unsafe { x.add(t * kq) },
                    kq,
                    y: unsafe { ys.as_mut_ptr().add(t * n + p * MR) },
                    stride: n,
                    bias: e.bias.map(|b| unsafe { b.add(p * MR) }),
                    gelu: e.gelu,
                    residual: e.residual.map(|r| unsafe { r.add(t * n + p * MR) }),
                };
                unsafe {
                    match cols {
                        6 => kernel::<6>(a, &tile),
                        5 => kernel::<5>(a, &tile),
                        4 => kernel::<4>(a, &tile),
                        3 => kernel::<3>(a, &tile),
                        2 => kernel::<2>(a, &tile),
                        _ => kernel::<1>(a, &tile),
                    }
                }
                t += cols;
            }
        }
    });
}

/// Convert f32 to bf16 (nearest, ties to even), two per u32 in order; `xs.len()` is even.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn to_bf16(xs: &[f32], out: &mut [u32]) {
    let chunks = xs.len() / 16;
    for c in 0..chunks {
        unsafe {
            let v = _mm512_loadu_ps(xs.as_ptr().add(c * 16));
            let b: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(v));
            _mm256_storeu_si256(out.as_mut_ptr().add(c * 8) as *mut __m256i, b);
        }
    }
    for i in chunks * 8..xs.len() / 2 {
        out[i] = bf16_bits(xs[2 * i]) as u32 | (bf16_bits(xs[2 * i + 1]) as u32) << 16;
    }
}

/// One tile's operands: `C` token rows starting at `x`, written to `y` (row stride `stride`).
struct Tile {
    x: *const u32,
    kq: usize,
    y: *mut f32,
    stride: usize,
    bias: Option<*const f32>,
    gelu: bool,
    residual: Option<*const f32>,
}

/// 64 output features x `C` tokens: sums over `k` in registers, then the epilogue, then stores.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn kernel<const C: usize>(a: *const __m512i, t: &Tile) {
    unsafe {
        // Copied out of the summing loop's own array: the epilogue's loops index it at run time,
        // which, on that array, kept all 24 sums in memory (a store each per step, measured).
        let mut acc = [[_mm512_setzero_ps(); V]; NR];
        acc[..C].copy_from_slice(&sums::<C>(a, t.x, t.kq));
        for j in 0..C {
            for h in 0..V {
                let mut v = acc[j][h];
                if let Some(bias) = t.bias {
                    v = _mm512_add_ps(v, _mm512_loadu_ps(bias.add(h * 16)));
                }
                if t.gelu {
                    v = gelu(v);
                }
                if let Some(r) = t.residual {
                    v = _mm512_add_ps(v, _mm512_loadu_ps(r.add(j * t.stride + h * 16)));
                }
                _mm512_storeu_ps(t.y.add(j * t.stride + h * 16), v);
            }
        }
    }
}

/// The tile's sums: 4 weight vectors and one broadcast activation pair per step and column.
#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn sums<const C: usize>(a: *const __m512i, x: *const u32, kq: usize) -> [[__m512; V]; C] {
    unsafe {
        let mut c = [[_mm512_setzero_ps(); V]; C];
        for q in 0..kq {
            let w: [__m512bh; V] = std::array::from_fn(|h| std::mem::transmute(_mm512_load_si512(a.add(q * V + h))));
            for j in 0..C {
                let b: __m512bh = std::mem::transmute(_mm512_set1_epi32(*x.add(j * kq + q) as i32));
                for h in 0..V {
                    c[j][h] = _mm512_dpbf16_ps(c[j][h], w[h], b);
                }
            }
        }
        c
    }
}

/// `0.5 x (1 + erf(x / sqrt 2))` with tract's erf (Abramowitz & Stegun 7.1.28, error < 3e-7).
#[target_feature(enable = "avx512f")]
#[allow(clippy::excessive_precision)]
fn gelu(x: __m512) -> __m512 {
    let z = _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
    let abs = _mm512_abs_ps(z);
    let mut y = _mm512_mul_ps(_mm512_set1_ps(0.0000430638), abs);
    for a in [0.0002765672, 0.0001520143, 0.0092705272, 0.0422820123, 0.0705230784] {
        y = _mm512_mul_ps(_mm512_add_ps(_mm512_set1_ps(a), y), abs);
    }
    let one = _mm512_set1_ps(1.0);
    let mut p = _mm512_add_ps(y, one);
    for _ in 0..4 {
        p = _mm512_mul_ps(p, p);
    }
    let erf_abs = _mm512_sub_ps(one, _mm512_div_ps(one, p));
    // erf is odd: give |erf| the sign of z.
    let sign = _mm512_and_si512(_mm512_castps_si512(z), _mm512_set1_epi32(i32::MIN));
    let erf = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(erf_abs), sign));
    _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5)), _mm512_add_ps(erf, one))
}

/// A product [`rewrite`] can replace, and what follows it that folds in.
struct Found {
    weights: PackedWeights,
    contracted_rank: usize,
    bias: Option<Vec<f32>>,
    gelu: bool,
    residual: Option<OutletId>,
    /// The outlet whose consumers the new op feeds.
    last: OutletId,
}

/// Replace each f32 product of an activation by a constant weight matrix with a [`Linear`] op
/// (and what follows it that folds: bias add, exact GELU, residual add). Returns how many.
/// Call it on a decluttered model, before `into_optimized`.
pub fn rewrite(model: &mut TypedModel) -> TractResult<usize> {
    let mut count = 0;
    for id in 0..model.nodes().len() {
        let Some(found) = find(model, id)? else { continue };
        let node = model.node(id);
        let mut patch = TypedModelPatch::default();
        let mut x = patch.tap_model(model, node.inputs[0])?;
        // Row axes as the einsum's output has them (e.g. [tokens, k] -> [1, tokens, k]), so the
        // op's output, its residual and what reads it agree axis for axis.
        let x_shape = patch.outlet_fact(x)?.shape.to_tvec();
        let out_shape = model.outlet_fact(id.into())?.shape.to_tvec();
        let have = &x_shape[..x_shape.len() - found.contracted_rank];
        let want = &out_shape[..out_shape.len() - 1];
        if have != want {
            let reshape = if have.len() + 1 == want.len() && want[0].is_one() && want[1..] == *have {
                AxisOp::Add(0)
            } else if want.len() + 1 == have.len() && have[0].is_one() && have[1..] == *want {
                AxisOp::Rm(0)
            } else {
                AxisOp::Reshape(0, have.into(), want.into())
            };
            x = patch.wire_node(format!("{}.rows", node.name), reshape, &[x])?[0];
        }
        let mut inputs = tvec![x];
        if let Some(r) = found.residual {
            inputs.push(patch.tap_model(model, r)?);
        }
        let op = Linear {
            weights: Arc::new(found.weights),
            contracted_rank: found.contracted_rank,
            bias: found.bias.map(Arc::new),
            gelu: found.gelu,
            residual: found.residual.is_some(),
        };
        let y = patch.wire_node(format!("{}.bf16", node.name), op, &inputs)?[0];
        patch.shunt_outside(model, found.last, y)?;
        patch.apply(model)?;
        count += 1;
    }
    Ok(count)
}

/// The einsum at `id` as `[rows, k] x [k, n]` with constant f32 weights, if it is one.
fn find(model: &TypedModel, id: usize) -> TractResult<Option<Found>> {
    let node = model.node(id);
    let Some(op) = node.op_as::<EinSum>() else { return Ok(None) };
    if op.q_params.is_some() || op.operating_dt != f32::datum_type() || node.inputs.len() != 2 {
        return Ok(None);
    }
    let x_fact = model.outlet_fact(node.inputs[0])?;
    let w_fact = model.outlet_fact(node.inputs[1])?;
    let out_fact = model.outlet_fact(id.into())?;
    let Some(w) = w_fact.konst.as_ref() else { return Ok(None) };
    if x_fact.datum_type != f32::datum_type() || w.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    // The mapping as tract prints it, e.g. "amk,kn->mn": one letter per axis.
    let expr = op.axes.to_string();
    let Some((ins, out)) = expr.split_once("->") else { return Ok(None) };
    let Some((xa, wa)) = ins.split_once(',') else { return Ok(None) };
    let (xa, wa, oa): (Vec<char>, Vec<char>, Vec<char>) =
        (xa.chars().collect(), wa.chars().collect(), out.chars().collect());
    let unique = |s: &[char]| s.iter().enumerate().all(|(i, c)| !s[..i].contains(c));
    if !unique(&xa) || !unique(&wa) || !unique(&oa) || xa.len() != x_fact.rank() || oa.len() != out_fact.rank() {
        return Ok(None);
    }
    // Weights [contracted..., n] with n the output's last axis; x ends with the same contracted axes.
    let Some((&n_axis, contracted)) = wa.split_last() else { return Ok(None) };
    if contracted.is_empty()
        || oa.last() != Some(&n_axis)
        || xa.contains(&n_axis)
        || contracted.iter().any(|c| oa.contains(c))
        || !xa.ends_with(contracted)
    {
        return Ok(None);
    }
    // The other axes are rows: kept in order, or of size 1 where only one side has them.
    let rows = &xa[..xa.len() - contracted.len()];
    let kept_x: Vec<char> = rows.iter().copied().filter(|c| oa.contains(c)).collect();
    let kept_o: Vec<char> = oa[..oa.len() - 1].iter().copied().filter(|c| rows.contains(c)).collect();
    let dropped_are_units =
        rows.iter().enumerate().filter(|(_, c)| !oa.contains(c)).all(|(i, _)| x_fact.shape[i].is_one())
            && oa[..oa.len() - 1]
                .iter()
                .enumerate()
                .filter(|(_, c)| !rows.contains(c))
                .all(|(i, _)| out_fact.shape[i].is_one());
    if kept_x != kept_o || !dropped_are_units {
        return Ok(None);
    }
    let k: usize = w.shape()[..contracted.len()].iter().product();
    let n = *w.shape().last().unwrap();
    if !k.is_multiple_of(2) || !n.is_multiple_of(MR) {
        return Ok(None);
    }
    let weights = PackedWeights::new(w.try_as_plain_ram()?.as_slice::<f32>()?, k, n)?;

    // Folds, each only when the previous node's sole consumer is the next step.
    let mut last = OutletId::new(id, 0);
    let shape = out_fact.shape.clone();
    let single_succ = |o: OutletId| -> Option<&TypedNode> {
        let succ = model.outlet_successors(o);
        (succ.len() == 1 && !model.output_outlets().ok()?.contains(&o)).then(|| model.node(succ[0].node))
    };
    let is_add = |n: &TypedNode| n.op_as::<TypedBinOp>().is_some_and(|b| b.0.is::<Add>());
    let same_shape = |n: &TypedNode| model.outlet_fact(n.id.into()).is_ok_and(|f| f.shape == shape);
    let mut bias = None;
    if let Some(next) = single_succ(last).filter(|n| is_add(n) && same_shape(n)) {
        let other = next.inputs.iter().find(|i| **i != last).copied();
        let konst = other.and_then(|o| model.outlet_fact(o).ok()?.konst.clone());
        if let Some(b) =
            konst.filter(|b| b.datum_type() == f32::datum_type() && b.len() == n && b.shape().last() == Some(&n))
        {
            bias = Some(b.try_as_plain_ram()?.as_slice::<f32>()?.to_vec());
            last = next.id.into();
        }
    }
    let mut gelu = false;
    if let Some(next) = single_succ(last)
        && next.op_as::<ElementWiseOp>().is_some_and(|e| e.0.is::<GeluExact>())
    {
        gelu = true;
        last = next.id.into();
    }
    let mut residual = None;
    if let Some(next) = single_succ(last).filter(|n| is_add(n) && same_shape(n))
        && let Some(&other) = next.inputs.iter().find(|i| **i != last)
        && model.outlet_fact(other)?.konst.is_none()
        && model.outlet_fact(other)?.shape == shape
    {
        residual = Some(other);
        last = next.id.into();
    }
    Ok(Some(Found { weights, contracted_rank: contracted.len(), bias, gelu, residual, last }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::tract_core::ops::math::add;
    use tract_onnx::tract_core::ops::nn::gelu_exact::gelu_exact;

    use crate::text::gemm::tests::values;

    /// erf by its Taylor series in f64: exact to ~1e-10 on [-4, 4]; beyond, erf is ±1 in f32.
    fn erf(x: f64) -> f64 {
        if x.abs() > 4.0 {
            return x.signum();
        }
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    fn gelu_ref(x: f64) -> f64 {
        0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))
    }

    fn round(xs: &[f32]) -> Vec<f64> {
        xs.iter().map(|&x| bf16_value(bf16_bits(x)) as f64).collect()
    }

    #[test]
    fn bf16_rounding_is_to_nearest_even() {
        assert_eq!(bf16_bits(1.0), 0x3f80);
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
        assert_eq!(bf16_bits(1.0 + 1.0 / 256.0), 0x3f80);
        assert_eq!(bf16_bits(1.0 + 3.0 / 256.0), 0x3f82);
        assert_eq!(bf16_bits(-2.5), 0xc020);
        assert!(bf16_value(bf16_bits(f32::NAN)).is_nan());
        assert_eq!(bf16_value(bf16_bits(f32::INFINITY)), f32::INFINITY);
    }

    #[test]
    fn gelu_matches_the_erf_form() {
        if !supported() {
            return;
        }
        let xs: Vec<f32> = (0..16 * 50).map(|i| (i as f32 - 400.0) / 50.0).collect();
        for chunk in xs.chunks(16) {
            let mut got = [0f32; 16];
            // Safety: AVX512-BF16 (hence AVX-512F) checked above.
            unsafe { _mm512_storeu_ps(got.as_mut_ptr(), gelu(_mm512_loadu_ps(chunk.as_ptr()))) };
            for (x, g) in chunk.iter().zip(got) {
                let want = gelu_ref(*x as f64);
                // tract's erf is within 3e-7 of erf, so GELU within 1.5e-7 |x| (plus f32 rounding).
                assert!((g as f64 - want).abs() <= 2e-7 * (1.0 + x.abs() as f64), "gelu({x}) = {g}, want {want}");
            }
        }
    }

    /// Every tile width (1 to 6 tokens and several tiles), each fold, against an f64 product of
    /// the same bf16-rounded operands (bf16 products are exact in f32: only the sums round).
    #[test]
    fn products_and_folds_match_a_scalar_reference() {
        if !supported() {
            return;
        }
        let (k, n) = (70, 128);
        let w = values(k * n, 1);
        let bias = values(n, 2);
        let packed = PackedWeights::new(&w, k, n).unwrap();
        let w64 = round(&w);
        for rows in [1, 2, 3, 4, 5, 6, 7, 13] {
            let x = values(rows * k, 3 + rows as u64);
            let x64 = round(&x);
            let residual = values(rows * n, 99);
            for (with_bias, with_gelu, with_residual) in [
                (false, false, false),
                (true, false, false),
                (true, true, false),
                (true, false, true),
                (true, true, true),
            ] {
                let e = Epilogue {
                    bias: with_bias.then_some(bias.as_ptr()),
                    gelu: with_gelu,
                    residual: with_residual.then_some(residual.as_ptr()),
                };
                let mut y = vec![f32::NAN; rows * n];
                // Safety: AVX512-BF16 checked above; the buffers have the sizes `product` reads.
                unsafe { product(&packed, &x, rows, &mut y, &e) };
                for r in 0..rows {
                    for c in 0..n {
                        let mut want: f64 = (0..k).map(|i| x64[r * k + i] * w64[i * n + c]).sum();
                        if with_bias {
                            want += bias[c] as f64;
                        }
                        if with_gelu {
                            want = gelu_ref(want);
                        }
                        if with_residual {
                            want += residual[r * n + c] as f64;
                        }
                        let got = y[r * n + c] as f64;
                        assert!(
                            (got - want).abs() < 1e-5 * (1.0 + want.abs()),
                            "rows {rows} ({with_bias}, {with_gelu}, {with_residual}) [{r}, {c}]: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// A layer as the ONNX importer leaves it: `[1, seq, k] x [k, n]` einsum, bias add, GELU,
    /// residual add. Returns the model and its output.
    fn layer(k: usize, n: usize, gelu: bool) -> TypedModel {
        let mut m = TypedModel::default();
        let seq = m.symbols.sym("seq").to_dim();
        let x = m.add_source("x", f32::fact([1.to_dim(), seq.clone(), k.to_dim()])).unwrap();
        let skip = m.add_source("skip", f32::fact([seq, n.to_dim()])).unwrap();
        let w = m.add_const("w", tract_ndarray::Array2::from_shape_vec((k, n), values(k * n, 5)).unwrap()).unwrap();
        let b = m.add_const("b", tract_ndarray::Array2::from_shape_vec((1, n), values(n, 6)).unwrap()).unwrap();
        let y = m.wire_node("mm", EinSum::new("amk,kn->mn".parse().unwrap(), f32::datum_type()), &[x, w]).unwrap();
        let mut y = m.wire_node("bias", add(), &[y[0], b]).unwrap();
        if gelu {
            y = m.wire_node("gelu", gelu_exact(), &y).unwrap();
        }
        let y = m.wire_node("residual", add(), &[y[0], skip]).unwrap();
        m.select_output_outlets(&y).unwrap();
        m
    }

    fn run(model: TypedModel, x: &Tensor, skip: &Tensor) -> Vec<f32> {
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        let out = plan.run(tvec![x.clone().into_tvalue(), skip.clone().into_tvalue()]).unwrap();
        out[0].try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec()
    }

    #[test]
    fn rewrite_folds_a_whole_layer_and_keeps_its_result() {
        if !supported() {
            return;
        }
        let (k, n, seq) = (96, 192, 9);
        let x = Tensor::from_shape(&[1, seq, k], &values(seq * k, 7)).unwrap();
        let skip = Tensor::from_shape(&[seq, n], &values(seq * n, 8)).unwrap();
        let reference = layer(k, n, true);
        let mut model = reference.clone();
        assert_eq!(rewrite(&mut model).unwrap(), 1);
        let optimized = model.clone().into_optimized().unwrap();
        let linear: Vec<&Linear> = optimized.nodes().iter().filter_map(|n| n.op_as::<Linear>()).collect();
        assert_eq!(linear.len(), 1);
        assert!(linear[0].bias.is_some() && linear[0].gelu && linear[0].residual, "{:?}", linear[0].info());
        assert!(!optimized.nodes().iter().any(|n| n.op().name() == "OptMatMul"), "no f32 product left");

        let want = run(reference, &x, &skip);
        let got = run(model, &x, &skip);
        // bf16 operands (8 significant bits) over 96 terms of ~0.3 give errors of ~0.01, 0.03 at
        // most over these 1728 outputs; a fold missed or misplaced costs up to 1 (bias, residual
        // and inputs are in [-1, 1]).
        let err = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0f32, f32::max);
        assert!(err < 0.06, "max error {err}");
        assert!(err > 0.0, "the product did run in bf16");
    }

    #[test]
    fn rewrite_leaves_what_it_cannot_pack_to_tract() {
        // Output features not a multiple of 64, an odd k: both stay f32 einsums.
        for (k, n) in [(96, 100), (95, 128)] {
            let mut model = layer(k, n, false);
            assert_eq!(rewrite(&mut model).unwrap(), 0, "{k}x{n}");
        }
        // Both operands computed (attention's products): not a weight product.
        let mut m = TypedModel::default();
        let a = m.add_source("a", f32::fact([8, 64])).unwrap();
        let b = m.add_source("b", f32::fact([64, 64])).unwrap();
        let y = m.wire_node("mm", EinSum::new("mk,kn->mn".parse().unwrap(), f32::datum_type()), &[a, b]).unwrap();
        m.select_output_outlets(&y).unwrap();
        assert_eq!(rewrite(&mut m).unwrap(), 0);
    }
}
