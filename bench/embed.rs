//! Embedding benchmark: Sotto's tract embedder vs onnxruntime on the same ONNX files, the same
//! token ids and one thread each; then tract-only experiments on where the gap comes from.
//! Run through `bench/embed` (it prepares the models and the Python side); see bench/README.md.
//!
//!   cargo bench --bench embed -- --python VENV/bin/python [--rounds 5] [--latency-runs 40]
//!       [--sentences 256] [--no-experiments] [--name embed-latest] [--out bench/results]
//!   cargo bench --bench embed -- --kernels     (only the weight-products table)

#[path = "common.rs"]
mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sotto::text::{Embedder, cosine};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};
use tract_onnx::prelude::*;
use tract_onnx::tract_core;

use common::*;

/// The latency sentence: 13 tokens with [CLS] and [SEP].
const LATENCY_TEXT: &str = "Remind me to call Ana about the budget meeting tomorrow.";
const SEED: u64 = 2024;
const MODELS: [&str; 2] = ["fp32", "int8"];
/// onnxruntime's batching in the main table (its fastest policy in the experiments below), and
/// Sotto's own before it moved to one text per call on a batch-1 plan: texts tokenised once,
/// sorted by token count, calls filled while rows × longest ≤ this.
const TOKEN_BUDGET: usize = 512;

