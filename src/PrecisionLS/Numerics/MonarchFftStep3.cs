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
/// write twice the spectrum and read it back to combine the four real products. Work is split over the workers by k2,
/// together with step 2's twiddle (<c>Columns</c>); each DFT's arithmetic is the same whatever the split.
/// </summary>
public sealed partial class MonarchFft<T>
{
    [ThreadStatic] private static T[]? _tsDft;

    // Steps 2 and 3 for every k2 in one pass over the workers: forward, the twiddle of planar (the step-1 products)
    // into spec's rows of k2, then step 3 on k2's columns; inverse (conjugate), step 3 on k2's columns, then the conj
    // twiddle into planar. A k2's columns of every row (n1·batch·2d values) stay in cache from one step to the next,
    // and the workers meet once per transform instead of once per step.
    private unsafe void Columns(Span<T> planar, Span<T> spec, int batch, int d, bool inverse)
    {
        fixed (T* pl = planar, sp = spec, tr = _twRe, ti = _twIm, f1 = _f1, fp = _fp, fq = _fq, t1r = _t1Re, t1i = _t1Im, t1n = _t1ImNeg)
        {
            var args = new ColumnArgs
            {
                Twiddle = new TwiddleArgs { Planar = pl, Spec = sp, TwRe = tr, TwIm = ti, N1 = N1, N2 = N2, Batch = batch, D = d, Inverse = inverse },
                Inverse = inverse,
            };
            static DftArgs Level(T* data, int d, bool conjugate, T* f, int len, int setStride, int step, T* twr, T* twi) => new()
            {
                Data = data, F = f, TwRe = twr, TwIm = twi, D = d, SetStride = setStride, Len = len, Step = step,
                Conjugate = conjugate, Twiddle = twr != null,
            };
            if (Q == 1) { args.First = Level(sp, d, inverse, f1, N1, 0, 1, null, null); args.FirstSets = 1; }
            else if (!inverse)
            {
                args.First = Level(sp, d, false, fp, P, 1, Q, t1r, t1i); args.FirstSets = Q;         // per iq: rows ip·q + iq
                args.Second = Level(sp, d, false, fq, Q, Q, 1, null, null); args.SecondSets = P;     // per kp: rows kp·q + iq
            }
            else
            {
                args.First = Level(sp, d, true, fq, Q, Q, 1, t1r, t1n); args.FirstSets = P;
                args.Second = Level(sp, d, true, fp, P, 1, Q, null, null); args.SecondSets = Q;
            }
            ParallelFor.Run(N2, Math.Max(1, 16384 / Math.Max(1, N1 * batch * 2 * d)), in args, &ColumnRange);
        }
    }

    private unsafe struct ColumnArgs
    {
        public TwiddleArgs Twiddle;
        public DftArgs First, Second;    // step 3's levels in the order applied (SecondSets = 0: one level)
        public int FirstSets, SecondSets;
        public bool Inverse;
    }

    // The DFTs of one level on a set of rows s·SetStride + j·Step (j < Len) each, Len complex values per column.
    private unsafe struct DftArgs
    {
        public T* Data, F, TwRe, TwIm;
        public int D, SetStride, Len, Step;
        public bool Conjugate, Twiddle;
    }

    private static unsafe void ColumnRange(in ColumnArgs a, int start, int end)
    {
        int batch = a.Twiddle.Batch, vw = Vector<T>.IsSupported ? Vector<T>.Count : 1;
        long rowLen = (long)a.Twiddle.N2 * batch * 2 * a.Twiddle.D;   // values per spectrum row
        var scratch = Grow(ref _tsDft, 2L * Math.Max(a.First.Len, a.Second.Len) * vw);
        fixed (T* s = scratch)
            for (int k2 = start; k2 < end; k2++)
            {
                if (!a.Inverse) TwiddleRange(in a.Twiddle, k2, k2 + 1);
                for (int g = k2 * batch; g < (k2 + 1) * batch; g++)
                {
                    DftGroup(in a.First, s, a.FirstSets, g, rowLen);
                    if (a.SecondSets > 0) DftGroup(in a.Second, s, a.SecondSets, g, rowLen);
                }
                if (a.Inverse) TwiddleRange(in a.Twiddle, k2, k2 + 1);
            }
    }

    // Every set's DFT on column group g (the 2d values [re(d) | im(d)] at g·2d of each row), vectorised across channels.
    private static unsafe void DftGroup(in DftArgs a, T* s, int sets, int g, long rowLen)
    {
        int d = a.D, vw = Vector<T>.IsSupported ? Vector<T>.Count : 1;
        T sign = a.Conjugate ? -T.One : T.One;
        long stride = a.Step * rowLen;
        for (int set = 0; set < sets; set++)
        {
            int row0 = set * a.SetStride;
            T* col = a.Data + row0 * rowLen + (long)g * 2 * d;
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
