using System.Numerics;

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
    public readonly record struct Shape(int Batch, int Length, int Channels, int Kernel, int Pad, bool Resid)
    {
        public void Validate()
        {
            if (Batch < 0 || Length < 0 || Channels < 0 || Kernel < 1)
                throw new ArgumentException($"invalid convolution shape: batch {Batch}, length {Length}, channels {Channels}, kernel {Kernel}");
            if (Pad < 0 || Pad > Kernel - 1)
                throw new ArgumentException($"pad {Pad} must be in [0, kernel-1 = {Kernel - 1}]");
        }
        public long Elements => (long)Batch * Length * Channels;
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
        CheckLen(x.Length, s.Elements, "x"); CheckLen(y.Length, s.Elements, "y");
        CheckLen(wT.Length, (long)s.Kernel * s.Channels, "wT");
        if (!bias.IsEmpty) CheckLen(bias.Length, s.Channels, "bias");
        if (!gate.IsEmpty) { CheckLen(gate.Length, s.Elements, "gate"); CheckLen(g.Length, s.Elements, "g"); }
        fixed (T* px = x, pw = wT, pb = bias, py = y, pgate = gate, pg = g)
        {
            var args = new Args<T>(px, pw, pb, py, pgate, pg, null, null, null, null, s);
            ParallelFor.Run(Groups<T>(s.Channels), MinGroups(s), in args, &ForwardRange<T>);
        }
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>. With a gate, dOut is dg and the conv's output gradient is dg·gate;
    /// dGate (overwritten) receives dg·y where y is the forward's conv output. Without a gate, dOut is dy.
    /// Accumulates dx += ..., dwT += ..., dbias += ... (dbias may be empty).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> dOut,
        ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate,
        Span<T> dx, Span<T> dwT, Span<T> dbias, Shape s) where T : unmanaged, INumber<T>
    {
        s.Validate();
        CheckLen(x.Length, s.Elements, "x"); CheckLen(dOut.Length, s.Elements, "dOut"); CheckLen(dx.Length, s.Elements, "dx");
        CheckLen(dwT.Length, (long)s.Kernel * s.Channels, "dwT");
        if (!gate.IsEmpty) { CheckLen(gate.Length, s.Elements, "gate"); CheckLen(y.Length, s.Elements, "y"); CheckLen(dGate.Length, s.Elements, "dGate"); }
        fixed (T* px = x, pw = wT, pdo = dOut, pgate = gate, py = y, pdg = dGate, pdx = dx, pdw = dwT, pdb = dbias)
        {
            var args = new Args<T>(px, pw, dbias.IsEmpty ? null : pdb, py, pgate, pdg, pdo, pdx, pdw, null, s);
            ParallelFor.Run(Groups<T>(s.Channels), MinGroups(s), in args, &BackwardRange<T>);
        }
    }

    private readonly struct Args<T>(T* x, T* w, T* bias, T* y, T* gate, T* g, T* dOut, T* dx, T* dw, T* unused, Shape s)
        where T : unmanaged
    {
        public readonly T* X = x, W = w, Bias = bias, Y = y, Gate = gate, G = g, DOut = dOut, Dx = dx, Dw = dw;
        public readonly Shape S = s;
        private readonly T* _unused = unused;
    }

    private static int Width<T>() where T : unmanaged => Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? Vector<T>.Count : 1;
    private static int Groups<T>(int channels) where T : unmanaged => (channels + Width<T>() - 1) / Width<T>();
    private static int MinGroups(Shape s) => (int)Math.Max(1, 20_000 / Math.Max(1, (long)s.Batch * s.Length * s.Kernel));

    private static void CheckLen(long have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the convolution needs {need}", name);
    }

    private static void ForwardRange<T>(in Args<T> a, int g0, int g1) where T : unmanaged, INumber<T>
    {
        int w = Width<T>();
        Shape s = a.S;
        int C = s.Channels, L = s.Length, K = s.Kernel, P = s.Pad;
        int c0 = g0 * w, c1 = Math.Min(C, g1 * w);
        for (int b = 0; b < s.Batch; b++)
        {
            long row0 = (long)b * L * C;
            for (int t = 0; t < L; t++)
            {
                int jMin = Math.Max(0, P - t), jMax = Math.Min(K - 1, L - 1 + P - t);
                T* yRow = a.Y + row0 + (long)t * C;
                T* xRow = a.X + row0 + (long)t * C;
                int c = c0;
                if (w > 1)
                    for (; c + w <= c1; c += w)
                    {
                        var acc = a.Bias != null ? Vector.Load(a.Bias + c) : Vector<T>.Zero;
                        if (s.Resid) acc += Vector.Load(xRow + c);
                        for (int j = jMin; j <= jMax; j++)
                            acc += Vector.Load(a.W + (long)j * C + c) * Vector.Load(a.X + row0 + (long)(t + j - P) * C + c);
                        Vector.Store(acc, yRow + c);
                        if (a.Gate != null)
                        {
                            long o = row0 + (long)t * C + c;
                            Vector.Store(acc * Vector.Load(a.Gate + o), a.G + o);
                        }
                    }
                for (; c < c1; c++)
                {
                    T acc = a.Bias != null ? a.Bias[c] : T.Zero;
                    if (s.Resid) acc += xRow[c];
                    for (int j = jMin; j <= jMax; j++) acc += a.W[(long)j * C + c] * a.X[row0 + (long)(t + j - P) * C + c];
                    yRow[c] = acc;
                    if (a.Gate != null) { long o = row0 + (long)t * C + c; a.G[o] = acc * a.Gate[o]; }
                }
            }
        }
    }

    private static void BackwardRange<T>(in Args<T> a, int g0, int g1) where T : unmanaged, INumber<T>
    {
        int w = Width<T>();
        Shape s = a.S;
        int C = s.Channels, L = s.Length, K = s.Kernel, P = s.Pad;
        int c0 = g0 * w, c1 = Math.Min(C, g1 * w), cw = c1 - c0;
        // d(conv output) for one batch entry and this worker's channels: [L, cw].
        Span<T> dzSpan = Scratch<T>.Get(L * cw);
        fixed (T* dz = dzSpan)
        {
            for (int b = 0; b < s.Batch; b++)
            {
                long row0 = (long)b * L * C;
                // dz = dOut·gate (gated) or dOut; dGate = dOut·y.
                for (int t = 0; t < L; t++)
                {
                    long o = row0 + (long)t * C;
                    for (int c = c0; c < c1; c++)
                    {
                        T d = a.DOut[o + c];
                        if (a.Gate != null) { a.G[o + c] = d * a.Y[o + c]; d *= a.Gate[o + c]; }
                        dz[t * cw + (c - c0)] = d;
                    }
                }
                int c1v = w > 1 ? c0 + (cw / w) * w : c0;
                for (int c = c0; c < c1v; c += w)
                {
                    int cc = c - c0;
                    // dbias += Σ_t dz[t]; resid: dx[t] += dz[t].
                    if (a.Bias != null)
                    {
                        var sb = Vector<T>.Zero;
                        for (int t = 0; t < L; t++) sb += Vector.Load(dz + t * cw + cc);
                        Vector.Store(Vector.Load(a.Bias + c) + sb, a.Bias + c);
                    }
                    // dx[u] += Σ_j w[j]·dz[u - j + pad]  (taps with t = u - j + pad in [0, L))
                    for (int u = 0; u < L; u++)
                    {
                        var acc = s.Resid ? Vector.Load(dz + u * cw + cc) : Vector<T>.Zero;
                        int jMin = Math.Max(0, u + P - (L - 1)), jMax = Math.Min(K - 1, u + P);
                        for (int j = jMin; j <= jMax; j++)
                            acc += Vector.Load(a.W + (long)j * C + c) * Vector.Load(dz + (u - j + P) * cw + cc);
                        T* dxp = a.Dx + row0 + (long)u * C + c;
                        Vector.Store(Vector.Load(dxp) + acc, dxp);
                    }
                    // dw[j] += Σ_t dz[t]·x[t + j - pad]
                    for (int j = 0; j < K; j++)
                    {
                        int tMin = Math.Max(0, P - j), tMax = Math.Min(L - 1, L - 1 + P - j);
                        if (tMin > tMax) continue;
                        var acc = Vector<T>.Zero;
                        for (int t = tMin; t <= tMax; t++)
                            acc += Vector.Load(dz + t * cw + cc) * Vector.Load(a.X + row0 + (long)(t + j - P) * C + c);
                        T* dwp = a.Dw + (long)j * C + c;
                        Vector.Store(Vector.Load(dwp) + acc, dwp);
                    }
                }
                for (int c = c1v; c < c1; c++)
                {
                    int cc = c - c0;
                    if (a.Bias != null)
                    {
                        T sb = T.Zero;
                        for (int t = 0; t < L; t++) sb += dz[t * cw + cc];
                        a.Bias[c] += sb;
                    }
                    for (int u = 0; u < L; u++)
                    {
                        T acc = s.Resid ? dz[u * cw + cc] : T.Zero;
                        int jMin = Math.Max(0, u + P - (L - 1)), jMax = Math.Min(K - 1, u + P);
                        for (int j = jMin; j <= jMax; j++) acc += a.W[(long)j * C + c] * dz[(u - j + P) * cw + cc];
                        a.Dx[row0 + (long)u * C + c] += acc;
                    }
                    for (int j = 0; j < K; j++)
                    {
                        int tMin = Math.Max(0, P - j), tMax = Math.Min(L - 1, L - 1 + P - j);
                        T acc = T.Zero;
                        for (int t = tMin; t <= tMax; t++) acc += dz[t * cw + cc] * a.X[row0 + (long)(t + j - P) * C + c];
                        a.Dw[(long)j * C + c] += acc;
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
