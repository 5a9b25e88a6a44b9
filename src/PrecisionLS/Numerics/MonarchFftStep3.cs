using System.Numerics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Step 3 of <see cref="MonarchFft{T}"/>: the n2 DFTs of size n1 along the rows of the spectrum [n1 rows, (k2, batch,
/// re(d) | im(d)) columns], in place, one small complex DFT per set of rows and column:
/// <code>
/// one level:            v[k1] = Σ_i F_{n1}[k1, i]·v[i]                    rows 0..n1-1
/// two levels (n1 = p·q): C[kp, iq] = ω_{n1}^{iq kp}·Σ_ip F_p[kp, ip]·B[ip, iq]   per iq: rows ip·q + iq → kp·q + iq
///                        X[kp, kq] = Σ_iq F_q[kq, iq]·C[kp, iq]                 per kp: rows kp·q + iq → kp·q + kq
/// </code>
/// (the inverse: conj F and conj ω, the two levels in reverse order). Each DFT reads its p (or q, or n1) values into a
/// per-thread scratch as the sums and differences of mirrored inputs, forms each mirrored pair of outputs from them (a
/// quarter of a dense product's multiplies) and writes them over its inputs, vectorised across channels, the twiddle
/// applied as it writes:
/// one read and one write of the spectrum per level, where a GEMM with F's real and imaginary parts stacked would
/// write twice the spectrum and read it back to combine the four real products. Work is split over the workers by
/// (row set, column group); each DFT's arithmetic is the same whatever the split.
/// </summary>
public sealed partial class MonarchFft<T>
{
    [ThreadStatic] private static T[]? _tsDft;

    // spec[k2] ← F1 spec[k2] (or conj(F1) spec[k2]) for every k2, in place, on [n1, n2·batch columns of 2d].
    private void Step3(Span<T> spec, int batch, int d, bool conjugate)
    {
        var all = spec[..(N * batch * 2 * d)];
        int groups = N2 * batch;
        if (Q == 1) { SmallDfts(all, groups, d, sets: 1, setStride: 0, len: N1, step: 1, _f1, conjugate, null, null); return; }
        int p = P, q = Q;
        if (!conjugate)
        {
            SmallDfts(all, groups, d, sets: q, setStride: 1, len: p, step: q, _fp, false, _t1Re, _t1Im);
            SmallDfts(all, groups, d, sets: p, setStride: q, len: q, step: 1, _fq, false, null, null);
        }
        else
        {
            SmallDfts(all, groups, d, sets: p, setStride: q, len: q, step: 1, _fq, true, _t1Re, _t1ImNeg);
            SmallDfts(all, groups, d, sets: q, setStride: 1, len: p, step: q, _fp, true, null, null);
        }
    }

    // For every set s < sets (rows s·setStride + j·step, j < len) and column group g < groups (2d values per row):
    // v ← F_len v (conj F when conjugate; f = [Fr; Fi], 2·len × len), then v[j] ·= tw[row j] when twRe is given.
    private static unsafe void SmallDfts(Span<T> blk, int groups, int d, int sets, int setStride, int len, int step, T[] f,
        bool conjugate, T[]? twRe, T[]? twIm)
    {
        fixed (T* pb = blk, pf = f, tr = twRe, ti = twIm)
        {
            var args = new DftArgs
            {
                Data = pb, F = pf, TwRe = tr, TwIm = ti, Groups = groups, D = d, SetStride = setStride, Len = len, Step = step,
                Conjugate = conjugate, Twiddle = twRe is not null,
            };
            ParallelFor.Run(sets * groups, Math.Max(1, 2048 / Math.Max(1, len * 2 * d)), in args, &DftRange);
        }
    }

    private unsafe struct DftArgs
    {
        public T* Data, F, TwRe, TwIm;
        public int Groups, D, SetStride, Len, Step;
        public bool Conjugate, Twiddle;
    }

    private static unsafe void DftRange(in DftArgs a, int start, int end)
    {
        int d = a.D, vw = Vector<T>.IsSupported ? Vector<T>.Count : 1;
        long rowLen = (long)a.Groups * 2 * d;                   // values per row
        var scratch = Grow(ref _tsDft, 2L * a.Len * vw);
        T sign = a.Conjugate ? -T.One : T.One;
        fixed (T* s = scratch)
            for (int u = start; u < end; u++)
            {
                int set = u / a.Groups, g = u % a.Groups;
                int row0 = set * a.SetStride;
                T* col = a.Data + row0 * rowLen + (long)g * 2 * d;  // the group's re(d) | im(d) in row row0
                long stride = a.Step * rowLen;
                int c = 0;
                if (Vector<T>.IsSupported)
                    for (; c + vw <= d; c += vw) VectorDft(in a, s, col + c, stride, row0, sign);
                for (; c < d; c++) ScalarDft(in a, s, col + c, stride, row0, sign);
            }
    }

    // One DFT of a.Len complex values v[j] = (v + j·stride)[0] + i (v + j·stride)[d], for Vector<T>.Count channels at once,
    // with the symmetries of F: F[k, n−j] = conj F[k, j] and F[n−k, j] = conj F[k, j]. With S_j = v_j + v_{n−j},
    // D_j = v_j − v_{n−j} (0 < j < n/2) and, n even, F[k, n/2] = (−1)^k:
    //   A_k = v_0 + Σ_j Re F[k, j]·S_j (+ (−1)^k v_{n/2}),  B_k = Σ_j Im F[k, j]·D_j,
    //   out[k] = A_k + i·B_k,  out[n−k] = A_k − i·B_k      (k ≤ n/2: a quarter of the dense product's multiplies).
    private static unsafe void VectorDft(in DftArgs a, T* s, T* v, long stride, int row0, T sign)
    {
        int n = a.Len, d = a.D, half = (n - 1) / 2, vw = Vector<T>.Count;
        bool even = n % 2 == 0;
        var v0r = Vector.Load(v); var v0i = Vector.Load(v + d);
        // scratch: slot j (1 ≤ j ≤ half) S_j, slot n − j D_j, slot n/2 (n even) v_{n/2}; re at 2·slot, im at 2·slot + 1
        for (int j = 1; j <= half; j++)
        {
            var ar = Vector.Load(v + j * stride); var ai = Vector.Load(v + j * stride + d);
            var br = Vector.Load(v + (n - j) * stride); var bi = Vector.Load(v + (n - j) * stride + d);
            Vector.Store(ar + br, s + 2 * j * vw); Vector.Store(ai + bi, s + (2 * j + 1) * vw);
            Vector.Store(ar - br, s + 2 * (n - j) * vw); Vector.Store(ai - bi, s + (2 * (n - j) + 1) * vw);
        }
        if (even) { Vector.Load(v + n / 2 * stride).Store(s + n * vw); Vector.Load(v + n / 2 * stride + d).Store(s + (n + 1) * vw); }
        for (int k = 0; 2 * k <= n; k++)
        {
            T* fr = a.F + k * n, fi = a.F + (n + k) * n;
            Vector<T> ar = v0r, ai = v0i, br = Vector<T>.Zero, bi = Vector<T>.Zero;
            if (even)
            {
                var m = new Vector<T>(fr[n / 2]);
                ar += m * Vector.Load(s + n * vw); ai += m * Vector.Load(s + (n + 1) * vw);
            }
            for (int j = 1; j <= half; j++)
            {
                var wr = new Vector<T>(fr[j]); var wi = new Vector<T>(sign * fi[j]);
                ar += wr * Vector.Load(s + 2 * j * vw); ai += wr * Vector.Load(s + (2 * j + 1) * vw);
                br += wi * Vector.Load(s + 2 * (n - j) * vw); bi += wi * Vector.Load(s + (2 * (n - j) + 1) * vw);
            }
            StoreVector(in a, v, stride, row0, k, ar - bi, ai + br);
            if (k != 0 && 2 * k != n) StoreVector(in a, v, stride, row0, n - k, ar + bi, ai - br);
        }
    }

    private static unsafe void StoreVector(in DftArgs a, T* v, long stride, int row0, int k, Vector<T> re, Vector<T> im)
    {
        if (a.Twiddle)
        {
            int row = row0 + k * a.Step;
            var tr = new Vector<T>(a.TwRe[row]); var ti = new Vector<T>(a.TwIm[row]);
            (re, im) = (re * tr - im * ti, re * ti + im * tr);
        }
        re.Store(v + k * stride);
        im.Store(v + k * stride + a.D);
    }

    // VectorDft for one channel.
    private static unsafe void ScalarDft(in DftArgs a, T* s, T* v, long stride, int row0, T sign)
    {
        int n = a.Len, d = a.D, half = (n - 1) / 2;
        bool even = n % 2 == 0;
        T v0r = v[0], v0i = v[d];
        for (int j = 1; j <= half; j++)
        {
            T ar = v[j * stride], ai = v[j * stride + d], br = v[(n - j) * stride], bi = v[(n - j) * stride + d];
            s[2 * j] = ar + br; s[2 * j + 1] = ai + bi;
            s[2 * (n - j)] = ar - br; s[2 * (n - j) + 1] = ai - bi;
        }
        if (even) { s[n] = v[n / 2 * stride]; s[n + 1] = v[n / 2 * stride + d]; }
        for (int k = 0; 2 * k <= n; k++)
        {
            T* fr = a.F + k * n, fi = a.F + (n + k) * n;
            T ar = v0r, ai = v0i, br = T.Zero, bi = T.Zero;
            if (even) { ar += fr[n / 2] * s[n]; ai += fr[n / 2] * s[n + 1]; }
            for (int j = 1; j <= half; j++)
            {
                T wr = fr[j], wi = sign * fi[j];
                ar += wr * s[2 * j]; ai += wr * s[2 * j + 1];
                br += wi * s[2 * (n - j)]; bi += wi * s[2 * (n - j) + 1];
            }
            StoreScalar(in a, v, stride, row0, k, ar - bi, ai + br);
            if (k != 0 && 2 * k != n) StoreScalar(in a, v, stride, row0, n - k, ar + bi, ai - br);
        }
    }

    private static unsafe void StoreScalar(in DftArgs a, T* v, long stride, int row0, int k, T re, T im)
    {
        if (a.Twiddle)
        {
            int row = row0 + k * a.Step;
            T tr = a.TwRe[row], ti = a.TwIm[row];
            (re, im) = (re * tr - im * ti, re * ti + im * tr);
        }
        v[k * stride] = re;
        v[k * stride + a.D] = im;
    }
}
