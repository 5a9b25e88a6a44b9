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
        if (s.Batch == 0 || s.Length == 0 || s.Channels == 0) return;
        Span<T> taps = Scratch<T>.Get(PaddedRows(s.Length) * s.Channels, slot: 4);
        PadTaps(wT, taps, s, transpose: false);
        fixed (T* px = x, pt = taps, pb = bias, py = y, pgate = gate, pg = g)
        {
            var args = new ConvArgs<T>(px, pt, pb, py, pgate, pg, null, null, null, s);
            ParallelFor.Run((s.Batch + TileB - 1) / TileB, MinTiles(s), in args, &ForwardRange<T>);
        }
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>. With a gate, dOut is dg and the conv's output gradient is dg·gate;
    /// dGate (overwritten) receives dg·y where y is the forward's conv output. Without a gate, dOut is dy.
    /// Accumulates dx += ... (overwrites when accumulateDx is false), dwT += ..., dbias += ... (dbias may be empty).
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> wT, ReadOnlySpan<T> dOut,
        ReadOnlySpan<T> gate, ReadOnlySpan<T> y, Span<T> dGate,
        Span<T> dx, Span<T> dwT, Span<T> dbias, Shape s, bool accumulateDx = true) where T : unmanaged, INumber<T>
    {
        s.Validate();
        CheckLen(x.Length, s.InElements, "x"); CheckLen(dOut.Length, s.OutElements, "dOut"); CheckLen(dx.Length, s.InElements, "dx");
        CheckLen(dwT.Length, (long)s.Kernel * s.Channels, "dwT");
        if (!dbias.IsEmpty) CheckLen(dbias.Length, s.Channels, "dbias");
        if (!gate.IsEmpty) { CheckLen(gate.Length, s.InElements, "gate"); CheckLen(y.Length, s.OutElements, "y"); CheckLen(dGate.Length, s.InElements, "dGate"); }
        if (s.Batch == 0 || s.Length == 0 || s.Channels == 0) return;
        int chunks = ChunksFor(s.Batch);
        int kc = s.Kernel * s.Channels, partialSize = kc + s.Channels;
        Span<T> partial = Scratch<T>.Get(chunks * partialSize, slot: 2);
        partial.Clear();
        Span<T> taps = Scratch<T>.Get(PaddedRows(s.Length) * s.Channels, slot: 4);
        PadTaps(wT, taps, s, transpose: true);
        fixed (T* px = x, pt = taps, pdo = dOut, pgate = gate, py = y, pdg = dGate, pdx = dx, pp = partial)
        {
            var args = new ConvArgs<T>(px, pt, null, py, pgate, pdg, pdo, pdx, pp, s) { AccumulateDx = accumulateDx };
            ParallelFor.Run(chunks, 1, in args, &BackwardRange<T>);
        }
        for (int ch = 0; ch < chunks; ch++)
        {
            var part = partial.Slice(ch * partialSize, partialSize);
            for (int i = 0; i < kc; i++) dwT[i] += part[i];
            if (!dbias.IsEmpty) for (int c = 0; c < s.Channels; c++) dbias[c] += part[kc + c];
        }
    }

    // Kernel arguments. Forward: x, taps, bias, y, gate, g. Backward: x, transposed taps, y (conv output), gate,
    // g = dGate, dOut, dx and dw = the per-chunk partial sums of dw and dbias.
    private readonly struct ConvArgs<T>(T* x, T* taps, T* bias, T* y, T* gate, T* g, T* dOut, T* dx, T* dw, Shape s)
        where T : unmanaged
    {
        public readonly T* X = x, Taps = taps, Bias = bias, Y = y, Gate = gate, G = g, DOut = dOut, Dx = dx, Dw = dw;
        public readonly Shape S = s;
        public bool AccumulateDx { get; init; } = true;
    }

    private static int MinTiles(Shape s) => (int)Math.Max(1, 20_000 / Math.Max(1, (long)TileB * s.Length * s.Kernel * s.Channels));

    // Backward splits the batch into this many fixed chunks, each with its own dw/dbias partial sums added in
    // chunk order afterwards: the sums do not depend on the thread count.
    private static int ChunksFor(int batch) => Math.Clamp(batch / 64, 1, 16);   // a function of the batch only

    private static void CheckLen(long have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the convolution needs {need}", name);
    }

    // ---- The register tile ----------------------------------------------------------------------------------
    // The forward (y from x) and the input gradient (dx from dz) are both
    //     out[b, t] = Σ_s taps[s - t] · in[b, s]      (per channel)
    // with taps[d] = w[d + pad] forward and w[pad - d] for the gradient (the transposed Toeplitz matrix). A tile of
    // 4 batch entries × 6 tokens × one SIMD vector of channels keeps 24 sums in registers; each step over s loads
    // 4 inputs and 6 taps for 24 FMAs, where a tap-by-tap loop loads two values per FMA. Taps are stored padded
    // with zeros so a tile runs every (s, t) pair of its range without bounds checks; tokens and entries past the
    // end are computed on clamped inputs and not stored.

    private const int TileB = 4, TileT = 6;
    private const int TapLead = TileT - 1;   // zero rows in front: phantom tokens t up to L - 1 + TapLead

    // Padded tap rows: row q = (s - t) + (L - 1) + TapLead for s, t in [0, L) plus the phantom tokens.
    private static int PaddedRows(int length) => 2 * length - 1 + TapLead;

    private static void PadTaps<T>(ReadOnlySpan<T> wT, Span<T> taps, Shape s, bool transpose) where T : unmanaged
    {
        int C = s.Channels, L = s.Length;
        taps.Clear();
        for (int q = 0; q < PaddedRows(L); q++)
        {
            int d = q - TapLead - (L - 1);                 // s - t
            int j = transpose ? s.Pad - d : d + s.Pad;     // the tap that pairs in[s] with out[t]
            if (j >= 0 && j < s.Kernel) wT.Slice(j * C, C).CopyTo(taps.Slice(q * C, C));
        }
    }

    // What a tile reads and writes: in rows InRow apart, out rows OutRow apart (entries L rows apart), taps
    // [PaddedRows, C]. Epilogue per value: + bias, + in[b, t] (resid), + out (accumulate); g = value·gate.
    private readonly struct TileArgs<T>(T* input, nint inRow, T* taps, T* output, nint outRow, T* bias, bool resid, bool accumulate,
        T* gate, nint gateRow, T* g, int length, int channels, int dMin, int dMax) where T : unmanaged
    {
        public readonly T* In = input, Taps = taps, Out = output, Bias = bias, Gate = gate, G = g;
        public readonly nint InRow = inRow, OutRow = outRow, GateRow = gateRow;
        public readonly bool Resid = resid, Accumulate = accumulate;
        public readonly int L = length, C = channels, DMin = dMin, DMax = dMax;
    }

    // All channels of entries [bBase, bBase + 4) ∩ [.., bEnd): whole SIMD vectors, then single channels.
    private static void TileChannels<T>(in TileArgs<T> a, int bBase, int bEnd) where T : unmanaged, INumber<T>
    {
        int c = 0;
        if (SimdInfo.Use512<T>()) for (; c + Vector512<T>.Count <= a.C; c += Vector512<T>.Count) Tile<Simd512<T>, Vector512<T>, T>(a, bBase, bEnd, c);
        else if (SimdInfo.Use256<T>()) for (; c + Vector256<T>.Count <= a.C; c += Vector256<T>.Count) Tile<Simd256<T>, Vector256<T>, T>(a, bBase, bEnd, c);
        for (; c < a.C; c++) Tile<NoSimd<T>, T, T>(a, bBase, bEnd, c);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TS, TV, T>(in TileArgs<T> a, int bBase, int bEnd, int c)
        where TS : struct, ISimdVector<TS, TV, T> where TV : unmanaged where T : unmanaged, INumber<T>
    {
        int L = a.L;
        nint C = a.C, inRow = a.InRow, entry = L * inRow;
        T* in0 = a.In + bBase * entry + c;
        T* in1 = bBase + 1 < bEnd ? in0 + entry : in0;     // clamped: phantom entries reread the last real one
        T* in2 = bBase + 2 < bEnd ? in1 + entry : in1;
        T* in3 = bBase + 3 < bEnd ? in2 + entry : in2;
        TV* acc = stackalloc TV[TileB * TileT];
        for (int t0 = 0; t0 < L; t0 += TileT)
        {
            int tLast = Math.Min(t0 + TileT - 1, L - 1);
            int sLo = Math.Max(0, t0 + a.DMin), sHi = Math.Min(L - 1, tLast + a.DMax);
            TV a00 = TS.Zero, a01 = TS.Zero, a02 = TS.Zero, a03 = TS.Zero, a04 = TS.Zero, a05 = TS.Zero;
            TV a10 = TS.Zero, a11 = TS.Zero, a12 = TS.Zero, a13 = TS.Zero, a14 = TS.Zero, a15 = TS.Zero;
            TV a20 = TS.Zero, a21 = TS.Zero, a22 = TS.Zero, a23 = TS.Zero, a24 = TS.Zero, a25 = TS.Zero;
            TV a30 = TS.Zero, a31 = TS.Zero, a32 = TS.Zero, a33 = TS.Zero, a34 = TS.Zero, a35 = TS.Zero;
            T* w = a.Taps + (nint)(sLo - t0 + L - 1 + TapLead) * C + c;   // the tap pairing s with t0; t0 + i is i rows back
            nint off = sLo * inRow;
            for (int s = sLo; s <= sHi; s++, w += C, off += inRow)
            {
                TV x0 = TS.Load(in0 + off), x1 = TS.Load(in1 + off), x2 = TS.Load(in2 + off), x3 = TS.Load(in3 + off);
                T* wt = w;
                TV k0 = TS.Load(wt);
                a00 = TS.Fma(k0, x0, a00); a10 = TS.Fma(k0, x1, a10); a20 = TS.Fma(k0, x2, a20); a30 = TS.Fma(k0, x3, a30);
                wt -= C; TV k1 = TS.Load(wt);
                a01 = TS.Fma(k1, x0, a01); a11 = TS.Fma(k1, x1, a11); a21 = TS.Fma(k1, x2, a21); a31 = TS.Fma(k1, x3, a31);
                wt -= C; TV k2 = TS.Load(wt);
                a02 = TS.Fma(k2, x0, a02); a12 = TS.Fma(k2, x1, a12); a22 = TS.Fma(k2, x2, a22); a32 = TS.Fma(k2, x3, a32);
                wt -= C; TV k3 = TS.Load(wt);
                a03 = TS.Fma(k3, x0, a03); a13 = TS.Fma(k3, x1, a13); a23 = TS.Fma(k3, x2, a23); a33 = TS.Fma(k3, x3, a33);
                wt -= C; TV k4 = TS.Load(wt);
                a04 = TS.Fma(k4, x0, a04); a14 = TS.Fma(k4, x1, a14); a24 = TS.Fma(k4, x2, a24); a34 = TS.Fma(k4, x3, a34);
                wt -= C; TV k5 = TS.Load(wt);
                a05 = TS.Fma(k5, x0, a05); a15 = TS.Fma(k5, x1, a15); a25 = TS.Fma(k5, x2, a25); a35 = TS.Fma(k5, x3, a35);
            }
            acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03; acc[4] = a04; acc[5] = a05;
            acc[6] = a10; acc[7] = a11; acc[8] = a12; acc[9] = a13; acc[10] = a14; acc[11] = a15;
            acc[12] = a20; acc[13] = a21; acc[14] = a22; acc[15] = a23; acc[16] = a24; acc[17] = a25;
            acc[18] = a30; acc[19] = a31; acc[20] = a32; acc[21] = a33; acc[22] = a34; acc[23] = a35;
            Epilogue<TS, TV, T>(a, acc, bBase, bEnd, t0, c);
        }
    }

    // Stores a finished tile acc[bi·TileT + ti] for the entries and tokens that exist: + bias, + in (resid),
    // + out (accumulate), then g = value·gate. A loop over the tile (rather than 24 inlined copies) keeps the code
    // small and the options in registers.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Epilogue<TS, TV, T>(in TileArgs<T> a, TV* acc, int bBase, int bEnd, int t0, int c)
        where TS : struct, ISimdVector<TS, TV, T> where TV : unmanaged where T : unmanaged, INumber<T>
    {
        int nb = Math.Min(TileB, bEnd - bBase), nt = Math.Min(TileT, a.L - t0);
        bool hasBias = a.Bias != null, resid = a.Resid, accumulate = a.Accumulate, gated = a.Gate != null;
        TV bias = hasBias ? TS.Load(a.Bias + c) : TS.Zero;
        nint inRow = a.InRow, outRow = a.OutRow, gateRow = a.GateRow;
        for (int bi = 0; bi < nb; bi++)
        {
            nint row = (nint)(bBase + bi) * a.L + t0;
            T* o = a.Out + row * outRow + c, x = a.In + row * inRow + c;
            T* gate = gated ? a.Gate + row * gateRow + c : null, g = gated ? a.G + row * outRow + c : null;
            TV* v = acc + bi * TileT;
            for (int ti = 0; ti < nt; ti++, o += outRow, x += inRow)
            {
                TV value = v[ti];
                if (hasBias) value = TS.Add(value, bias);
                if (resid) value = TS.Add(value, TS.Load(x));
                if (accumulate) value = TS.Add(TS.Load(o), value);
                TS.Store(value, o);
                if (gated) { TS.Store(TS.Multiply(value, TS.Load(gate)), g); gate += gateRow; g += outRow; }
            }
        }
    }

    // Forward over batch tiles [tile0, tile1).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRange<T>(in ConvArgs<T> a, int tile0, int tile1) where T : unmanaged, INumber<T>
    {
        Shape s = a.S;
        var tile = new TileArgs<T>(a.X, s.Si, a.Taps, a.Y, s.So, a.Bias, s.Resid, accumulate: false,
            a.Gate, s.Si, a.G, s.Length, s.Channels, dMin: -s.Pad, dMax: s.Kernel - 1 - s.Pad);
        for (int t = tile0; t < tile1; t++) TileChannels(tile, t * TileB, s.Batch);
    }

    // Backward of the fixed chunks [ch0, ch1): for each chunk's entries, dz = dOut·gate (or dOut) into a
    // contiguous scratch [entries·L, C] (and dGate = dOut·y), then dbias, dx by the tile and dw.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRange<T>(in ConvArgs<T> a, int ch0, int ch1) where T : unmanaged, INumber<T>
    {
        Shape s = a.S;
        int chunks = ChunksFor(s.Batch), L = s.Length, C = s.Channels, K = s.Kernel;
        for (int ch = ch0; ch < ch1; ch++)
        {
            int b0 = (int)((long)s.Batch * ch / chunks), b1 = (int)((long)s.Batch * (ch + 1) / chunks);
            int rows = (b1 - b0) * L;
            T* dw = a.Dw + (long)ch * (K * C + C);
            T* db = dw + K * C;
            Span<T> dzSpan = Scratch<T>.Get(rows * C, slot: 1);
            fixed (T* dz = dzSpan)
            {
                GateGradient(a, b0 * L, rows, dz);
                Elementwise.ColumnSums<T>(new ReadOnlySpan<T>(dz, rows * C), rows, C, new Span<T>(db, C), accumulate: true);
                // dx[s] = Σ_t w[s - t + pad]·dz[t] (+ dz[s]): the tile with transposed taps, in = dz, out = dx.
                var tile = new TileArgs<T>(dz, C, a.Taps, a.Dx + (long)b0 * L * s.Si, s.Si, null, s.Resid, a.AccumulateDx,
                    null, 0, null, L, C, dMin: s.Pad - (K - 1), dMax: s.Pad);
                for (int bb = 0; bb < b1 - b0; bb += TileB) TileChannels(tile, bb, b1 - b0);
                for (int b = b0; b < b1; b++)
                    WeightGradientAllChannels(dz + (long)(b - b0) * L * C, a.X + (long)b * L * s.Si, dw, s);
            }
        }
    }

    // dz = dOut·gate and dGate = dOut·y (gated), or dz = dOut, for rows [row0, row0 + rows).
    private static void GateGradient<T>(in ConvArgs<T> a, long row0, int rows, T* dz) where T : unmanaged, INumber<T>
    {
        Shape s = a.S;
        int C = s.Channels, Si = s.Si, So = s.So;
        for (int r = 0; r < rows; r++)
        {
            long o = (row0 + r) * So, oi = (row0 + r) * Si;
            T* dzr = dz + (long)r * C;
            if (a.Gate == null) { new ReadOnlySpan<T>(a.DOut + o, C).CopyTo(new Span<T>(dzr, C)); continue; }
            var d = new ReadOnlySpan<T>(a.DOut + o, C);
            System.Numerics.Tensors.TensorPrimitives.Multiply(d, new ReadOnlySpan<T>(a.Y + o, C), new Span<T>(a.G + oi, C));
            System.Numerics.Tensors.TensorPrimitives.Multiply(d, new ReadOnlySpan<T>(a.Gate + oi, C), new Span<T>(dzr, C));
        }
    }

    // dw[j] += Σ_t dz[t]·x[t + j - pad] for one batch entry (dz rows C apart, x rows Si apart), all channels.
    private static void WeightGradientAllChannels<T>(T* dz, T* x, T* dw, Shape s) where T : unmanaged, INumber<T>
    {
        int C = s.Channels, c = 0;
        if (SimdInfo.Use512<T>())
        {
            int w = Vector512<T>.Count, whole = C / w * w;
            for (; c < whole; c += BlockVectors * w)
                WeightGradient<Simd512<T>, Vector512<T>, T>(dz + c, x + c, dw + c, C, s.Si, C, s.Length, s.Kernel, s.Pad, Math.Min(BlockVectors, (whole - c) / w));
            c = whole;
        }
        else if (SimdInfo.Use256<T>())
        {
            int w = Vector256<T>.Count, whole = C / w * w;
            for (; c < whole; c += BlockVectors * w)
                WeightGradient<Simd256<T>, Vector256<T>, T>(dz + c, x + c, dw + c, C, s.Si, C, s.Length, s.Kernel, s.Pad, Math.Min(BlockVectors, (whole - c) / w));
            c = whole;
        }
        for (; c < C; c++)
            WeightGradient<NoSimd<T>, T, T>(dz + c, x + c, dw + c, C, s.Si, C, s.Length, s.Kernel, s.Pad, 1);
    }

    // Channels are processed in blocks of up to 4 SIMD vectors: four independent accumulator chains per tap
    // loop, so the loops are bound by loads rather than by the latency of one running sum.
    private const int BlockVectors = 4;

    // dw[j] += Σ_t dz[t]·x[t + j - pad], for one batch entry and one channel block of nv vectors.
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
