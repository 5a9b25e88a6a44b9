using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Bench;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' CausalSelfAttention (REFERENCE §2 Attention; fixtures attn_softmax_causal, attn_softmax_noncausal,
/// attn_linear_causal, attn_linear_noncausal), softmax or linear, causal or not:
/// <code>
/// [q | k | v] = c_attn(x)                        x [B, L, d] -> [B, L, 3d], that order along channels
/// per head h (channels h·hs .. h·hs+hs-1, hs = d / n_head):
///   S = q kᵀ / sqrt(hs)                          [L, L]; the scale is kept without softmax too
///   A = softmax(S + mask)                        softmax: mask 0 where key ≤ query (or everywhere), -inf elsewhere
///   A = S ∘ M                                    linear: M = tril(ones) (causal) or ones; no feature map, no normaliser
///   o_h = A v
/// y = c_proj(concat_h o_h)
/// </code>
/// Parameters, in the authors' state-dict order: "{name}.c_attn.weight" [3d, d], "{name}.c_attn.bias" [3d],
/// "{name}.c_proj.weight" [d, d], "{name}.c_proj.bias" [d]. The causal mask is a buffer in the authors' state dict
/// ("{name}.bias"), not a parameter, so it is not registered here.
/// </summary>
/// <remarks>
/// Forward keeps qkv [B·L, 3d], A [B, n_head, L, Lp] (rows padded to Lp, a multiple of the vector width, with
/// zeros past the mask) and the head outputs o [B·L, d]. The projections run as GEMMs over all B·L rows; the
/// per-head products run single-threaded through <see cref="SmallGemm"/> on strided views of qkv (no copies
/// besides kᵀ, resp. vᵀ, packed per head), skipping the masked triangle when causal. The 1/sqrt(hs) scale is
/// applied inside the softmax's exponential (exp((s − max)/sqrt(hs))), with the mask for linear attention, and
/// to dS in backward.
/// </remarks>
public sealed unsafe class Attention<T> : ISequenceMixer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _d, _hs;
    private readonly T _scale;
    // Forward caches (grown to the largest shape seen).
    private T[] _qkv = [], _o = [];
    // A lives in a pinned array from a 64-byte aligned element offset: with Lp a whole vector, every row of A
    // starts a cache line, so its vector loads and stores never split lines.
    private T[] _att = [];
    private int _attBase;
    // Per-call scratch: one head's kᵀ or vᵀ [hs, Lp] (pad columns zero); the masks for the current length.
    private T[] _packT = [];
    private T[] _mask = [], _maskScaled = [];
    private int[] _rowLengths = [];
    private int _maskLength = -1;
    // Tangent scratch: dqkv [B·L, 3d], do [B·L, d], one head's dS [L, Lp] and dkᵀ [hs, Lp].
    private T[] _tQkv = [], _tO = [], _tS = [], _tPackT = [];

    /// <summary>Registers c_attn (d → 3d) and c_proj (d → d), both with bias.</summary>
    /// <exception cref="ArgumentException">d or nHead not positive, or d not divisible by nHead.</exception>
    public Attention(ParameterStore<T> store, string name, int d, int nHead, bool causal, bool softmax)
    {
        if (d < 1) throw new ArgumentException($"model.n_embd = {d} must be a positive integer", nameof(d));
        if (nHead < 1) throw new ArgumentException($"model.n_head = {nHead} must be a positive integer", nameof(nHead));
        if (d % nHead != 0) throw new ArgumentException($"model.n_embd {d} is not divisible by model.n_head {nHead}", nameof(nHead));
        _d = d; NHead = nHead; _hs = d / nHead; Causal = causal; Softmax = softmax;
        _scale = T.One / T.Sqrt(T.CreateChecked(_hs));
        CAttn = new Linear<T>(store, name + ".c_attn", d, 3 * d);
        CProj = new Linear<T>(store, name + ".c_proj", d, d);
    }

    public int NHead { get; }
    /// <summary>Channels per head, d / n_head.</summary>
    public int HeadSize => _hs;
    public bool Causal { get; }
    /// <summary>True: softmax attention; false: the authors' linear attention (use_softmax_for_attn = false).</summary>
    public bool Softmax { get; }
    public Linear<T> CAttn { get; }
    public Linear<T> CProj { get; }

    /// <summary>Row length of one cached attention matrix: L rounded up to the widest vector of T.</summary>
    internal static int PaddedLength(int length) => (length + Grain - 1) / Grain * Grain;

    // The widest vector of T: rows of A are whole vectors.
    private static int Grain => SimdInfo.Use512<T>() ? System.Runtime.Intrinsics.Vector512<T>.Count
        : SimdInfo.Use256<T>() ? System.Runtime.Intrinsics.Vector256<T>.Count : 1;

    public void Forward(ReadOnlySpan<T> x, Span<T> y, int batch, int length)
    {
        // x [B·L, d] -> qkv [B·L, 3d] -> per head A [L, Lp], o [B·L, d] -> y [B·L, d]
        int rows = batch * length, d = _d, hs = _hs, L = length, lp = PaddedLength(length);
        int n = rows * d;
        if (x.Length < n) throw new ArgumentException($"x holds {x.Length} values, needs batch·length·d = {n}", nameof(x));
        if (y.Length < n) throw new ArgumentException($"y holds {y.Length} values, needs batch·length·d = {n}", nameof(y));
        Buffers.Ensure(ref _qkv, 3L * n); Buffers.Ensure(ref _o, n);
        EnsureAligned(ref _att, ref _attBase, (long)batch * NHead * L * lp);
        Prepare(L, lp);
        long t0 = StepProfiler.Start();
        // REFERENCE §2: [q | k | v] = c_attn(x)
        CAttn.Forward(x, _qkv.AsSpan(0, 3 * n), rows);
        StepProfiler.Stop("attn.fwd.c_attn", t0); t0 = StepProfiler.Start();
        nint ld = 3 * d;
        var rowSkip = Causal ? TriangleSkip.NUpToRow : TriangleSkip.None;
        var kSkip = Causal ? TriangleSkip.KUpToRow : TriangleSkip.None;
        fixed (T* pqkv = _qkv, pAtt = _att, po = _o, pkT = _packT, pMask = _mask, pMaskS = _maskScaled)
        {
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < NHead; h++)
                {
                    if (b + 1 < batch) Prefetch(pqkv + (nint)(b + 1) * L * ld, L * ld, h, NHead);
                    if (b + 1 < batch || h + 1 < NHead) Prefetch(pAtt + _attBase + ((nint)b * NHead + h + 1) * L * lp, L * lp, 0, 1);
                    T* q = pqkv + (nint)b * L * ld + h * hs, k = q + d, v = q + 2 * d;
                    T* a = pAtt + _attBase + ((nint)b * NHead + h) * L * lp;
                    var block = new Span<T>(a, L * lp);
                    // kᵀ [hs, Lp] (pad columns stay zero)
                    Transpose(k, ld, pkT, lp, L, hs);
                    // S = q kᵀ (the 1/sqrt(hs) comes next), started from the additive mask (softmax) or zero (linear)
                    if (Softmax) new ReadOnlySpan<T>(pMask, L * lp).CopyTo(block);
                    else block.Clear();
                    SmallGemm.Run(q, ld, 1, pkT, lp, a, lp, L, lp, hs, accumulate: true, rowSkip);
                    // A = softmax(S / sqrt(hs) + mask) | (S / sqrt(hs)) ∘ M
                    if (Softmax) SoftmaxRows(a, L, lp);
                    else TensorPrimitives.Multiply(block, new ReadOnlySpan<T>(pMaskS, L * lp), block);
                    // o_h = A v
                    SmallGemm.Run(a, lp, 1, v, ld, po + (nint)b * L * d + h * hs, d, L, hs, L, accumulate: false, kSkip);
                }
        }
        StepProfiler.Stop("attn.fwd.heads", t0); t0 = StepProfiler.Start();
        // y = c_proj(o)
        CProj.Forward(_o.AsSpan(0, n), y, rows);
        StepProfiler.Stop("attn.fwd.c_proj", t0);
    }

    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int batch, int length)
    {
        // dy [B·L, d] -> do [B·L, d] -> per head dA, dS [L, Lp] -> dqkv [B·L, 3d] -> dx [B·L, d] (added)
        int rows = batch * length, d = _d, hs = _hs, L = length, lp = PaddedLength(length);
        int n = rows * d;
        if (dy.Length < n || dx.Length < n || x.Length < n)
            throw new ArgumentException($"x, dy and dx need batch·length·d = {n} values (have {x.Length}, {dy.Length}, {dx.Length})");
        if (_o.Length < n || _att.Length - _attBase < (long)batch * NHead * L * lp)
            throw new InvalidOperationException($"Backward for batch {batch}, length {length} without a Forward of that shape");
        Prepare(L, lp);
        var dO = Workspace<T>.Get(0, n).AsSpan(0, n);
        var dqkv = Workspace<T>.Get(1, 3L * n).AsSpan(0, 3 * n);
        var dA = Workspace<T>.Get(2, (long)L * lp);
        long t0 = StepProfiler.Start();
        // y = c_proj(o):  dW_proj += dyᵀ o,  db_proj += Σ dy,  do = dy W_proj
        CProj.Backward(_o.AsSpan(0, n), dy, dO, rows, accumulateDx: false);
        StepProfiler.Stop("attn.bwd.c_proj", t0); t0 = StepProfiler.Start();
        nint ld = 3 * d;
        var rowSkip = Causal ? TriangleSkip.NUpToRow : TriangleSkip.None;
        var kUp = Causal ? TriangleSkip.KUpToRow : TriangleSkip.None;
        var kFrom = Causal ? TriangleSkip.KFromRow : TriangleSkip.None;
        fixed (T* pqkv = _qkv, pAtt = _att, pdo = dO, pd = dqkv, pvT = _packT, pg = dA, pMaskS = _maskScaled)
        {
            var g = new Span<T>(pg, L * lp);
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < NHead; h++)
                {
                    if (b + 1 < batch)
                    {
                        Prefetch(pqkv + (nint)(b + 1) * L * ld, L * ld, h, NHead);
                        Prefetch(pdo + (nint)(b + 1) * L * d, L * d, h, NHead);
                    }
                    if (b + 1 < batch || h + 1 < NHead) Prefetch(pAtt + _attBase + ((nint)b * NHead + h + 1) * L * lp, L * lp, 0, 1);
                    nint off = (nint)b * L * ld + h * hs;
                    T* q = pqkv + off, k = q + d, v = q + 2 * d;
                    T* dq = pd + off, dk = dq + d, dv = dq + 2 * d;
                    T* a = pAtt + _attBase + ((nint)b * NHead + h) * L * lp;
                    T* doh = pdo + (nint)b * L * d + h * hs;
                    // vᵀ [hs, Lp] (pad columns stay zero)
                    Transpose(v, ld, pvT, lp, L, hs);
                    // o_h = A v:  dA = do vᵀ,  dv = Aᵀ do
                    g.Clear();
                    SmallGemm.Run(doh, d, 1, pvT, lp, pg, lp, L, lp, hs, accumulate: true, rowSkip);
                    SmallGemm.Run(a, 1, lp, doh, d, dv, ld, L, hs, L, accumulate: false, kFrom);
                    // G = dS / sqrt(hs):  softmax dS = A ∘ (dA − rowsum(dA ∘ A));  linear dS = dA ∘ M
                    if (Softmax)
                        for (int i = 0; i < L; i++) SoftmaxKernel.RowBackward(new ReadOnlySpan<T>(a + i * lp, lp), g.Slice(i * lp, lp), _scale);
                    else TensorPrimitives.Multiply(g, new ReadOnlySpan<T>(pMaskS, L * lp), g);
                    // S = q kᵀ / sqrt(hs):  dq = G k,  dk = Gᵀ q
                    SmallGemm.Run(pg, lp, 1, k, ld, dq, ld, L, hs, L, accumulate: false, kUp);
                    SmallGemm.Run(pg, 1, lp, q, ld, dk, ld, L, hs, L, accumulate: false, kFrom);
                }
        }
        StepProfiler.Stop("attn.bwd.heads", t0); t0 = StepProfiler.Start();
        // [q | k | v] = c_attn(x):  dW_attn += dqkvᵀ x,  db_attn += Σ dqkv,  dx += dqkv W_attn
        CAttn.Backward(x, dqkv, dx, rows, accumulateDx: true);
        StepProfiler.Stop("attn.bwd.c_attn", t0);
    }

    /// <summary>
    /// Forward-mode tangent at Forward's point (qkv, A and o still cached):
    /// <code>
    /// [dq | dk | dv] = c_attn'(x; dx, v)
    /// dS = (dq kᵀ + q dkᵀ) / sqrt(hs)
    /// dA = A ∘ (dS − rowsum(A ∘ dS))      softmax (the softmax Jacobian is symmetric: the backward's row kernel)
    /// dA = dS ∘ M                         linear
    /// do_h = dA v + A dv,   dy = c_proj'(o; do, v)
    /// </code>
    /// Overwrites dy; dx may be empty (zero).
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int batch, int length)
    {
        int rows = batch * length, d = _d, hs = _hs, L = length, lp = PaddedLength(length);
        int n = rows * d;
        if (x.Length < n || dy.Length < n || (!dx.IsEmpty && dx.Length < n))
            throw new ArgumentException($"x, dx and dy need batch·length·d = {n} values (have {x.Length}, {dx.Length}, {dy.Length})");
        if (_o.Length < n || _att.Length - _attBase < (long)batch * NHead * L * lp)
            throw new InvalidOperationException($"ForwardTangent for batch {batch}, length {length} without a Forward of that shape");
        Prepare(L, lp);
        var dqkv = Buffers.Ensure(ref _tQkv, 3L * n).AsSpan(0, 3 * n);
        var dO = Buffers.Ensure(ref _tO, n).AsSpan(0, n);
        Buffers.Ensure(ref _tS, (long)L * lp);
        Buffers.Ensure(ref _tPackT, (long)hs * lp);
        _tPackT.AsSpan(0, hs * lp).Clear();
        long t0 = StepProfiler.Start();
        // [q | k | v] = c_attn(x)
        CAttn.ForwardTangent(x, dx, v, dqkv, rows);
        StepProfiler.Stop("attn.tangent.c_attn", t0); t0 = StepProfiler.Start();
        nint ld = 3 * d;
        var rowSkip = Causal ? TriangleSkip.NUpToRow : TriangleSkip.None;
        var kSkip = Causal ? TriangleSkip.KUpToRow : TriangleSkip.None;
        fixed (T* pqkv = _qkv, pAtt = _att, pd = dqkv, pdo = dO, pkT = _packT, pdkT = _tPackT, ps = _tS, pMaskS = _maskScaled)
        {
            var block = new Span<T>(ps, L * lp);
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < NHead; h++)
                {
                    nint off = (nint)b * L * ld + h * hs;
                    T* q = pqkv + off, k = q + d, vv = q + 2 * d;
                    T* dq = pd + off, dk = dq + d, dv = dq + 2 * d;
                    T* a = pAtt + _attBase + ((nint)b * NHead + h) * L * lp;
                    T* doh = pdo + (nint)b * L * d + h * hs;
                    // kᵀ, dkᵀ [hs, Lp] (pad columns stay zero)
                    Transpose(k, ld, pkT, lp, L, hs);
                    Transpose(dk, ld, pdkT, lp, L, hs);
                    // S = q kᵀ:  dS = dq kᵀ + q dkᵀ (the 1/sqrt(hs) comes next)
                    block.Clear();
                    SmallGemm.Run(dq, ld, 1, pkT, lp, ps, lp, L, lp, hs, accumulate: true, rowSkip);
                    SmallGemm.Run(q, ld, 1, pdkT, lp, ps, lp, L, lp, hs, accumulate: true, rowSkip);
                    // A = softmax(S / sqrt(hs) + mask):  dA = A ∘ (G − rowsum(A ∘ G)), G = dS / sqrt(hs);  linear: dA = dS ∘ M / sqrt(hs)
                    if (Softmax)
                        for (int i = 0; i < L; i++) SoftmaxKernel.RowBackward(new ReadOnlySpan<T>(a + i * lp, lp), block.Slice(i * lp, lp), _scale);
                    else TensorPrimitives.Multiply(block, new ReadOnlySpan<T>(pMaskS, L * lp), block);
                    // o_h = A v:  do_h = dA v + A dv
                    SmallGemm.Run(ps, lp, 1, vv, ld, doh, d, L, hs, L, accumulate: false, kSkip);
                    SmallGemm.Run(a, lp, 1, dv, ld, doh, d, L, hs, L, accumulate: true, kSkip);
                }
        }
        StepProfiler.Stop("attn.tangent.heads", t0); t0 = StepProfiler.Start();
        // y = c_proj(o)
        CProj.ForwardTangent(_o.AsSpan(0, n), dO, v, dy, rows);
        StepProfiler.Stop("attn.tangent.c_proj", t0);
    }

    /// <summary>
    /// Multiply-adds of one forward: the projections (3d² + d² per token) and the per-head products q kᵀ and A v,
    /// counting only unmasked entries when causal (L(L+1)/2 per product and channel) and L² otherwise.
    /// Softmax exponentials are not counted.
    /// </summary>
    public long ForwardMultiplyAdds(int batch, int length)
    {
        long rows = (long)batch * length;
        long pairs = Causal ? (long)length * (length + 1) / 2 : (long)length * length;
        return CAttn.MultiplyAdds(rows) + CProj.MultiplyAdds(rows) + 2L * batch * pairs * _d;
    }

    private static void EnsureAligned(ref T[] buffer, ref int offset, long length)
    {
        if (buffer.Length - offset >= length) return;
        int slack = 64 / sizeof(T);
        buffer = GC.AllocateArray<T>(checked((int)length + slack), pinned: true);
        fixed (T* p = buffer) offset = (int)((64 - (nint)p % 64) % 64) / sizeof(T);
    }

    // Per-length state: the pack buffer (pad columns zero), the masks and the softmax row lengths, rebuilt when
    // the length changes.
    // Softmax: _mask is additive (0 where a key is visible, -inf where masked or padding).
    // _maskScaled is 1/sqrt(hs) where visible and 0 elsewhere: linear A = S ∘ _maskScaled, and its dS likewise.
    private void Prepare(int L, int lp)
    {
        Buffers.Ensure(ref _packT, (long)_hs * lp);
        _packT.AsSpan(0, _hs * lp).Clear();
        if (L == _maskLength) return;
        Buffers.Ensure(ref _mask, (long)L * lp); Buffers.Ensure(ref _maskScaled, (long)L * lp); Buffers.Ensure(ref _rowLengths, L);
        for (int i = 0; i < L; i++) _rowLengths[i] = Causal ? Math.Min(lp, (i + Grain) / Grain * Grain) : lp;
        for (int i = 0; i < L; i++)
            for (int j = 0; j < lp; j++)
            {
                bool visible = j < L && (!Causal || j <= i);
                _mask[i * lp + j] = visible ? T.Zero : T.NegativeInfinity;
                _maskScaled[i * lp + j] = visible ? _scale : T.Zero;
            }
        _maskLength = L;
    }

    // Rows of s [L, Lp] (masked entries -inf) become softmax rows of s / sqrt(hs): exp((s − max)/sqrt(hs)) / Σ,
    // masked entries exactly 0. Causal row i works on its first i+1 entries rounded up to whole vectors
    // (_rowLengths) and the kernel clears the rest. SoftmaxKernel gives the same bits on every call.
    private void SoftmaxRows(T* s, int L, int lp) =>
        SoftmaxKernel.Rows(new Span<T>(s, L * lp), L, lp, _rowLengths.AsSpan(0, L), _scale);

    // dst[c, j] = src[j, c] for j < rows, c < cols: src rows are ldSrc apart, dst rows ldDst. Written along dst
    // rows (faster than along src rows for a 21 x 16 head in a microbenchmark).
    private static void Transpose(T* src, nint ldSrc, T* dst, nint ldDst, int rows, int cols)
    {
        for (int c = 0; c < cols; c++)
        {
            T* sc = src + c, dc = dst + c * ldDst;
            for (int j = 0; j < rows; j++) dc[j] = sc[j * ldSrc];
        }
    }

    // Touches part `part` of `parts` of a region the head loop reads next: the next batch entry's qkv rows sit 3d
    // apart, a stride the hardware prefetcher does not follow, and the A blocks and do rows are first touched
    // there too; without it the loop waits on memory (the kᵀ transpose ran 2x slower at batch 1024).
    // x86 only; elsewhere a no-op.
    private static void Prefetch(T* start, long count, int part, int parts)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        long bytes = count * sizeof(T), size = (bytes / parts + 63) / 64 * 64;
        byte* p = (byte*)start;
        for (long off = part * size, end = Math.Min(bytes, (part + 1) * size); off < end; off += 64)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + off);
    }
}
