using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Products of packed spectra (<see cref="MonarchFft{T}.ForwardPacked"/>: Z = DFT(a + i·b) for two real channels a,
/// b) for the depthwise convolution, without unpacking them into two spectra. With k' the mirror frequency (N − k) mod N
/// and A, B Hermitian (a, b real):
/// <code>
/// A[k] = (Z[k] + conj Z[k'])/2          B[k] = (Z[k] − conj Z[k'])/(2i)
/// </code>
/// so for real kernels K_a, K_b the packed output spectrum A·K_a + i·B·K_b is
/// <code>
/// W[k] = Z[k]·P[k] + conj(Z[k'])·M[k],    P = (K_a + K_b)/2,  M = (K_a − K_b)/2
/// </code>
/// and its inverse is y_a + i·y_b (<see cref="MonarchFft{T}.InversePacked"/>). Each product reads rows k and k' of
/// its inputs, so the rows are taken in mirror pairs (k ≤ k'; frequencies 0 and N/2 are their own mirror): every row is
/// read once, and an output may overwrite its input. Spectra are [N, batch, re(m) | im(m)] in the transform's stored
/// order, kernels [N, re P(m) | im P(m) | re M(m) | im M(m)]. Element-wise and split over the workers (by pair; KernelHalves, which
/// writes a separate output, by row): the result does not depend on the split.
/// </summary>
public static unsafe class PackedSpectra<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// The rows k ≤ k' of each mirror pair (<see cref="MonarchFft{T}.MirrorRows"/>): the rows the products below are
    /// split by.
    /// </summary>
    public static int[] PairRows(ReadOnlySpan<int> mirror)
    {
        var pairs = new List<int>(mirror.Length / 2 + 1);
        for (int k = 0; k < mirror.Length; k++) if (k <= mirror[k]) pairs.Add(k);
        return [.. pairs];
    }

    /// <summary>
    /// pm = scale·(P, M) from the packed spectrum z [N, 2m] of one entry of kernels (K_a + i·K_b):
    /// <code>
    /// S = Z[k] + conj Z[k'],  D = Z[k] − conj Z[k']:   K_a = S/2,  K_b = −i·D/2,  P = (S − i·D)/4,  M = (S + i·D)/4
    /// </code>
    /// pm [N, 4m] (see the type). A channel without a partner (K_b = 0) gets P = M = K_a/2.
    /// </summary>
    public static void KernelHalves(ReadOnlySpan<T> z, Span<T> pm, ReadOnlySpan<int> mirror, int m, T scale)
    {
        fixed (T* pz = z, ppm = pm)
        fixed (int* pmir = mirror)
        {
            var args = new Args { A = pz, Out = ppm, Mirror = pmir, M = m, Scale = scale / T.CreateChecked(4) };
            ParallelFor.Run(mirror.Length, Math.Max(1, 4096 / Math.Max(1, 2 * m)), in args, &HalvesRange);
        }
    }

    private static void HalvesRange(in Args s, int start, int end)
    {
        int m = s.M;
        T q = s.Scale;
        for (int k = start; k < end; k++)
        {
            T* zk = s.A + (long)k * 2 * m, zm = s.A + (long)s.Mirror[k] * 2 * m, o = s.Out + (long)k * 4 * m;
            for (int c = 0; c < m; c++)
            {
                T sr = zk[c] + zm[c], si = zk[m + c] - zm[m + c];     // S = Z + conj Z'
                T dr = zk[c] - zm[c], di = zk[m + c] + zm[m + c];     // D = Z − conj Z'
                o[c] = q * (sr + di); o[m + c] = q * (si - dr);         // (S − i D)/4
                o[2 * m + c] = q * (sr - di); o[3 * m + c] = q * (si + dr);   // (S + i D)/4
            }
        }
    }

    /// <summary>
    /// output[k, b] (+)= z[k, b]·P[k] + conj(z[k', b])·M[k] (conjugateKernel: conj P and conj M, the transposed
    /// convolution): z and output [N, batch, 2m], kernel [N, 4m] from <see cref="KernelHalves"/>. output may be z.
    /// </summary>
    public static void MultiplyByKernel(ReadOnlySpan<T> z, ReadOnlySpan<T> kernel, Span<T> output, ReadOnlySpan<int> mirror, int[] pairs,
        int batch, int m, bool conjugateKernel, bool add)
    {
        fixed (T* pz = z, pk = kernel, po = output)
        fixed (int* pmir = mirror, ppair = pairs)
        {
            var args = new Args { A = pz, B = pk, Out = po, Mirror = pmir, Pairs = ppair, Batch = batch, M = m, Conjugate = conjugateKernel, Add = add };
            ParallelFor.Run(pairs.Length, Math.Max(1, 4096 / Math.Max(1, batch * 2 * m)), in args, &MultiplyRange);
        }
    }

    /// <summary>
    /// The kernel gradient's packed spectrum: acc[k] = scale·Σ_b (conj(X_a)·G_a + i·conj(X_b)·G_b)[k, b] for the packed
    /// spectra x (of the inputs) and g (of the output gradients), [N, batch, 2m] each; acc [N, 2m] is overwritten. With
    /// S, D of x and Sg, Dg of g as in <see cref="KernelHalves"/> (X_a = S/2, X_b = −i·D/2):
    /// <code>
    /// conj(X_a)·G_a = conj(S)·Sg/4,   conj(X_b)·G_b = conj(D)·Dg/4;    at k' the sums u, v become conj(u), conj(v)
    /// </code>
    /// (S' = conj S, D' = −conj D). Each pair sums its batch in order.
    /// </summary>
    public static void AccumulateConjugateProducts(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> acc, ReadOnlySpan<int> mirror, int[] pairs,
        int batch, int m, T scale)
    {
        fixed (T* px = x, pg = g, pacc = acc)
        fixed (int* pmir = mirror, ppair = pairs)
        {
            var args = new Args { A = px, B = pg, Out = pacc, Mirror = pmir, Pairs = ppair, Batch = batch, M = m, Scale = scale / T.CreateChecked(4) };
            ParallelFor.Run(pairs.Length, Math.Max(1, 4096 / Math.Max(1, batch * 2 * m)), in args, &AccumulateRange);
        }
    }

    private struct Args
    {
        public T* A, B, Out;
        public int* Mirror, Pairs;
        public int Batch, M;
        public bool Conjugate, Add;
        public T Scale;
    }

    private static void MultiplyRange(in Args s, int start, int end)
    {
        int m = s.M, batch = s.Batch, vw = Vector<T>.IsSupported ? Vector<T>.Count : int.MaxValue;
        T sign = s.Conjugate ? -T.One : T.One;
        var vsign = new Vector<T>(sign);
        for (int p = start; p < end; p++)
        {
            int k = s.Pairs[p], km = s.Mirror[k];
            T* kk = s.B + (long)k * 4 * m, kkm = s.B + (long)km * 4 * m;     // P | M of k and of k'
            for (int b = 0; b < batch; b++)
            {
                T* z = s.A + ((long)k * batch + b) * 2 * m, zm = s.A + ((long)km * batch + b) * 2 * m;
                T* o = s.Out + ((long)k * batch + b) * 2 * m, om = s.Out + ((long)km * batch + b) * 2 * m;
                int c = 0;
                if (vw <= m)
                    for (; c + vw <= m; c += vw)
                    {
                        var zr = Vector.Load(z + c); var zi = Vector.Load(z + m + c);
                        var wr = Vector.Load(zm + c); var wi = Vector.Load(zm + m + c);
                        // k: Z·P + conj(Z')·M
                        var pr = Vector.Load(kk + c); var pi = vsign * Vector.Load(kk + m + c);
                        var mr = Vector.Load(kk + 2 * m + c); var mi = vsign * Vector.Load(kk + 3 * m + c);
                        var re = zr * pr - zi * pi + wr * mr + wi * mi;
                        var im = zr * pi + zi * pr + wr * mi - wi * mr;
                        // k': Z'·P' + conj(Z)·M'
                        var pr2 = Vector.Load(kkm + c); var pi2 = vsign * Vector.Load(kkm + m + c);
                        var mr2 = Vector.Load(kkm + 2 * m + c); var mi2 = vsign * Vector.Load(kkm + 3 * m + c);
                        var re2 = wr * pr2 - wi * pi2 + zr * mr2 + zi * mi2;
                        var im2 = wr * pi2 + wi * pr2 + zr * mi2 - zi * mr2;
                        if (s.Add)
                        {
                            re += Vector.Load(o + c); im += Vector.Load(o + m + c);
                            if (km != k) { re2 += Vector.Load(om + c); im2 += Vector.Load(om + m + c); }
                        }
                        Vector.Store(re, o + c); Vector.Store(im, o + m + c);
                        if (km != k) { Vector.Store(re2, om + c); Vector.Store(im2, om + m + c); }
                    }
                for (; c < m; c++)
                {
                    T zr = z[c], zi = z[m + c], wr = zm[c], wi = zm[m + c];
                    T pr = kk[c], pi = sign * kk[m + c], mr = kk[2 * m + c], mi = sign * kk[3 * m + c];
                    T re = zr * pr - zi * pi + wr * mr + wi * mi, im = zr * pi + zi * pr + wr * mi - wi * mr;
                    T pr2 = kkm[c], pi2 = sign * kkm[m + c], mr2 = kkm[2 * m + c], mi2 = sign * kkm[3 * m + c];
                    T re2 = wr * pr2 - wi * pi2 + zr * mr2 + zi * mi2, im2 = wr * pi2 + wi * pr2 + zr * mi2 - zi * mr2;
                    if (s.Add)
                    {
                        re += o[c]; im += o[m + c];
                        if (km != k) { re2 += om[c]; im2 += om[m + c]; }
                    }
                    o[c] = re; o[m + c] = im;
                    if (km != k) { om[c] = re2; om[m + c] = im2; }
                }
            }
        }
    }

    private static void AccumulateRange(in Args s, int start, int end)
    {
        int m = s.M, batch = s.Batch, vw = Vector<T>.IsSupported ? Vector<T>.Count : int.MaxValue;
        T q = s.Scale;
        for (int p = start; p < end; p++)
        {
            int k = s.Pairs[p], km = s.Mirror[k];
            T* o = s.Out + (long)k * 2 * m, om = s.Out + (long)km * 2 * m;
            int c = 0;
            if (vw <= m)
                for (; c + vw <= m; c += vw)
                {
                    Vector<T> ur = default, ui = default, vr = default, vi = default;
                    for (int b = 0; b < batch; b++)
                    {
                        T* x = s.A + ((long)k * batch + b) * 2 * m, xm = s.A + ((long)km * batch + b) * 2 * m;
                        T* g = s.B + ((long)k * batch + b) * 2 * m, gm = s.B + ((long)km * batch + b) * 2 * m;
                        var xr = Vector.Load(x + c); var xi = Vector.Load(x + m + c); var wr = Vector.Load(xm + c); var wi = Vector.Load(xm + m + c);
                        var gr = Vector.Load(g + c); var gi = Vector.Load(g + m + c); var hr = Vector.Load(gm + c); var hi = Vector.Load(gm + m + c);
                        Vector<T> sr = xr + wr, si = xi - wi, dr = xr - wr, di = xi + wi;          // S, D of x
                        Vector<T> tr = gr + hr, ti = gi - hi, er = gr - hr, ei = gi + hi;          // Sg, Dg of g
                        ur += sr * tr + si * ti; ui += sr * ti - si * tr;                          // conj(S)·Sg
                        vr += dr * er + di * ei; vi += dr * ei - di * er;                          // conj(D)·Dg
                    }
                    var vq = new Vector<T>(q);
                    Vector.Store(vq * (ur - vi), o + c); Vector.Store(vq * (ui + vr), o + m + c);                 // u + i v
                    if (km != k) { Vector.Store(vq * (ur + vi), om + c); Vector.Store(vq * (vr - ui), om + m + c); }   // conj u + i conj v
                }
            for (; c < m; c++)
            {
                T ur = T.Zero, ui = T.Zero, vr = T.Zero, vi = T.Zero;
                for (int b = 0; b < batch; b++)
                {
                    T* x = s.A + ((long)k * batch + b) * 2 * m, xm = s.A + ((long)km * batch + b) * 2 * m;
                    T* g = s.B + ((long)k * batch + b) * 2 * m, gm = s.B + ((long)km * batch + b) * 2 * m;
                    T sr = x[c] + xm[c], si = x[m + c] - xm[m + c], dr = x[c] - xm[c], di = x[m + c] + xm[m + c];
                    T tr = g[c] + gm[c], ti = g[m + c] - gm[m + c], er = g[c] - gm[c], ei = g[m + c] + gm[m + c];
                    ur += sr * tr + si * ti; ui += sr * ti - si * tr;
                    vr += dr * er + di * ei; vi += dr * ei - di * er;
                }
                o[c] = q * (ur - vi); o[m + c] = q * (ui + vr);
                if (km != k) { om[c] = q * (ur + vi); om[m + c] = q * (vr - ui); }
            }
        }
    }
}
