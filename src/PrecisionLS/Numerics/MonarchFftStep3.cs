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
/// per-thread scratch and writes its outputs over them, vectorised across channels, the twiddle applied as it writes:
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
        int len = a.Len, d = a.D, vw = Vector<T>.IsSupported ? Vector<T>.Count : 1;
        long rowLen = (long)a.Groups * 2 * d;                   // values per row
        var scratch = Grow(ref _tsDft, 2L * len * Math.Max(vw, 1));
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
                    for (; c + vw <= d; c += vw)
                    {
                        // gather the len complex vectors (re at s[2j], im at s[2j+1])
                        for (int j = 0; j < len; j++)
                        {
                            Vector.Load(col + j * stride + c).Store(s + 2 * j * vw);
                            Vector.Load(col + j * stride + d + c).Store(s + (2 * j + 1) * vw);
                        }
                        for (int k = 0; k < len; k++)
                        {
                            T* fr = a.F + k * len, fi = a.F + (len + k) * len;
                            Vector<T> accR = Vector<T>.Zero, accI = Vector<T>.Zero;
                            for (int j = 0; j < len; j++)
                            {
                                var vr = Vector.Load(s + 2 * j * vw); var vi = Vector.Load(s + (2 * j + 1) * vw);
                                var wr = new Vector<T>(fr[j]); var wi = new Vector<T>(sign * fi[j]);
                                accR += wr * vr - wi * vi;
                                accI += wr * vi + wi * vr;
                            }
                            if (a.Twiddle)
                            {
                                int row = row0 + k * a.Step;
                                var tr = new Vector<T>(a.TwRe[row]); var ti = new Vector<T>(a.TwIm[row]);
                                (accR, accI) = (accR * tr - accI * ti, accR * ti + accI * tr);
                            }
                            accR.Store(col + k * stride + c);
                            accI.Store(col + k * stride + d + c);
                        }
                    }
                for (; c < d; c++)
                {
                    for (int j = 0; j < len; j++) { s[2 * j] = col[j * stride + c]; s[2 * j + 1] = col[j * stride + d + c]; }
                    for (int k = 0; k < len; k++)
                    {
                        T* fr = a.F + k * len, fi = a.F + (len + k) * len;
                        T accR = T.Zero, accI = T.Zero;
                        for (int j = 0; j < len; j++)
                        {
                            T vr = s[2 * j], vi = s[2 * j + 1], wr = fr[j], wi = sign * fi[j];
                            accR += wr * vr - wi * vi;
                            accI += wr * vi + wi * vr;
                        }
                        if (a.Twiddle)
                        {
                            int row = row0 + k * a.Step;
                            T tr = a.TwRe[row], ti = a.TwIm[row];
                            (accR, accI) = (accR * tr - accI * ti, accR * ti + accI * tr);
                        }
                        col[k * stride + c] = accR;
                        col[k * stride + d + c] = accI;
                    }
                }
            }
    }
}
