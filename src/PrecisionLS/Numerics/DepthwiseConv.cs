using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Depthwise 1-D convolution along the token axis with a kernel as long as the sequence (the "short" conv of
/// BaseConv), on token-major data [batch, length, channels]:
/// <code>y[b,t,c] = bias[c] + Σ_j w[j,c]·x[b, t+j-pad, c] (+ x[b,t,c] when resid)</code>
/// (REFERENCE §2). Out-of-range taps read zero. Causal: pad = K-1, so w[K-1] multiplies the current token.
/// Non-causal: pad = K/2 (PyTorch padding K//2 keeping the first L outputs).
/// Optionally gated: g[b,t,c] = y[b,t,c]·gate[b,t,c] is written alongside y (BaseConv's Conv(z) * proj(u)).
/// </summary>
/// <remarks>
/// w is tap-major [K, channels] (the transpose of PyTorch's [channels, 1, K]) so a tap is one vector load.
/// Channels are split over the worker pool; each channel's sums run in a fixed order (batch, then token),
/// so results do not depend on the thread count.
/// </remarks>
public static unsafe class DepthwiseConv
{
    /// <summary>Shapes and options of one convolution call.</summary>
    /// <param name="Batch">Batch entries.</param>
    /// <param name="Length">Tokens per entry (L).</param>
    /// <param name="Channels">Channels convolved (d).</param>
    /// <param name="Kernel">Taps K (l_max).</param>
    /// <param name="Pad">Left padding: K-1 causal, K/2 non-causal.</param>
    /// <param name="Resid">Add the input to the output (the authors' "+ x" inside the conv).</param>
    /// <param name="InStride">Row stride of x, gate, dx and dGate (0 = Channels): lets the conv read z and p
    /// straight out of a fused [rows, 2·channels] projection.</param>
    /// <param name="OutStride">Row stride of y, g and dOut (0 = Channels).</param>
    public readonly record struct Shape(int Batch, int Length, int Channels, int Kernel, int Pad, bool Resid, int InStride = 0, int OutStride = 0)
    {
        public int Si => InStride > 0 ? InStride : Channels;
        public int So => OutStride > 0 ? OutStride : Channels;
        /// <summary>Span length x, gate, dx and dGate need: the last row ends at its channel count.</summary>
        public long InElements => (long)Batch * Length == 0 ? 0 : ((long)Batch * Length - 1) * Si + Channels;
        /// <summary>Span length y, g and dOut need.</summary>
        public long OutElements => (long)Batch * Length == 0 ? 0 : ((long)Batch * Length - 1) * So + Channels;
        public void Validate()
        {
            if (Batch < 0 || Length < 0 || Channels < 0 || Kernel < 1)
                throw new ArgumentException($"invalid convolution shape: batch {Batch}, length {Length}, channels {Channels}, kernel {Kernel}");
            if (Pad < 0 || Pad > Kernel - 1)
                throw new ArgumentException($"pad {Pad} must be in [0, kernel-1 = {Kernel - 1}]");
            if (Si < Channels || So < Channels)
                throw new ArgumentException($"row strides ({Si}, {So}) must be at least the channel count {Channels}");
        }
        /// <summary>Multiply-adds of the taps that touch data (forward).</summary>
        public long MultiplyAdds
        {
            get
            {
                long taps = 0;
                for (int t = 0; t < Length; t++) taps += Math.Min(Kernel - 1, Length - 1 + Pad - t) - Math.Max(0, Pad - t) + 1;
                return taps * Batch * Channels;
            }
        }
    }

    /// <summary>Converts PyTorch's depthwise weight [channels, 1, K] to tap-major [K, channels].</summary>
    public static void ToTapMajor<T>(ReadOnlySpan<T> weight, Span<T> wT, int channels, int kernel)
    {
        for (int c = 0; c < channels; c++)
            for (int j = 0; j < kernel; j++) wT[j * channels + c] = weight[c * kernel + j];
    }

    /// <summary>Adds a tap-major gradient [K, channels] into PyTorch layout [channels, 1, K].</summary>
    public static void AddFromTapMajor<T>(ReadOnlySpan<T> dwT, Span<T> dWeight, int channels, int kernel) where T : INumber<T>
    {
        for (int c = 0; c < channels; c++)
            for (int j = 0; j < kernel; j++) dWeight[c * kernel + j] += dwT[j * channels + c];
    }

    /// <summary>
    /// Forward: y = conv(x) (+ x) + bias, and g = y·gate when gate is not empty. Overwrites y (and g).
    /// x, y, gate, g: [batch, length, channels]; wT: [K, channels]; bias: [channels] or empty.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> bias, Span<T> y,
        ReadOnlySpan<T> gate, Span<T> g, Shape s) where T : unmanaged, INumber<T>
    {
        s.Validate();
        CheckLen(x.Length, s.InElements, "x"); CheckLen(y.Length, s.OutElements, "y");
        CheckLen(wT.Length, (long)s.Kernel * s.Channels, "wT");
        if (!bias.IsEmpty) CheckLen(bias.Length, s.Channels, "bias");
        if (!gate.IsEmpty) { CheckLen(gate.Length, s.InElements, "gate"); CheckLen(g.Length, s.OutElements, "g"); }
        fixed (T* px = x, pw = wT, pb = bias, py = y, pgate = gate, pg = g)
        {
            var args = new Args<T>(px, pw, pb, py, pgate, pg, null, null, null, s);
            ParallelFor.Run(s.Batch, MinBatch(s), in args, &ForwardRange<T>);
        }
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>. With a gate, dOut is dg and the conv's output gradient is dg·gate;
    /// dGate (overwritten) receives dg·y where y is the forward's conv output. Without a gate, dOut is dy.
    /// Accumulates dx += ..., dwT += ..., dbias += ... (dbias may be empty).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> dOut,
        ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate,
        Span<T> dx, Span<T> dwT, Span<T> dbias, Shape s, bool accumulateDx = true) where T : unmanaged, INumber<T>
    {
        s.Validate();
        CheckLen(x.Length, s.InElements, "x"); CheckLen(dOut.Length, s.OutElements, "dOut"); CheckLen(dx.Length, s.InElements, "dx");
        CheckLen(dwT.Length, (long)s.Kernel * s.Channels, "dwT");
        if (!gate.IsEmpty) { CheckLen(gate.Length, s.InElements, "gate"); CheckLen(y.Length, s.OutElements, "y"); CheckLen(dGate.Length, s.InElements, "dGate"); }
        int chunks = ChunksFor(s.Batch);
        int kc = s.Kernel * s.Channels, partialSize = kc + s.Channels;
        Span<T> partial = Scratch<T>.Get(chunks * partialSize, slot: 2);
        partial.Clear();
        fixed (T* px = x, pw = wT, pdo = dOut, pgate = gate, py = y, pdg = dGate, pdx = dx, pp = partial)
        {
            var args = new Args<T>(px, pw, null, py, pgate, pdg, pdo, pdx, pp, s) { AccumulateDx = accumulateDx };
            ParallelFor.Run(chunks, 1, in args, &BackwardRange<T>);
        }
        for (int ch = 0; ch < chunks; ch++)
        {
            var part = partial.Slice(ch * partialSize, partialSize);
            for (int i = 0; i < kc; i++) dwT[i] += part[i];
            if (!dbias.IsEmpty) for (int c = 0; c < s.Channels; c++) dbias[c] += part[kc + c];
        }
    }

    // Kernel arguments. Forward: x, w, bias, y, gate, g. Backward: x, w, y (conv output), gate, g = dGate,
    // dOut, dx and dw = the per-chunk partial sums of dw and dbias.
    private readonly struct Args<T>(T* x, T* w, T* bias, T* y, T* gate, T* g, T* dOut, T* dx, T* dw, Shape s)
        where T : unmanaged
    {
        public readonly T* X = x, W = w, Bias = bias, Y = y, Gate = gate, G = g, DOut = dOut, Dx = dx, Dw = dw;
        public readonly Shape S = s;
        public bool AccumulateDx { get; init; } = true;
    }

    // Channels are processed in blocks of up to 4 SIMD vectors: four independent accumulator chains per tap
    // loop, so the loops are bound by loads rather than by the latency of one running sum.
    private const int BlockVectors = 4;

    private static int Width<T>() where T : unmanaged => Gemm.VectorWidth<T>() == int.MaxValue ? 1 : Gemm.VectorWidth<T>();
    private static int BlockChannels<T>() where T : unmanaged => Width<T>() == 1 ? 8 : BlockVectors * Width<T>();
    private static int MinBatch(Shape s) => (int)Math.Max(1, 20_000 / Math.Max(1, (long)s.Length * s.Kernel * s.Channels));

    // Backward splits the batch into this many fixed chunks, each with its own dw/dbias partial sums added in
    // chunk order afterwards: the sums do not depend on the thread count.
    private static int ChunksFor(int batch) => Math.Clamp(batch / 64, 1, 16);   // a function of the batch only

    private static void CheckLen(long have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the convolution needs {need}", name);
    }

    // Work is split by batch entry (rows are contiguous, so each worker streams its own memory).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRange<T>(in Args<T> a, int b0, int b1) where T : unmanaged, INumber<T>
    {
        if (SimdInfo.Use512<T>()) ForwardBlocks<Simd512<T>, Vector512<T>, T>(a, b0, b1);
        else if (SimdInfo.Use256<T>()) ForwardBlocks<Simd256<T>, Vector256<T>, T>(a, b0, b1);
        else ForwardScalar(a, b0, b1, 0, a.S.Channels);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlocks<TS, TV, T>(in Args<T> a, int b0, int b1)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        Shape s = a.S;
        int C = s.Channels, L = s.Length, K = s.Kernel, P = s.Pad, w = TS.Count, Si = s.Si, So = s.So;
        T* X = a.X, W = a.W, Bias = a.Bias, Y = a.Y, Gate = a.Gate, G = a.G;
        int cEnd = C;
        for (int c0 = 0; c0 < cEnd; c0 += BlockVectors * w)
        {
            int nv = Math.Min(BlockVectors, (cEnd - c0) / w);
            if (nv > 0)
                for (int b = b0; b < b1; b++)
                {
                    T* xb = X + (long)b * L * Si + c0, yb = Y + (long)b * L * So + c0;
                    for (int t = 0; t < L; t++)
                    {
                        int jMin = Math.Max(0, P - t), jMax = Math.Min(K - 1, L - 1 + P - t);
                        TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
                        if (Bias != null)
                        {
                            a0 = TS.Load(Bias + c0);
                            if (nv > 1) a1 = TS.Load(Bias + c0 + w);
                            if (nv > 2) a2 = TS.Load(Bias + c0 + 2 * w);
                            if (nv > 3) a3 = TS.Load(Bias + c0 + 3 * w);
                        }
                        TapSum<TS, TV, T>(W + (long)jMin * C + c0, xb + (long)(t + jMin - P) * Si, C, Si, jMax - jMin + 1, nv, w,
                            ref a0, ref a1, ref a2, ref a3);
                        T* xt = xb + (long)t * Si, yt = yb + (long)t * So;
                        if (s.Resid)
                        {
                            a0 = TS.Add(a0, TS.Load(xt));
                            if (nv > 1) a1 = TS.Add(a1, TS.Load(xt + w));
                            if (nv > 2) a2 = TS.Add(a2, TS.Load(xt + 2 * w));
                            if (nv > 3) a3 = TS.Add(a3, TS.Load(xt + 3 * w));
                        }
                        TS.Store(a0, yt);
                        if (nv > 1) TS.Store(a1, yt + w);
                        if (nv > 2) TS.Store(a2, yt + 2 * w);
                        if (nv > 3) TS.Store(a3, yt + 3 * w);
                        if (Gate != null)
                        {
                            T* gi = Gate + (long)b * L * Si + (long)t * Si + c0;
                            T* go = G + (long)b * L * So + (long)t * So + c0;
                            TS.Store(TS.Multiply(a0, TS.Load(gi)), go);
                            if (nv > 1) TS.Store(TS.Multiply(a1, TS.Load(gi + w)), go + w);
                            if (nv > 2) TS.Store(TS.Multiply(a2, TS.Load(gi + 2 * w)), go + 2 * w);
                            if (nv > 3) TS.Store(TS.Multiply(a3, TS.Load(gi + 3 * w)), go + 3 * w);
                        }
                    }
                }
            // Channels left over after whole vectors.
            int cs = c0 + nv * w, ce = Math.Min(cEnd, c0 + BlockVectors * w);
            if (cs < ce) ForwardScalar(a, b0, b1, cs, ce);
        }
    }

    // dx[u] += Σ_j w[j]·dz[u - j + pad] (+ dz[u] when resid), for one batch entry and one channel block.
    // Separate small methods keep the loop variables in registers (one large method spilled them to the stack).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void InputGradient<TS, TV, T>(T* W, T* dz, T* dx, int C, int ldx, int cw, int L, int K, int P, int nv, bool resid, bool accumulate)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        nint w = TS.Count;
        for (int u = 0; u < L; u++)
        {
            int jMin = Math.Max(0, u + P - (L - 1)), jMax = Math.Min(K - 1, u + P);
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
            if (resid)
            {
                T* dzu = dz + u * cw;
                a0 = TS.Load(dzu);
                if (nv > 1) a1 = TS.Load(dzu + w);
                if (nv > 2) a2 = TS.Load(dzu + 2 * w);
                if (nv > 3) a3 = TS.Load(dzu + 3 * w);
            }
            // taps j = jMin..jMax pair w[j] with dz[u - j + pad]: w walks forward, dz backward
            TapSum<TS, TV, T>(W + (long)jMin * C, dz + (u - jMin + P) * cw, C, -cw, jMax - jMin + 1, nv, w,
                ref a0, ref a1, ref a2, ref a3);
            T* dxu = dx + (long)u * ldx;
            if (accumulate)
            {
                a0 = TS.Add(TS.Load(dxu), a0);
                if (nv > 1) a1 = TS.Add(TS.Load(dxu + w), a1);
                if (nv > 2) a2 = TS.Add(TS.Load(dxu + 2 * w), a2);
                if (nv > 3) a3 = TS.Add(TS.Load(dxu + 3 * w), a3);
            }
            TS.Store(a0, dxu);
            if (nv > 1) TS.Store(a1, dxu + w);
            if (nv > 2) TS.Store(a2, dxu + 2 * w);
            if (nv > 3) TS.Store(a3, dxu + 3 * w);
        }
    }

    // dw[j] += Σ_t dz[t]·x[t + j - pad], for one batch entry and one channel block.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradient<TS, TV, T>(T* dz, T* x, T* dw, int C, int ldx, int cw, int L, int K, int P, int nv)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        nint w = TS.Count;
        for (int j = 0; j < K; j++)
        {
            int tMin = Math.Max(0, P - j), tMax = Math.Min(L - 1, L - 1 + P - j);
            if (tMin > tMax) continue;
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
            TapSum<TS, TV, T>(dz + tMin * cw, x + (long)(tMin + j - P) * ldx, cw, ldx, tMax - tMin + 1, nv, w,
                ref a0, ref a1, ref a2, ref a3);
            T* dwj = dw + (long)j * C;
            TS.Store(TS.Add(TS.Load(dwj), a0), dwj);
            if (nv > 1) TS.Store(TS.Add(TS.Load(dwj + w), a1), dwj + w);
            if (nv > 2) TS.Store(TS.Add(TS.Load(dwj + 2 * w), a2), dwj + 2 * w);
            if (nv > 3) TS.Store(TS.Add(TS.Load(dwj + 3 * w), a3), dwj + 3 * w);
        }
    }

    /// <summary>
    /// acc_v += Σ_{i &lt; count} p[i·strideP + v·w] · q[i·strideQ + v·w] for the block's nv (1..4) vectors:
    /// the inner loop of every convolution sum, with a branch-free path for full blocks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapSum<TS, TV, T>(T* p, T* q, nint strideP, nint strideQ, int count, int nv, nint w,
        ref TV a0, ref TV a1, ref TV a2, ref TV a3)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        TV s0 = a0, s1 = a1, s2 = a2, s3 = a3;
        if (nv == 4)
        {
            // Two taps per iteration into separate sums: eight independent FMA chains hide the FMA latency.
            TV e0 = TS.Zero, e1 = TS.Zero, e2 = TS.Zero, e3 = TS.Zero;
            int i = 0;
            for (; i + 1 < count; i += 2, p += 2 * strideP, q += 2 * strideQ)
            {
                s0 = TS.Fma(TS.Load(p), TS.Load(q), s0);
                s1 = TS.Fma(TS.Load(p + w), TS.Load(q + w), s1);
                s2 = TS.Fma(TS.Load(p + 2 * w), TS.Load(q + 2 * w), s2);
                s3 = TS.Fma(TS.Load(p + 3 * w), TS.Load(q + 3 * w), s3);
                T* p1 = p + strideP, q1 = q + strideQ;
                e0 = TS.Fma(TS.Load(p1), TS.Load(q1), e0);
                e1 = TS.Fma(TS.Load(p1 + w), TS.Load(q1 + w), e1);
                e2 = TS.Fma(TS.Load(p1 + 2 * w), TS.Load(q1 + 2 * w), e2);
                e3 = TS.Fma(TS.Load(p1 + 3 * w), TS.Load(q1 + 3 * w), e3);
            }
            if (i < count)
            {
                s0 = TS.Fma(TS.Load(p), TS.Load(q), s0);
                s1 = TS.Fma(TS.Load(p + w), TS.Load(q + w), s1);
                s2 = TS.Fma(TS.Load(p + 2 * w), TS.Load(q + 2 * w), s2);
                s3 = TS.Fma(TS.Load(p + 3 * w), TS.Load(q + 3 * w), s3);
            }
            s0 = TS.Add(s0, e0); s1 = TS.Add(s1, e1); s2 = TS.Add(s2, e2); s3 = TS.Add(s3, e3);
        }
        else
        {
            for (int i = 0; i < count; i++, p += strideP, q += strideQ)
            {
                s0 = TS.Fma(TS.Load(p), TS.Load(q), s0);
                if (nv > 1) s1 = TS.Fma(TS.Load(p + w), TS.Load(q + w), s1);
                if (nv > 2) s2 = TS.Fma(TS.Load(p + 2 * w), TS.Load(q + 2 * w), s2);
            }
        }
        a0 = s0; a1 = s1; a2 = s2; a3 = s3;
    }

    private static void ForwardScalar<T>(in Args<T> a, int b0, int b1, int c0, int c1) where T : unmanaged, INumber<T>
    {
        Shape s = a.S;
        int C = s.Channels, L = s.Length, K = s.Kernel, P = s.Pad, Si = s.Si, So = s.So;
        for (int b = b0; b < b1; b++)
        {
            long in0 = (long)b * L * Si, out0 = (long)b * L * So;
            for (int t = 0; t < L; t++)
            {
                int jMin = Math.Max(0, P - t), jMax = Math.Min(K - 1, L - 1 + P - t);
                for (int c = c0; c < c1; c++)
                {
                    T acc = a.Bias != null ? a.Bias[c] : T.Zero;
                    for (int j = jMin; j <= jMax; j++) acc += a.W[(long)j * C + c] * a.X[in0 + (long)(t + j - P) * Si + c];
                    if (s.Resid) acc += a.X[in0 + (long)t * Si + c];
                    long o = out0 + (long)t * So + c;
                    a.Y[o] = acc;
                    if (a.Gate != null) a.G[o] = acc * a.Gate[in0 + (long)t * Si + c];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRange<T>(in Args<T> a, int ch0, int ch1) where T : unmanaged, INumber<T>
    {
        int chunks = ChunksFor(a.S.Batch);
        for (int ch = ch0; ch < ch1; ch++)
        {
            int b0 = (int)((long)a.S.Batch * ch / chunks), b1 = (int)((long)a.S.Batch * (ch + 1) / chunks);
            T* dw = a.Dw + (long)ch * (a.S.Kernel * a.S.Channels + a.S.Channels);
            T* db = dw + a.S.Kernel * a.S.Channels;
            for (int c0 = 0; c0 < a.S.Channels; c0 += BlockChannels<T>())
            {
                int c1 = Math.Min(a.S.Channels, c0 + BlockChannels<T>());
                if (SimdInfo.Use512<T>()) BackwardBlock<Simd512<T>, Vector512<T>, T>(a, b0, b1, c0, c1, dw, db);
                else if (SimdInfo.Use256<T>()) BackwardBlock<Simd256<T>, Vector256<T>, T>(a, b0, b1, c0, c1, dw, db);
                else BackwardBlock<NoSimd<T>, T, T>(a, b0, b1, c0, c1, dw, db);
            }
        }
    }

    // Batch entries [b0, b1), channels [c0, c1): for each entry, dz = dOut·gate (or dOut) into a [L, block]
    // scratch, then dx, and the chunk's partial dw ([K, C]) and dbias ([C]).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardBlock<TS, TV, T>(in Args<T> a, int b0, int b1, int c0, int c1, T* Dw, T* DBias)
        where TS : struct, ISimdVector<TS, TV, T> where TV : struct where T : unmanaged, INumber<T>
    {
        Shape s = a.S;
        int C = s.Channels, L = s.Length, K = s.Kernel, P = s.Pad, w = TS.Count, Si = s.Si, So = s.So;
        int cw = c1 - c0, nv = Math.Min(BlockVectors, cw / w);
        int cv = nv * w;                     // channels handled with vectors; the rest scalar
        Span<T> dzSpan = Scratch<T>.Get(L * cw, slot: 1);
        fixed (T* dz = dzSpan)
        {
            T* X = a.X, W = a.W, DOut = a.DOut, Gate = a.Gate, Y = a.Y, DGate = a.G, Dx = a.Dx;
            for (int b = b0; b < b1; b++)
            {
                long row0 = (long)b * L * Si + c0, out0 = (long)b * L * So + c0;
                for (int t = 0; t < L; t++)
                {
                    long o = out0 + (long)t * So, oi = row0 + (long)t * Si;
                    T* dzt = dz + t * cw;
                    int c = 0;
                    if (Gate != null)
                    {
                        for (; c + w <= cw; c += w)
                        {
                            TV d = TS.Load(DOut + o + c);
                            TS.Store(TS.Multiply(d, TS.Load(Y + o + c)), DGate + oi + c);
                            TS.Store(TS.Multiply(d, TS.Load(Gate + oi + c)), dzt + c);
                        }
                        for (; c < cw; c++) { T d = DOut[o + c]; DGate[oi + c] = d * Y[o + c]; dzt[c] = d * Gate[oi + c]; }
                    }
                    else
                        for (; c < cw; c++) dzt[c] = DOut[o + c];
                }
                // dbias += Σ_t dz[t]: whole vectors summed down the rows, then the leftover channels.
                for (int c = 0; c + w <= cw; c += w)
                {
                    TV sum = TS.Zero;
                    for (int t = 0; t < L; t++) sum = TS.Add(sum, TS.Load(dz + t * cw + c));
                    TS.Store(TS.Add(TS.Load(DBias + c0 + c), sum), DBias + c0 + c);
                }
                for (int c = cw / w * w; c < cw; c++)
                    for (int t = 0; t < L; t++) DBias[c0 + c] += dz[t * cw + c];
                if (nv > 0)
                {
                    InputGradient<TS, TV, T>(W + c0, dz, Dx + row0, C, Si, cw, L, K, P, nv, s.Resid, a.AccumulateDx);
                    WeightGradient<TS, TV, T>(dz, X + row0, Dw + c0, C, Si, cw, L, K, P, nv);
                }
                // Scalar channels [cv, cw) of this block.
                for (int c = cv; c < cw; c++)
                {
                    for (int u = 0; u < L; u++)
                    {
                        T acc = s.Resid ? dz[u * cw + c] : T.Zero;
                        int jMin = Math.Max(0, u + P - (L - 1)), jMax = Math.Min(K - 1, u + P);
                        for (int j = jMin; j <= jMax; j++) acc += W[(long)j * C + c0 + c] * dz[(u - j + P) * cw + c];
                        Dx[row0 + (long)u * Si + c] = a.AccumulateDx ? Dx[row0 + (long)u * Si + c] + acc : acc;
                    }
                    for (int j = 0; j < K; j++)
                    {
                        int tMin = Math.Max(0, P - j), tMax = Math.Min(L - 1, L - 1 + P - j);
                        T acc = T.Zero;
                        for (int t = tMin; t <= tMax; t++) acc += dz[t * cw + c] * X[row0 + (long)(t + j - P) * Si + c];
                        Dw[(long)j * C + c0 + c] += acc;
                    }
                }
            }
        }
    }

    /// <summary>Reference forward: the formula as a plain loop (no gate, no threads), for tests.</summary>
    public static void ForwardReference<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> bias, Span<T> y, Shape s)
        where T : INumber<T>
    {
        int C = s.Channels, L = s.Length, K = s.Kernel, P = s.Pad;
        for (int b = 0; b < s.Batch; b++)
            for (int t = 0; t < L; t++)
                for (int c = 0; c < C; c++)
                {
                    T acc = bias.IsEmpty ? T.Zero : bias[c];
                    for (int j = 0; j < K; j++)
                    {
                        int src = t + j - P;
                        if (src >= 0 && src < L) acc += wT[j * C + c] * x[(b * L + src) * C + c];
                    }
                    if (s.Resid) acc += x[(b * L + t) * C + c];
                    y[(b * L + t) * C + c] = acc;
                }
    }
}