/// A deterministic corpus of voice-note-like texts of mixed lengths (words: 45 % 4–12,
/// 35 % 13–30, 15 % 31–80, 5 % 81–180; the longest are cut at 256 tokens like in Sotto).
fn corpus(n: usize) -> Vec<String> {
    let mut rng = Rng::new(SEED);
    (0..n)
        .map(|_| {
            let r = rng.f64();
            let words = if r < 0.45 {
                rng.range(4, 12)
            } else if r < 0.80 {
                rng.range(13, 30)
            } else if r < 0.95 {
                rng.range(31, 80)
            } else {
                rng.range(81, 180)
            };
            if words <= 18 { sentence(&mut rng, words) } else { paragraph(&mut rng, words) }
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// The onnxruntime worker (bench/embed_ort.py), one JSON line per request and reply.

struct Ort {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    hello: Value,
}

impl Ort {
    fn start(
        python: &Path,
        script: &Path,
        files: &HashMap<&str, PathBuf>,
        tokenizer: &Path,
        corpus: &Path,
        threads: usize,
    ) -> Result<Ort> {
        let mut child = Command::new(python)
            .arg(script)
            .arg("--fp32")
            .arg(&files["fp32"])
            .arg("--int8")
            .arg(&files["int8"])
            .arg("--tokenizer")
            .arg(tokenizer)
            .arg("--corpus")
            .arg(corpus)
            .arg("--tokens")
            .arg(TOKEN_BUDGET.to_string())
            .arg("--threads")
            .arg(threads.to_string())
            // No library may bring a bigger thread pool than the session's.
            .envs(["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"].map(|v| (v, threads.to_string())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let hello: Value = serde_json::from_str(&line).with_context(|| format!("worker said {line:?}"))?;
        Ok(Ort { child, stdin, stdout, hello })
    }

    fn ask(&mut self, req: Value) -> Result<Value> {
        writeln!(self.stdin, "{req}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("onnxruntime worker exited during {req}");
        }
        let v: Value = serde_json::from_str(&line)?;
        if let Some(e) = v.get("error") {
            bail!("onnxruntime worker: {e}");
        }
        Ok(v)
    }
}

impl Drop for Ort {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "quit"}));
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

fn ns_vec(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// Samples collected over rounds.

#[derive(Default, Clone)]
struct Samples {
    /// Per-run wall ms of the latency sentence.
    lat_ms: Vec<f64>,
    /// CPU ms per latency run, one mean per round.
    lat_cpu_ms: Vec<f64>,
    /// Wall and CPU seconds of each corpus pass.
    pass_s: Vec<f64>,
    pass_cpu_s: Vec<f64>,
}

impl Samples {
    /// One round of an in-process system: `lat_runs` timed calls on the latency sentence after
    /// `warmup`, then one pass over `corpus`.
    fn time_round(&mut self, lat_runs: usize, warmup: usize, corpus: &[&str], mut embed: impl FnMut(&[&str])) {
        let (lat, cpu) = time_latency(lat_runs, warmup, || embed(&[LATENCY_TEXT]));
        self.lat_ms.extend(lat);
        self.lat_cpu_ms.push(cpu);
        let (w, c) = time_pass(|| embed(corpus));
        self.pass_s.push(w);
        self.pass_cpu_s.push(c);
    }

    fn summary(&self, n: usize) -> Value {
        json!({
            "latency_ms_median": median(&self.lat_ms),
            "latency_ms_p90": percentile(&self.lat_ms, 90.0),
            "latency_cpu_ms": median(&self.lat_cpu_ms),
            "throughput_per_s": n as f64 / median(&self.pass_s),
            "throughput_cpu_per_s": n as f64 / median(&self.pass_cpu_s),
            "latency_ms": self.lat_ms, "latency_cpu_ms_rounds": self.lat_cpu_ms,
            "pass_s": self.pass_s, "pass_cpu_s": self.pass_cpu_s,
        })
    }
}

/// Threads each side runs with (`--threads`); set once in `main`.
static THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// CPU time so far: this thread's, or the whole process's when Sotto runs several threads.
fn cpu_ns() -> u64 {
    if THREADS.load(std::sync::atomic::Ordering::Relaxed) > 1 { process_cpu_ns() } else { thread_cpu_ns() }
}

/// Time `f` on the latency sentence: per-run wall ms and the mean CPU ms per run.
fn time_latency(runs: usize, warmup: usize, mut f: impl FnMut()) -> (Vec<f64>, f64) {
    for _ in 0..warmup {
        f();
    }
    let c0 = cpu_ns();
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f();
        out.push(ms(t.elapsed()));
    }
    (out, (cpu_ns() - c0) as f64 / 1e6 / runs as f64)
}

/// Time one corpus pass: (wall s, CPU s).
fn time_pass(f: impl FnOnce()) -> (f64, f64) {
    let (c0, t) = (cpu_ns(), Instant::now());
    f();
    (t.elapsed().as_secs_f64(), (cpu_ns() - c0) as f64 / 1e9)
}

// ------------------------------------------------------------------------------------------
// Experiments: the same pipeline as sotto::text::Embedder, with the plan strategy and the
// batching policy as knobs.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shapes {
    /// One plan, symbolic batch and seq (what Sotto does); `plan.run` spawns a state per call.
    Symbolic,
    /// The same plan, one long-lived `SimpleState` reused across calls.
    SymbolicReuseState,
    /// A plan optimised for each concrete (batch, seq), cached.
    Concrete,
    /// Concrete plans with seq padded up to a power of two (≥ 16): fewer plans, some padding.
    ConcretePow2,
    /// Symbolic, and only `last_hidden_state` kept as output (the graph's own pooling pruned).
    Output0,
    /// `Output0` with the six attention-mask adds cut out of the graph: right only for calls
    /// without padding (`Batching::ExactLen`, or one text).
    NoMask,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Batching {
    /// Sotto's policy: sort by byte length, `n` texts per call, `encode_batch` pads each call.
    Fixed(usize),
    /// Tokenise everything once, sort by token count, and fill each call up to `n` tokens
    /// (rows × padded length), at least one text per call.
    Tokens(usize),
    /// Like `Tokens`, but a call only takes texts of the same token count: no padding at all.
    ExactLen(usize),
}

/// What every variant of one model file shares: the tokenizers and the plans' sources.
struct Base {
    tokenizer: Tokenizer,
    /// The same without padding (truncation kept), for `Batching::Tokens`.
    unpadded: Tokenizer,
    /// Decluttered, shapes still symbolic: the source of every concrete plan.
    decluttered: TypedModel,
    symbolic: Arc<TypedRunnableModel>,
    /// Only output 0 (`last_hidden_state`).
    output0: Arc<TypedRunnableModel>,
    /// Only output 0, attention-mask adds removed.
    no_mask: Arc<TypedRunnableModel>,
    inputs: usize,
    dim: usize,
}

/// Keep only output 0 of a typed model.
fn only_output0(mut m: TypedModel) -> Result<TypedModel> {
    let o = m.outputs[0];
    m.select_output_outlets(&[o])?;
    Ok(m)
}

/// Cut the additive attention mask out of every layer: the ONNX graph adds it in nodes named
/// `L{n}.scores` (see models/make_minilm_onnx.py); each is replaced by its first input.
fn drop_mask_adds(mut m: TypedModel) -> Result<TypedModel> {
    let adds: Vec<usize> =
        m.nodes().iter().filter(|n| n.name.ends_with(".scores") && n.inputs.len() == 2).map(|n| n.id).collect();
    anyhow::ensure!(adds.len() == 6, "expected 6 mask adds, found {}", adds.len());
    for id in adds {
        let mut patch = TypedModelPatch::default();
        let scores = patch.tap_model(&m, m.node(id).inputs[0])?;
        patch.shunt_outside(&m, OutletId::new(id, 0), scores)?;
        patch.apply(&mut m)?;
    }
    Ok(m)
}

/// One variant: the shared base plus its own state and plan cache.
struct Xp {
    base: std::rc::Rc<Base>,
    state: std::cell::RefCell<Option<TypedSimpleState>>,
    cache: std::cell::RefCell<HashMap<(usize, usize), Arc<TypedRunnableModel>>>,
    /// Time spent optimising concrete plans, and how many.
    compile: std::cell::RefCell<(f64, usize)>,
}

impl std::ops::Deref for Xp {
    type Target = Base;
    fn deref(&self) -> &Base {
        &self.base
    }
}

impl Base {
    fn load(onnx: &Path, tokenizer: &Path) -> Result<Base> {
        let mut tok = Tokenizer::from_file(tokenizer).map_err(anyhow::Error::msg)?;
        tok.with_truncation(Some(TruncationParams { max_length: 256, ..Default::default() }))
            .map_err(anyhow::Error::msg)?;
        let mut unpadded = tok.clone();
        unpadded.with_padding(None);
        tok.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        let mut model = tract_onnx::onnx().model_for_path(onnx)?;
        let (b, s) = (model.sym("batch"), model.sym("seq"));
        for i in 0..model.inputs.len() {
            model.set_input_fact(i, InferenceFact::dt_shape(i64::datum_type(), [b.to_dim(), s.to_dim()]))?;
        }
        let typed = model.into_typed()?;
        let output0 = only_output0(typed.clone())?.into_optimized()?.into_runnable()?;
        let no_mask = drop_mask_adds(only_output0(typed.clone())?)?.into_optimized()?.into_runnable()?;
        let decluttered = typed.into_decluttered()?;
        let typed = decluttered.clone().into_optimized()?;
        let dim = match typed.output_fact(0)?.shape.last() {
            Some(TDim::Val(n)) => *n as usize,
            _ => bail!("output 0 is not [batch, seq, dim]"),
        };
        let inputs = typed.inputs.len();
        Ok(Base {
            tokenizer: tok,
            unpadded,
            decluttered,
            symbolic: typed.into_runnable()?,
            output0,
            no_mask,
            inputs,
            dim,
        })
    }

    /// Model inputs for encodings (padded with 0 to the longest, or to `pad_to`): (inputs, mask, rows, seq).
    fn tensors(
        &self,
        enc: &[&tokenizers::Encoding],
        pad_to: Option<usize>,
    ) -> Result<(TVec<TValue>, Vec<i64>, usize, usize)> {
        let rows = enc.len();
        let len = enc.iter().map(|e| e.get_ids().len()).max().unwrap_or(1).max(1);
        let seq = pad_to.map_or(len, |p| p.max(len));
        let mut ids = vec![0i64; rows * seq];
        let mut mask = vec![0i64; rows * seq];
        let mut types = vec![0i64; rows * seq];
        for (r, e) in enc.iter().enumerate() {
            for (c, ((&i, &m), &t)) in e.get_ids().iter().zip(e.get_attention_mask()).zip(e.get_type_ids()).enumerate()
            {
                ids[r * seq + c] = i as i64;
                mask[r * seq + c] = m as i64;
                types[r * seq + c] = t as i64;
            }
        }
        let t = |v: &Vec<i64>| -> Result<TValue> { Ok(Tensor::from_shape(&[rows, seq], v)?.into_tvalue()) };
        let inputs: TVec<TValue> = [&ids, &mask, &types].into_iter().take(self.inputs).map(t).collect::<Result<_>>()?;
        Ok((inputs, mask, rows, seq))
    }

    fn inputs_for(&self, texts: &[&str]) -> Result<(TVec<TValue>, Vec<i64>, usize, usize)> {
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(anyhow::Error::msg)?;
        self.tensors(&enc.iter().collect::<Vec<_>>(), None)
    }

    /// Mean pooling over the mask and L2 normalisation, on a contiguous slice.
    fn pool(&self, hidden: &Tensor, mask: &[i64], rows: usize, seq: usize) -> Result<Vec<Vec<f32>>> {
        let view = hidden.to_plain_array_view::<f32>()?;
        let h = view.as_slice().context("hidden state not contiguous")?;
        let dim = self.dim;
        Ok((0..rows)
            .map(|r| {
                let mut v = vec![0f32; dim];
                let mut n = 0f32;
                for c in 0..seq {
                    if mask[r * seq + c] != 0 {
                        n += 1.0;
                        for (s, x) in v.iter_mut().zip(&h[(r * seq + c) * dim..(r * seq + c + 1) * dim]) {
                            *s += x;
                        }
                    }
                }
                let n = n.max(1.0);
                let norm = v.iter().map(|x| (x / n) * (x / n)).sum::<f32>().sqrt().max(1e-12);
                v.into_iter().map(|x| x / n / norm).collect()
            })
            .collect())
    }

    /// Wall ms per op over `runs` runs of `texts` (one batch) through `plan`, by op label.
    fn profile(
        &self,
        plan: &Arc<TypedRunnableModel>,
        texts: &[&str],
        runs: usize,
    ) -> Result<Vec<(String, f64, usize)>> {
        self.profile_batches(plan, &[texts], runs)
    }

    /// The same summed over several batches (ms per run of all of them).
    fn profile_batches(
        &self,
        plan: &Arc<TypedRunnableModel>,
        batches: &[&[&str]],
        runs: usize,
    ) -> Result<Vec<(String, f64, usize)>> {
        let labels = op_labels(plan.model());
        let mut acc: HashMap<&str, (f64, usize)> = HashMap::new();
        let mut state = plan.spawn()?;
        for (_, texts) in (0..runs).flat_map(|r| batches.iter().map(move |b| (r, b))) {
            let (inputs, ..) = self.inputs_for(texts)?;
            state.run_plan_with_eval(inputs, |ctx, st, node, inp| {
                let t = Instant::now();
                let r = tract_core::plan::eval(ctx, st, node, inp);
                let e = acc.entry(labels[node.id].as_str()).or_default();
                e.0 += ms(t.elapsed());
                e.1 += 1;
                r
            })?;
        }
        let mut v: Vec<(String, f64, usize)> =
            acc.into_iter().map(|(k, (t, n))| (k.to_string(), t / runs as f64, n / runs)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(v)
    }
}

/// A grouping label per node of an optimised plan: the op name; matrix products split into
/// weight products (QKV/output projections, FFN: rank-3 results) and attention products
/// (QKᵀ, scores·V: per-head, rank-4 results); element-wise and broadcasting binary ops
/// with the ranks of their operands (e.g. `Add r4+r4` vs `Add r3+r1`).
fn op_labels(model: &TypedModel) -> Vec<String> {
    model
        .nodes()
        .iter()
        .map(|node| {
            let name = node.op().name().to_string();
            if name.contains("MatMul") && !name.contains("Pack") || name.contains("EinSum") {
                // Attention products work per head: [batch, heads, seq, seq | 32], rank 4.
                if node.outputs.first().is_some_and(|o| o.fact.rank() == 4) {
                    format!("{name} (attention)")
                } else {
                    format!("{name} (weights)")
                }
            } else if node.inputs.len() == 2 && ["Add", "Sub", "Mul", "Div"].contains(&name.as_str()) {
                let rank = |o: &OutletId| model.outlet_fact(*o).map(|f| f.rank()).unwrap_or(0);
                format!("{name} r{}+r{}", rank(&node.inputs[0]), rank(&node.inputs[1]))
            } else {
                name
            }
        })
        .collect()
}

/// GFLOP/s of the weight products alone, with MiniLM's shapes and a symbolic token count as in
/// the embedder: one 384x384 product whose weights stay cached between runs, and the whole
/// 6-layer stack (42 MB of weights in f32, more than this machine's last-level cache), which is
/// what a call streams, on whichever kernel tract dispatches to.
fn matmul_kernel_speed() -> Result<(String, Value)> {
    let stack = |layers: usize| -> Result<(Arc<TypedRunnableModel>, usize, Vec<String>)> {
        let mut model = TypedModel::default();
        let n = model.sym("n");
        model.symbols.add_assertion("n >= 1")?;
        let mut x = model.add_source("x", f32::fact([n.to_dim(), 384.to_dim()]))?;
        let mut flops_per_token = 0;
        let shapes = [(384, 384), (384, 384), (384, 384), (384, 384), (1536, 384), (384, 1536)];
        for layer in 0..layers {
            for (i, &(m, k)) in shapes.iter().enumerate().take(if layers == 1 { 1 } else { 6 }) {
                let w: Vec<f32> = (0..m * k).map(|v| ((v * 7 + layer) % 13) as f32 * 1e-3 - 6e-3).collect();
                let w = model.add_const(format!("w{layer}.{i}"), tensor1(&w).into_shape(&[m, k])?)?;
                let einsum = tract_core::ops::einsum::EinSum::new("nk,mk->nm".parse()?, f32::datum_type());
                x = model.wire_node(format!("mm{layer}.{i}"), einsum, &[x, w])?[0];
                flops_per_token += 2 * m * k;
            }
        }
        model.select_output_outlets(&[x])?;
        let model = model.into_optimized()?;
        let kernels = sotto::text::embed::matmul_kernels(&model);
        Ok((model.into_runnable()?, flops_per_token, kernels))
    };
    let mut md = String::from(
        "### Weight products alone (GFLOP/s, median run)\n\n\
         | products | kernels | 7 tokens | 12 tokens | 96 tokens | 192 tokens |\n|---|---|---:|---:|---:|---:|\n",
    );
    let mut out = serde_json::Map::new();
    for (name, layers, runs) in [("one 384x384, weights cached", 1, 400), ("6-layer stack, 42 MB", 6, 30)] {
        let (plan, flops, kernels) = stack(layers)?;
        let mut cells = Vec::new();
        for tokens in [7usize, 12, 96, 192] {
            let x: TValue = tensor1(&vec![0.5f32; tokens * 384]).into_shape(&[tokens, 384])?.into();
            for _ in 0..runs / 10 {
                plan.run(tvec!(x.clone()))?;
            }
            let mut times: Vec<f64> = (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    plan.run(tvec!(x.clone())).map(|_| t.elapsed().as_secs_f64())
                })
                .collect::<TractResult<_>>()?;
            times.sort_by(f64::total_cmp);
            cells.push((flops * tokens) as f64 / times[times.len() / 2] / 1e9);
        }
        md += &format!(
            "| {name} | {} | {} |\n",
            kernels.join(", "),
            cells.iter().map(|g| format!("{g:.0}")).collect::<Vec<_>>().join(" | ")
        );
        out.insert(name.into(), json!({"kernels": kernels, "gflops_at_7_12_96_192": cells}));
    }
    md += "\n";
    Ok((md, Value::Object(out)))
}

/// `info()` of the first weights matrix product of a plan (tract names its kernel there).
fn matmul_info(model: &TypedModel) -> Vec<String> {
    let labels = op_labels(model);
    model
        .nodes()
        .iter()
        .find(|n| labels[n.id].contains("(weights)"))
        .and_then(|n| n.op().info().ok())
        .unwrap_or_default()
}

impl Xp {
    fn new(base: &std::rc::Rc<Base>) -> Xp {
        Xp { base: base.clone(), state: Default::default(), cache: Default::default(), compile: Default::default() }
    }

    /// A plan for exactly `batch` × `seq` (`batch` = None keeps it symbolic).
    fn concrete(&self, batch: Option<usize>, seq: usize) -> Result<Arc<TypedRunnableModel>> {
        let key = (batch.unwrap_or(0), seq);
        if let Some(p) = self.cache.borrow().get(&key) {
            return Ok(p.clone());
        }
        let t = Instant::now();
        let mut subs = HashMap::new();
        if let Some(b) = batch {
            subs.insert(self.decluttered.sym("batch"), TDim::Val(b as i64));
        }
        subs.insert(self.decluttered.sym("seq"), TDim::Val(seq as i64));
        let plan = self.decluttered.set_symbols(&subs)?.into_optimized()?.into_runnable()?;
        let mut c = self.compile.borrow_mut();
        c.0 += ms(t.elapsed());
        c.1 += 1;
        self.cache.borrow_mut().insert(key, plan.clone());
        Ok(plan)
    }

    fn run_encodings(&self, enc: &[&tokenizers::Encoding], shapes: Shapes) -> Result<Vec<Vec<f32>>> {
        let len = enc.iter().map(|e| e.get_ids().len()).max().unwrap_or(1);
        let pad_to = (shapes == Shapes::ConcretePow2).then(|| len.next_power_of_two().max(16));
        let (inputs, mask, rows, seq) = self.tensors(enc, pad_to)?;
        let out = match shapes {
            Shapes::Symbolic => self.symbolic.run(inputs)?,
            Shapes::SymbolicReuseState => {
                let mut st = self.state.borrow_mut();
                if st.is_none() {
                    *st = Some(self.symbolic.spawn()?);
                }
                st.as_mut().expect("set").run(inputs)?
            }
            Shapes::Concrete | Shapes::ConcretePow2 => self.concrete(Some(rows), seq)?.run(inputs)?,
            Shapes::Output0 => self.output0.run(inputs)?,
            Shapes::NoMask => {
                anyhow::ensure!(enc.iter().all(|e| e.get_ids().len() == seq), "NoMask needs calls without padding");
                self.no_mask.run(inputs)?
            }
        };
        self.pool(&out[0], &mask, rows, seq)
    }

    fn embed(&self, texts: &[&str], shapes: Shapes, batching: Batching) -> Result<Vec<Vec<f32>>> {
        let mut out = vec![Vec::new(); texts.len()];
        match batching {
            Batching::Fixed(batch) => {
                // Like Embedder::embed: sort by byte length, encode_batch pads each call.
                let mut order: Vec<usize> = (0..texts.len()).collect();
                order.sort_by_key(|&i| texts[i].len());
                for group in order.chunks(batch) {
                    let b: Vec<&str> = group.iter().map(|&i| texts[i]).collect();
                    let enc = self.tokenizer.encode_batch(b, true).map_err(anyhow::Error::msg)?;
                    for (&i, v) in group.iter().zip(self.run_encodings(&enc.iter().collect::<Vec<_>>(), shapes)?) {
                        out[i] = v;
                    }
                }
            }
            Batching::Tokens(budget) | Batching::ExactLen(budget) => {
                let exact = matches!(batching, Batching::ExactLen(_));
                let enc = self.unpadded.encode_batch(texts.to_vec(), true).map_err(anyhow::Error::msg)?;
                let mut order: Vec<usize> = (0..texts.len()).collect();
                order.sort_by_key(|&i| enc[i].get_ids().len());
                // With pow2 buckets the budget counts the padded length, so each bucket gets one
                // row count (and few plans).
                let eff = |l: usize| if shapes == Shapes::ConcretePow2 { l.next_power_of_two().max(16) } else { l };
                let mut start = 0;
                while start < order.len() {
                    // Sorted ascending: the last row of a group is its longest.
                    let mut end = start + 1;
                    while end < order.len()
                        && (end + 1 - start) * eff(enc[order[end]].get_ids().len()) <= budget
                        && (!exact || enc[order[end]].get_ids().len() == enc[order[start]].get_ids().len())
                    {
                        end += 1;
                    }
                    let group = &order[start..end];
                    let e: Vec<&tokenizers::Encoding> = group.iter().map(|&i| &enc[i]).collect();
                    for (&i, v) in group.iter().zip(self.run_encodings(&e, shapes)?) {
                        out[i] = v;
                    }
                    start = end;
                }
            }
        }
        Ok(out)
    }
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn min_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    a.iter().zip(b).map(|(x, y)| cosine(x, y) as f64).fold(f64::INFINITY, f64::min)
}

fn read_f32(path: &Path, dim: usize) -> Result<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect::<Vec<_>>()
        .chunks(dim)
        .map(<[f32]>::to_vec)
        .collect())
}

// ------------------------------------------------------------------------------------------

fn main() -> Result<()> {
    let args = Args::parse();
    if args.flag("--kernels") {
        // Just the weight-products table, for A/B runs of the matmul kernels (seconds, no Python).
        print!("{}", matmul_kernel_speed()?.0);
        return Ok(());
    }
    let root = repo_root();
    let models = args.path("--models", &models_dir());
    let python = args.path("--python", Path::new("python3"));
    let rounds = args.num("--rounds", 5);
    let lat_runs = args.num("--latency-runs", 40);
    let n_sent = args.num("--sentences", 256).max(16);
    let name = args.value("--name").unwrap_or_else(|| "embed-latest".into());
    let out_dir = args.path("--out", &root.join("bench/results"));
    let experiments = !args.flag("--no-experiments");
    let threads = args.num("--threads", 1).max(1);
    THREADS.store(threads, std::sync::atomic::Ordering::Relaxed);

    let files: HashMap<&str, PathBuf> = HashMap::from([
        ("fp32", models.join("all-MiniLM-L6-v2.onnx")),
        ("int8", models.join("all-MiniLM-L6-v2-int8.onnx")),
    ]);
    let tokenizer = models.join("all-MiniLM-L6-v2.tokenizer.json");
    for p in files.values().chain([&tokenizer]) {
        if !p.is_file() {
            bail!("{} missing: run models/fetch-fixtures", p.display());
        }
    }
    let load_start = loadavg();
    let started = utc_now();
    eprintln!("==> load average {load_start}");

    let texts = corpus(n_sent);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tmp = tempfile::tempdir()?;
    let corpus_path = tmp.path().join("corpus.json");
    std::fs::write(&corpus_path, serde_json::to_vec(&json!({"sentences": texts, "latency": LATENCY_TEXT}))?)?;

    // ---- load both sides
    let mut sotto = HashMap::new();
    let mut sotto_load_ms = HashMap::new();
    for m in MODELS {
        let t = Instant::now();
        sotto.insert(m, Embedder::load(&files[m], &tokenizer)?.with_threads(threads));
        sotto_load_ms.insert(m, ms(t.elapsed()));
    }
    let script = root.join("bench/embed_ort.py");
    let mut ort = Ort::start(&python, &script, &files, &tokenizer, &corpus_path, threads)?;
    eprintln!("==> onnxruntime worker: {}", ort.hello);

    // ---- same token ids on both sides
    let ids = ort.ask(json!({"cmd": "ids"}))?;
    let e = &sotto["fp32"];
    let lat_ids = e.token_ids(LATENCY_TEXT)?;
    let ort_lat: Vec<u32> =
        ids["latency"].as_array().context("ids")?.iter().map(|x| x.as_u64().unwrap_or(0) as u32).collect();
    let mut id_mismatch = usize::from(lat_ids != ort_lat);
    let mut tokens = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let mine = e.token_ids(t)?;
        let theirs: Vec<u32> =
            ids["corpus"][i].as_array().context("ids")?.iter().map(|x| x.as_u64().unwrap_or(0) as u32).collect();
        id_mismatch += usize::from(mine != theirs);
        tokens.push(mine.len());
    }
    if id_mismatch > 0 {
        bail!("{id_mismatch} texts tokenise differently in Rust and Python: not the same input");
    }
    let total_tokens: usize = tokens.iter().sum();
    eprintln!(
        "==> corpus: {n_sent} texts, {total_tokens} tokens (min {}, median {}, max {}); latency text {} tokens; ids identical",
        tokens.iter().min().unwrap_or(&0),
        median(&tokens.iter().map(|&t| t as f64).collect::<Vec<_>>()),
        tokens.iter().max().unwrap_or(&0),
        lat_ids.len()
    );

    // ---- same vectors on both sides
    let mut agreement = serde_json::Map::new();
    let mut vecs = HashMap::new();
    for m in MODELS {
        let mine = sotto[m].embed(&refs)?;
        let out = tmp.path().join(format!("ort-{m}.f32"));
        ort.ask(json!({"cmd": "embed", "model": m, "out": out}))?;
        let theirs = read_f32(&out, sotto[m].dim())?;
        agreement.insert(format!("{m}_tract_vs_ort_min_cosine"), json!(min_cosine(&mine, &theirs)));
        vecs.insert(m, mine);
    }
    agreement.insert("tract_int8_vs_fp32_min_cosine".into(), json!(min_cosine(&vecs["int8"], &vecs["fp32"])));
    eprintln!("==> agreement {}", Value::Object(agreement.clone()));

    // ---- the comparison, interleaved: each round runs both systems back to back, the order
    // alternating, so load bursts on a shared machine spread over both.
    let mut s: HashMap<(&str, &str), Samples> = HashMap::new();
    for round in 0..rounds {
        for m in MODELS {
            let mut order = vec!["sotto", "ort"];
            if round % 2 == 1 {
                order.reverse();
            }
            for sys in order {
                let entry = s.entry((sys, m)).or_default();
                if sys == "sotto" {
                    let emb = &sotto[m];
                    entry.time_round(lat_runs, 5, &refs, |t| {
                        emb.embed(t).expect("embed");
                    });
                } else {
                    let r = ort.ask(json!({"cmd": "latency", "model": m, "runs": lat_runs, "warmup": 5}))?;
                    entry.lat_ms.extend(ns_vec(&r["wall_ns"]).into_iter().map(|x| x / 1e6));
                    entry.lat_cpu_ms.push(r["cpu_ns"].as_f64().unwrap_or(f64::NAN) / 1e6 / lat_runs as f64);
                    let r = ort.ask(json!({"cmd": "throughput", "model": m}))?;
                    entry.pass_s.push(r["wall_ns"].as_f64().unwrap_or(f64::NAN) / 1e9);
                    entry.pass_cpu_s.push(r["cpu_ns"].as_f64().unwrap_or(f64::NAN) / 1e9);
                }
            }
        }
        eprintln!("==> round {}/{rounds} done (load {})", round + 1, loadavg());
    }

    // ---- main table
    let mut md = String::new();
    let load_mid = loadavg();
    md += "## Sentence embeddings: Sotto (tract) vs onnxruntime\n\n";
    md += &format!(
        "all-MiniLM-L6-v2, the same ONNX files and token ids, {threads} thread(s) each{}; {rounds} interleaved rounds; \
         latency = one {}-token sentence ({} runs); throughput = {n_sent} texts, {total_tokens} tokens, \
         each side batching its fastest way (onnxruntime: sorted by token count, ≤ {TOKEN_BUDGET} tokens \
         per call; Sotto: `Embedder::embed`, a batch-1 plan where short texts share a call laid end to end \
         under a block-diagonal attention mask, so no padding), tokenising and pooling \
         included. Speed ratio = Sotto ÷ onnxruntime speed (≥ 1.0: Sotto as fast \
         or faster). CPU = CPU time of the thread (Sotto, one thread) or process (onnxruntime; Sotto \
         with several): time spent descheduled does not count, contention for caches and memory \
         still does.\n\n",
        if threads > 1 {
            " (onnxruntime: intra-op threads; Sotto: `Embedder::with_threads`, that many calls at once)"
        } else {
            ""
        },
        lat_ids.len(),
        rounds * lat_runs
    );
    md += "| model | metric | Sotto (tract) | onnxruntime | speed ratio |\n|---|---|---:|---:|---:|\n";
    let mut results = serde_json::Map::new();
    for m in MODELS {
        let (a, b) = (&s[&("sotto", m)], &s[&("ort", m)]);
        let label_m = m.to_string();
        let rows: [(&str, f64, f64, bool); 4] = [
            ("latency, median ms", median(&a.lat_ms), median(&b.lat_ms), false),
            ("latency, CPU ms/run", median(&a.lat_cpu_ms), median(&b.lat_cpu_ms), false),
            ("throughput, texts/s (wall)", n_sent as f64 / median(&a.pass_s), n_sent as f64 / median(&b.pass_s), true),
            (
                "throughput, texts/s (CPU)",
                n_sent as f64 / median(&a.pass_cpu_s),
                n_sent as f64 / median(&b.pass_cpu_s),
                true,
            ),
        ];
        for (label, x, y, higher_better) in rows {
            let ratio = if higher_better { x / y } else { y / x };
            let fmt = |v: f64| if higher_better { format!("{v:.1}") } else { format!("{v:.2}") };
            md += &format!("| {label_m} | {label} | {} | {} | **{ratio:.2}×** |\n", fmt(x), fmt(y));
        }
        results.insert(label_m, json!({"sotto": a.summary(n_sent), "onnxruntime": b.summary(n_sent)}));
    }
    md += &format!(
        "\nLoad: Sotto {:.0} / {:.0} ms (fp32 / int8, plan optimisation included), onnxruntime session {:.0} / {:.0} ms. \
         Agreement (min cosine over the corpus): fp32 tract vs onnxruntime {:.6}, int8 {:.6}; tract int8 vs fp32 {:.4}.\n",
        sotto_load_ms["fp32"],
        sotto_load_ms["int8"],
        ort.hello["load_ms"]["fp32"].as_f64().unwrap_or(f64::NAN),
        ort.hello["load_ms"]["int8"].as_f64().unwrap_or(f64::NAN),
        agreement["fp32_tract_vs_ort_min_cosine"].as_f64().unwrap_or(f64::NAN),
        agreement["int8_tract_vs_ort_min_cosine"].as_f64().unwrap_or(f64::NAN),
        agreement["tract_int8_vs_fp32_min_cosine"].as_f64().unwrap_or(f64::NAN),
    );

    // ---- experiments
    let mut xp_json = json!(null);
    if experiments {
        let (xmd, xj) =
            run_experiments(&files, &tokenizer, &refs, &vecs, &sotto, &mut ort, rounds.clamp(1, 3), lat_runs)?;
        md += &xmd;
        xp_json = xj;
    }
    let load_end = loadavg();
    let header = format!(
        "# bench/embed — {started}, sotto {}, load average {load_start} (start) / {load_mid} (after comparison) / {load_end} (end), {} CPUs\n\n",
        commit(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let md = header + &md;
    print!("{md}");
    let json = json!({
        "meta": {
            "started": started, "commit": commit(), "loadavg_start": load_start, "loadavg_after_comparison": load_mid,
            "loadavg_end": load_end, "rounds": rounds, "latency_runs_per_round": lat_runs,
            "latency_text": LATENCY_TEXT, "latency_tokens": lat_ids.len(), "corpus_texts": n_sent,
            "corpus_tokens": total_tokens, "corpus_seed": SEED, "threads": threads,
            "onnxruntime_worker": ort.hello, "sotto_load_ms": sotto_load_ms,
            "files": files.iter().map(|(k, v)| (k.to_string(), v.display().to_string())).collect::<HashMap<_, _>>(),
        },
        "agreement": agreement,
        "results": results,
        "experiments": xp_json,
    });
    save(&out_dir, &name, &md, &json)?;
    eprintln!("==> saved {}/{name}.{{md,json}}", out_dir.display());
    Ok(())
}

/// One row of the variants table.
#[derive(Clone, Copy)]
enum Sys {
    /// `sotto::text::Embedder` itself.
    Sotto(&'static str),
    /// The bench pipeline with a plan strategy and a batching policy.
    Tract(&'static str, Shapes, Batching),
    /// onnxruntime (throughput only; its latency is in the main table).
    Ort(&'static str, Batching),
}

impl Sys {
    fn model(&self) -> &'static str {
        match *self {
            Sys::Sotto(m) | Sys::Tract(m, ..) | Sys::Ort(m, _) => m,
        }
    }
    fn label(&self) -> String {
        let b = |b: &Batching| match b {
            Batching::Fixed(n) => format!("batch {n}"),
            Batching::Tokens(n) => format!("≤ {n} tokens/call"),
            Batching::ExactLen(n) => format!("≤ {n} tokens/call, equal lengths only"),
        };
        match self {
            Sys::Sotto(_) => "**Sotto `Embedder`** (batch-1 plan, short texts packed)".into(),
            Sys::Tract(_, s, bt) => {
                let s = match s {
                    Shapes::Symbolic => "symbolic",
                    Shapes::SymbolicReuseState => "symbolic, reused state",
                    Shapes::Concrete => "concrete (batch, seq)",
                    Shapes::ConcretePow2 => "concrete, seq → pow2 ≥ 16",
                    Shapes::Output0 => "symbolic, output 0 only",
                    Shapes::NoMask => "symbolic, output 0 only, no mask adds",
                };
                format!("tract {s}, {}", b(bt))
            }
            Sys::Ort(_, bt) => format!("onnxruntime, {}", b(bt)),
        }
    }
    fn ort_req(b: &Batching) -> Value {
        match b {
            Batching::Fixed(n) => json!({"batch": n}),
            Batching::Tokens(n) => json!({"tokens": n}),
            Batching::ExactLen(n) => json!({"tokens": n, "exact": true}),
        }
    }
}

type Profile = Vec<(String, f64, usize)>;

fn profile_table(m: &str, cols: &[(String, Profile, usize)]) -> String {
    let mut keys: Vec<&String> = Vec::new();
    // Rows in the order of the widest column's cost.
    let widest = cols.iter().max_by_key(|c| c.2).expect("columns");
    for k in widest.1.iter().map(|x| &x.0).chain(cols.iter().flat_map(|c| c.1.iter().map(|x| &x.0))) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut md = format!("### tract {m}: time per op group (ms per call; % of that call)\n\n| op |");
    for (name, ..) in cols {
        md += &format!(" {name} | % |");
    }
    md += "\n|---|";
    md += &"---:|---:|".repeat(cols.len());
    md += "\n";
    for k in keys.iter().take(16) {
        md += &format!("| {k} |");
        for (_, p, _) in cols {
            let total: f64 = p.iter().map(|x| x.1).sum();
            let t = p.iter().find(|x| &x.0 == *k).map_or(0.0, |x| x.1);
            md += &format!(" {t:.2} | {:.0} |", 100.0 * t / total);
        }
        md += "\n";
    }
    md += "| **total** |";
    for (_, p, _) in cols {
        md += &format!(" **{:.2}** | |", p.iter().map(|x| x.1).sum::<f64>());
    }
    md += "\n| µs per token (incl. padding) |";
    for (_, p, tokens) in cols {
        md += &format!(" {:.0} | |", 1e3 * p.iter().map(|x| x.1).sum::<f64>() / *tokens as f64);
    }
    md + "\n\n"
}

#[allow(clippy::too_many_arguments)]
fn run_experiments(
    files: &HashMap<&str, PathBuf>,
    tokenizer: &Path,
    refs: &[&str],
    baseline: &HashMap<&str, Vec<Vec<f32>>>,
    sotto: &HashMap<&str, Embedder>,
    ort: &mut Ort,
    rounds: usize,
    lat_runs: usize,
) -> Result<(String, Value)> {
    let n = refs.len();
    let mut md = String::from("\n## tract experiments (bench-only code, the same pipeline as `Embedder`)\n\n");
    let mut j = serde_json::Map::new();
    let mut bases = HashMap::new();
    for m in MODELS {
        bases.insert(m, std::rc::Rc::new(Base::load(&files[m], tokenizer)?));
    }

    // -- per-op profiles: the latency sentence; the middle and the last batch of 16 of the corpus
    // sorted by byte length (Sotto's policy before 0d46aba); the whole corpus as Sotto batches it
    // now (token budget).
    let mut sorted: Vec<&str> = refs.to_vec();
    sorted.sort_by_key(|t| t.len());
    let sixteens: Vec<&[&str]> = sorted.chunks(16).collect();
    let mid = sixteens[sixteens.len() / 2];
    let long = sixteens[sixteens.len() - 1];
    let enc = bases["fp32"].unpadded.encode_batch(refs.to_vec(), true).map_err(anyhow::Error::msg)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| enc[i].get_ids().len());
    let mut budget_groups: Vec<Vec<&str>> = Vec::new();
    // Token cells (rows × padded length) of the whole corpus under Sotto's batching.
    let mut corpus_cells = 0;
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && (end + 1 - start) * enc[order[end]].get_ids().len() <= TOKEN_BUDGET {
            end += 1;
        }
        budget_groups.push(order[start..end].iter().map(|&i| refs[i]).collect());
        corpus_cells += (end - start) * enc[order[end - 1]].get_ids().len();
        start = end;
    }
    let groups: Vec<&[&str]> = budget_groups.iter().map(Vec::as_slice).collect();
    let mut profiles = serde_json::Map::new();
    for m in MODELS {
        let xp = Xp::new(&bases[m]);
        let (_, _, _, mid_seq) = xp.inputs_for(mid)?;
        let (_, _, _, long_seq) = xp.inputs_for(long)?;
        let (_, _, _, lat_seq) = xp.inputs_for(&[LATENCY_TEXT])?;
        let conc = xp.concrete(Some(mid.len()), mid_seq)?;
        let cols = vec![
            (format!("1×{lat_seq}"), xp.profile(&xp.symbolic, &[LATENCY_TEXT], 50)?, lat_seq),
            (format!("16×{mid_seq} (batch of 16)"), xp.profile(&xp.symbolic, mid, 5)?, 16 * mid_seq),
            (format!("16×{mid_seq} concrete"), xp.profile(&conc, mid, 5)?, 16 * mid_seq),
            (
                format!("{}×{long_seq} (batch of 16)", long.len()),
                xp.profile(&xp.symbolic, long, 2)?,
                long.len() * long_seq,
            ),
            (
                format!("whole corpus, ≤ {TOKEN_BUDGET} tokens/call ({} calls)", groups.len()),
                xp.profile_batches(&xp.symbolic, &groups, 1)?,
                corpus_cells,
            ),
        ];
        md += &profile_table(m, &cols);
        let pj = |v: &Profile| v.iter().map(|(k, t, c)| json!({"op": k, "ms": t, "count": c})).collect::<Vec<_>>();
        profiles.insert(
            m.into(),
            json!({
                "columns": cols.iter().map(|(name, p, tokens)| json!({"shape": name, "tokens": tokens, "ops": pj(p)})).collect::<Vec<_>>(),
                "plan_nodes_symbolic": xp.symbolic.model().nodes().len(),
                "plan_nodes_concrete": conc.model().nodes().len(),
                "weights_matmul_info": matmul_info(xp.symbolic.model()),
                "weights_matmul_info_concrete": matmul_info(conc.model()),
            }),
        );
        eprintln!("==> tract {m}: a weights matmul of the symbolic plan: {:?}", matmul_info(xp.symbolic.model()));
        eprintln!("==> tract {m}: the same, concrete 16×{mid_seq}: {:?}", matmul_info(conc.model()));
    }
    md += "Op groups: matrix products split into *weights* (QKV/output projections, FFN) and \
           *attention* (QKᵀ and scores·V, per head); binary ops carry their operand ranks \
           (`Add r4+r4`: the attention-mask add on [batch, heads, seq, seq]; `Add r3+r1`: a bias). \
           Timed per node with `SimpleState::run_plan_with_eval`.\n\n";
    j.insert("tract_op_profile".into(), Value::Object(profiles));

    // -- onnxruntime's own per-op profile and its graph-optimisation levels, for contrast
    let mut ort_prof = serde_json::Map::new();
    for m in MODELS {
        let p = ort.ask(json!({"cmd": "profile", "model": m, "runs": 50}))?;
        let to_rows = |v: &Value| -> Vec<(String, f64)> {
            let mut r: Vec<(String, f64)> = v
                .as_object()
                .map(|o| o.iter().map(|(k, x)| (k.clone(), x.as_f64().unwrap_or(0.0) / 1e3)).collect())
                .unwrap_or_default();
            r.sort_by(|a, b| b.1.total_cmp(&a.1));
            r
        };
        let (lat, thr) = (to_rows(&p["latency_us"]), to_rows(&p["throughput_us"]));
        let (tl, tt) = (lat.iter().map(|x| x.1).sum::<f64>(), thr.iter().map(|x| x.1).sum::<f64>());
        md += &format!(
            "### onnxruntime {m}: kernel time per op type (its profiler; fused ops are its own)\n\n\
             | op | latency ms/run | % | corpus pass ms (≤ {TOKEN_BUDGET} tokens/call) | % |\n|---|---:|---:|---:|---:|\n"
        );
        for (k, t) in thr.iter().take(12) {
            let l = lat.iter().find(|x| &x.0 == k).map_or(0.0, |x| x.1) / 50.0;
            md += &format!("| {k} | {l:.3} | {:.0} | {t:.0} | {:.0} |\n", 100.0 * l / (tl / 50.0), 100.0 * t / tt);
        }
        md += &format!("| **total** | **{:.2}** | | **{tt:.0}** | |\n\n", tl / 50.0);
        ort_prof.insert(m.into(), p);
    }
    let v = ort.ask(json!({"cmd": "variants", "model": "fp32", "runs": lat_runs}))?;
    md += "### onnxruntime fp32 by graph optimisation level (what its fusions are worth)\n\n\
           | level | latency median ms | corpus texts/s (wall) | texts/s (CPU) |\n|---|---:|---:|---:|\n";
    for level in ["ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_ALL"] {
        let x = &v[level];
        let lat = median(&ns_vec(&x["latency_wall_ns"])) / 1e6;
        let tw = n as f64 / (x["throughput_wall_ns"].as_f64().unwrap_or(f64::NAN) / 1e9);
        let tc = n as f64 / (x["throughput_cpu_ns"].as_f64().unwrap_or(f64::NAN) / 1e9);
        md += &format!("| {level} | {lat:.2} | {tw:.1} | {tc:.1} |\n");
    }
    md += "\n";
    j.insert("ort_op_profile".into(), Value::Object(ort_prof));
    j.insert("ort_levels".into(), v);

    // -- plan strategies and batching policies, interleaved over rounds
    use Batching::{ExactLen, Fixed, Tokens};
    use Shapes::*;
    let systems: Vec<Sys> = vec![
        Sys::Sotto("fp32"),
        Sys::Tract("fp32", Symbolic, Tokens(TOKEN_BUDGET)),
        Sys::Tract("fp32", Symbolic, Fixed(16)),
        Sys::Tract("fp32", Symbolic, Fixed(1)),
        Sys::Tract("fp32", Symbolic, Fixed(4)),
        Sys::Tract("fp32", Symbolic, Fixed(32)),
        Sys::Tract("fp32", Symbolic, Tokens(256)),
        Sys::Tract("fp32", Symbolic, Tokens(1024)),
        Sys::Tract("fp32", SymbolicReuseState, Tokens(512)),
        Sys::Tract("fp32", Concrete, Fixed(16)),
        Sys::Tract("fp32", ConcretePow2, Tokens(512)),
        Sys::Tract("fp32", Output0, Tokens(512)),
        Sys::Tract("fp32", NoMask, ExactLen(512)),
        Sys::Tract("fp32", NoMask, ExactLen(1024)),
        Sys::Ort("fp32", Tokens(512)),
        Sys::Ort("fp32", ExactLen(512)),
        Sys::Ort("fp32", Fixed(16)),
        Sys::Ort("fp32", Fixed(4)),
        Sys::Sotto("int8"),
        Sys::Tract("int8", Symbolic, Fixed(16)),
        Sys::Tract("int8", Concrete, Fixed(16)),
        Sys::Tract("int8", NoMask, ExactLen(512)),
        Sys::Ort("int8", Tokens(512)),
        Sys::Ort("int8", Fixed(4)),
    ];
    let xps: Vec<Option<Xp>> =
        systems.iter().map(|s| matches!(s, Sys::Tract(..)).then(|| Xp::new(&bases[s.model()]))).collect();
    // First pass of each tract variant: compiles its concrete plans (timed apart, not in the
    // samples) and checks its vectors against Sotto's.
    let mut prep = Vec::new();
    for (s, xp) in systems.iter().zip(&xps) {
        let (mut c_ms, mut c_n, mut cos, mut rss) = (0.0, 0, f64::NAN, 0.0);
        if let (Sys::Tract(m, shapes, batching), Some(xp)) = (s, xp) {
            let rss0 = rss_mb();
            let out = xp.embed(refs, *shapes, *batching)?;
            xp.embed(&[LATENCY_TEXT], *shapes, *batching)?;
            (c_ms, c_n) = *xp.compile.borrow();
            cos = min_cosine(&out, &baseline[m]);
            rss = rss_mb() - rss0;
        }
        prep.push((c_ms, c_n, cos, rss));
    }
    let mut samples: Vec<Samples> = vec![Samples::default(); systems.len()];
    for round in 0..rounds {
        for k in 0..systems.len() {
            let i = if round % 2 == 0 { k } else { systems.len() - 1 - k };
            let sm = &mut samples[i];
            match (&systems[i], &xps[i]) {
                (Sys::Ort(m, b), _) => {
                    let mut req = Sys::ort_req(b);
                    req["cmd"] = json!("throughput");
                    req["model"] = json!(m);
                    let r = ort.ask(req)?;
                    sm.pass_s.push(r["wall_ns"].as_f64().unwrap_or(f64::NAN) / 1e9);
                    sm.pass_cpu_s.push(r["cpu_ns"].as_f64().unwrap_or(f64::NAN) / 1e9);
                    continue;
                }
                (Sys::Sotto(m), _) => {
                    let e = &sotto[m];
                    sm.time_round(lat_runs, 3, refs, |t| {
                        e.embed(t).expect("embed");
                    });
                }
                (Sys::Tract(_, shapes, batching), Some(xp)) => {
                    sm.time_round(lat_runs, 3, refs, |t| {
                        xp.embed(t, *shapes, *batching).expect("embed");
                    });
                }
                (Sys::Tract(..), None) => unreachable!(),
            }
        }
        eprintln!("==> experiments round {}/{rounds} done (load {})", round + 1, loadavg());
    }
    md += &format!(
        "### Plan strategies and batching policies ({rounds} interleaved rounds)\n\n\
         × = speed relative to the Sotto `Embedder` row of the same model, from CPU time (> 1: faster). \
         onnxruntime rows measure throughput only (their latency is in the main table).\n\n\
         | model | variant | latency ms | CPU ms | texts/s (wall) | texts/s (CPU) | × latency | × throughput | plans | compile ms | RSS +MB | min cos vs Sotto |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    let mut vj = Vec::new();
    for (i, s) in systems.iter().enumerate() {
        let m = s.model();
        let sm = &samples[i];
        let b = &samples[systems.iter().position(|x| matches!(x, Sys::Sotto(mm) if *mm == m)).expect("baseline")];
        let (c_ms, c_n, cos, rss) = prep[i];
        let thr_cpu = n as f64 / median(&sm.pass_cpu_s);
        let x_thr = thr_cpu / (n as f64 / median(&b.pass_cpu_s));
        let (lat, lat_cpu, x_lat) = if sm.lat_ms.is_empty() {
            ("–".to_string(), "–".to_string(), "–".to_string())
        } else {
            let c = median(&sm.lat_cpu_ms);
            (format!("{:.2}", median(&sm.lat_ms)), format!("{c:.2}"), format!("{:.2}", median(&b.lat_cpu_ms) / c))
        };
        let tract_cols = if matches!(s, Sys::Tract(..)) {
            format!("{c_n} | {c_ms:.0} | {rss:.0} | {cos:.6}")
        } else {
            "– | – | – | –".into()
        };
        md += &format!(
            "| {m} | {} | {lat} | {lat_cpu} | {:.1} | {thr_cpu:.1} | {x_lat} | **{x_thr:.2}** | {tract_cols} |\n",
            s.label(),
            n as f64 / median(&sm.pass_s),
        );
        vj.push(json!({"model": m, "variant": s.label(), "samples": sm.summary(n), "plans_compiled": c_n,
                       "compile_ms": c_ms, "rss_delta_mb": rss, "min_cosine_vs_sotto": cos}));
    }
    md += "\nplans / compile ms: concrete plans optimised in the variant's first pass (not in the timings); \
           RSS +MB: resident memory that first pass added (the model and the symbolic plan are shared \
           and not counted). ≤ N tokens/call: texts tokenised once, sorted by token count, and each call \
           filled while rows × longest ≤ N.\n";
    j.insert("variants".into(), Value::Array(vj));
    let (kernel_md, kernel_json) = matmul_kernel_speed()?;
    md += &kernel_md;
    j.insert("matmul_kernels".into(), kernel_json);
    Ok((md, Value::Object(j)))
}
