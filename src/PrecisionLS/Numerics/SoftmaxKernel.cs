using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PrecisionLS.Numerics;

/// <summary>
/// Softmax rows and their exponential, bit-reproducible:
/// <list type="bullet">
/// <item><see cref="Exp{T}"/>: x[j] = exp(scale·(x[j] − shift)) in place, for x[j] ≤ shift and scale &gt; 0.</item>
/// <item><see cref="Row{T}"/>: row ← softmax(scale·row) = exp(scale·(row − max)) / Σ, in place; -inf entries give 0.</item>
/// <item><see cref="Rows{T}"/>: the same for the leading lengths[i] entries of each row of a block; the rest of
/// each row becomes 0 (masked).</item>
/// <item><see cref="RowBackward{T}"/>: g ← scale·a ∘ (g − Σ g∘a), the softmax Jacobian applied to g (a = softmax output).</item>
/// </list>
/// The exponential's argument lies in [-inf, 0]: exp(-inf) = 0 and NaN stays NaN; arguments below ln(smallest
/// normal) (-708.4 for double, -87.3 for float) give 0 instead of a subnormal (an absolute error below 2.3e-308,
/// resp. 1.2e-38); arguments above 0 are clamped to 0 (they give 1).
/// </summary>
/// <remarks>
/// Why not TensorPrimitives.Exp (System.Numerics.Tensors 10.0.0): on spans holding masked (-inf) entries it gave
/// last-bit-different results for the same input depending on the span's alignment, and different results again
/// after the JIT re-tiered (about 800 calls in); the attention output then changed from call to call. Finite
/// inputs alone came out stable in the same check.
/// Here every element takes the same steps at every vector width and in the scalar tail: k = round(x·log2 e)
/// by the 1.5·2^52 shifter, r = x − k·ln 2 in two parts (Cody–Waite), a degree-13 (float: 7) Taylor polynomial
/// in Horner form with FMA, times 2^k built in the exponent bits; within 2 ulp of the exact value. Row sums
/// and maxima run in an order fixed by the length (one vector width per machine, then the scalar tail).
/// For element types other than float and double the plain scalar formulas run (T.Exp).
/// </remarks>
public static unsafe class SoftmaxKernel
{
    /// <summary>x[j] = exp(scale·(x[j] − shift)) for every j (see the class summary for the domain).</summary>
    public static void Exp<T>(Span<T> x, T shift, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* p = x)
        {
            if (typeof(T) == typeof(double))
            {
                if (Vector512.IsHardwareAccelerated) ExpCore<V512D, Vector512<double>, double>((double*)p, x.Length, As<T, double>(shift), As<T, double>(scale));
                else ExpCore<V256D, Vector256<double>, double>((double*)p, x.Length, As<T, double>(shift), As<T, double>(scale));
            }
            else if (typeof(T) == typeof(float))
            {
                if (Vector512.IsHardwareAccelerated) ExpCore<V512F, Vector512<float>, float>((float*)p, x.Length, As<T, float>(shift), As<T, float>(scale));
                else ExpCore<V256F, Vector256<float>, float>((float*)p, x.Length, As<T, float>(shift), As<T, float>(scale));
            }
            else for (int j = 0; j < x.Length; j++) p[j] = T.Exp(T.Min((p[j] - shift) * scale, T.Zero));
        }
    }

    /// <summary>row ← exp(scale·(row − max row)) / Σ (softmax of scale·row); scale &gt; 0. -inf entries become 0.</summary>
    public static void Row<T>(Span<T> row, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.IsEmpty) return;
        fixed (T* p = row)
        {
            if (typeof(T) == typeof(double))
            {
                if (Vector512.IsHardwareAccelerated) RowCore<V512D, Vector512<double>, double>((double*)p, row.Length, As<T, double>(scale));
                else RowCore<V256D, Vector256<double>, double>((double*)p, row.Length, As<T, double>(scale));
            }
            else if (typeof(T) == typeof(float))
            {
                if (Vector512.IsHardwareAccelerated) RowCore<V512F, Vector512<float>, float>((float*)p, row.Length, As<T, float>(scale));
                else RowCore<V256F, Vector256<float>, float>((float*)p, row.Length, As<T, float>(scale));
            }
            else
            {
                T m = T.NegativeInfinity, sum = T.Zero;
                for (int j = 0; j < row.Length; j++) m = T.Max(m, p[j]);
                for (int j = 0; j < row.Length; j++) { p[j] = T.Exp(T.Min((p[j] - m) * scale, T.Zero)); sum += p[j]; }
                T inv = T.One / sum;
                for (int j = 0; j < row.Length; j++) p[j] *= inv;
            }
        }
    }

    /// <summary>
    /// Row i of block [rows, stride] (i &lt; rows) ← softmax(scale·row[0 .. lengths[i])) followed by zeros up to
    /// stride: each row as <see cref="Row{T}"/> (same bits), but all rows' maxima, then all exponentials, then all
    /// normalisations, so independent rows overlap instead of waiting on one row's dependency chain.
    /// </summary>
    public static void Rows<T>(Span<T> block, int rows, int stride, ReadOnlySpan<int> lengths, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows < 0 || stride < 0 || (long)rows * stride > block.Length)
            throw new ArgumentException($"block holds {block.Length} values, needs rows·stride = {(long)rows * stride}", nameof(block));
        if (lengths.Length < rows) throw new ArgumentException($"lengths holds {lengths.Length} values, needs rows = {rows}", nameof(lengths));
        for (int i = 0; i < rows; i++)
            if (lengths[i] < 1 || lengths[i] > stride) throw new ArgumentException($"lengths[{i}] = {lengths[i]} must be in [1, stride = {stride}]", nameof(lengths));
        fixed (T* p = block)
        fixed (int* len = lengths)
        {
            if (typeof(T) == typeof(double))
            {
                if (Vector512.IsHardwareAccelerated) RowsCore<V512D, Vector512<double>, double>((double*)p, rows, stride, len, As<T, double>(scale));
                else RowsCore<V256D, Vector256<double>, double>((double*)p, rows, stride, len, As<T, double>(scale));
            }
            else if (typeof(T) == typeof(float))
            {
                if (Vector512.IsHardwareAccelerated) RowsCore<V512F, Vector512<float>, float>((float*)p, rows, stride, len, As<T, float>(scale));
                else RowsCore<V256F, Vector256<float>, float>((float*)p, rows, stride, len, As<T, float>(scale));
            }
            else
                for (int i = 0; i < rows; i++)
                {
                    Row(block.Slice(i * stride, len[i]), scale);
                    block.Slice(i * stride + len[i], stride - len[i]).Clear();
                }
        }
    }

    /// <summary>
    /// g ← scale·a ∘ (g − Σ_j g[j]·a[j]): the gradient of softmax(scale·s) with respect to s, given the softmax
    /// output a and the gradient g with respect to it. Entries with a = 0 (masked) become 0 (or -0).
    /// </summary>
    public static void RowBackward<T>(ReadOnlySpan<T> a, Span<T> g, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Length != g.Length) throw new ArgumentException($"lengths differ: a has {a.Length}, g has {g.Length}", nameof(g));
        int n = a.Length, j = 0;
        fixed (T* pa = a, pg = g)
        {
            T r = T.Zero;
            bool simd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported;
            int w = Vector<T>.Count;
            if (simd)
            {
                var vr = Vector<T>.Zero;
                for (; j + w <= n; j += w) vr += Vector.Load(pg + j) * Vector.Load(pa + j);
                r = Vector.Sum(vr);
            }
            for (; j < n; j++) r += pg[j] * pa[j];
            j = 0;
            if (simd)
            {
                Vector<T> vr = new(r), vs = new(scale);
                for (; j + w <= n; j += w) Vector.Store((Vector.Load(pg + j) - vr) * Vector.Load(pa + j) * vs, pg + j);
            }
            for (; j < n; j++) pg[j] = (pg[j] - r) * pa[j] * scale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TTo As<TFrom, TTo>(TFrom v) => Unsafe.As<TFrom, TTo>(ref v);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpCore<TS, TV, TE>(TE* x, int n, TE shift, TE scale)
        where TS : struct, IExpVector<TV, TE> where TV : struct where TE : unmanaged
    {
        int j = 0, w = TS.Count;
        TV vShift = TS.Broadcast(shift), vScale = TS.Broadcast(scale);
        for (; j + w <= n; j += w) TS.Store(TS.Exp(TS.Mul(TS.Sub(TS.Load(x + j), vShift), vScale)), x + j);
        for (; j < n; j++) x[j] = TS.ExpScalar(TS.MulScalar(TS.SubScalar(x[j], shift), scale));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowCore<TS, TV, TE>(TE* x, int n, TE scale)
        where TS : struct, IExpVector<TV, TE> where TV : struct where TE : unmanaged
    {
        int w = TS.Count, nv = n / w * w, j;
        // m = max row (exact in any order)
        TE m = TS.NegativeInfinity;
        if (nv > 0)
        {
            TV vm = TS.Load(x);
            for (j = w; j < nv; j += w) vm = TS.Max(vm, TS.Load(x + j));
            m = TS.MaxLanes(vm);
        }
        for (j = nv; j < n; j++) m = TS.MaxScalar(m, x[j]);
        // e = exp(scale·(x − m)), Σ e: vector lanes, then the scalar tail
        TV vShift = TS.Broadcast(m), vScale = TS.Broadcast(scale), vSum = TS.Zero;
        for (j = 0; j < nv; j += w)
        {
            TV e = TS.Exp(TS.Mul(TS.Sub(TS.Load(x + j), vShift), vScale));
            TS.Store(e, x + j);
            vSum = TS.Add(vSum, e);
        }
        TE sum = TS.SumLanes(vSum);
        for (j = nv; j < n; j++) { x[j] = TS.ExpScalar(TS.MulScalar(TS.SubScalar(x[j], m), scale)); sum = TS.AddScalar(sum, x[j]); }
        // x /= Σ (times the reciprocal)
        TE inv = TS.Reciprocal(sum);
        TV vInv = TS.Broadcast(inv);
        for (j = 0; j < nv; j += w) TS.Store(TS.Mul(TS.Load(x + j), vInv), x + j);
        for (j = nv; j < n; j++) x[j] = TS.MulScalar(x[j], inv);
    }

    // Rows in groups of up to 64: maxima, exponentials with row sums, reciprocals, normalisation; the per-row
    // arithmetic (order of the max, of the sum, the reciprocal) is RowCore's, so the bits match Row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsCore<TS, TV, TE>(TE* x, int rows, int stride, int* len, TE scale)
        where TS : struct, IExpVector<TV, TE> where TV : struct where TE : unmanaged
    {
        const int Group = 64;
        TE* m = stackalloc TE[Group];
        int w = TS.Count;
        TV vScale = TS.Broadcast(scale);
        for (int i0 = 0; i0 < rows; i0 += Group)
        {
            int i1 = Math.Min(rows, i0 + Group);
            for (int i = i0; i < i1; i++)
            {
                TE* r = x + (nint)i * stride;
                int n = len[i], nv = n / w * w, j;
                TE mi = TS.NegativeInfinity;
                if (nv > 0)
                {
                    TV vm = TS.Load(r);
                    for (j = w; j < nv; j += w) vm = TS.Max(vm, TS.Load(r + j));
                    mi = TS.MaxLanes(vm);
                }
                for (j = nv; j < n; j++) mi = TS.MaxScalar(mi, r[j]);
                m[i - i0] = mi;
            }
            for (int i = i0; i < i1; i++)
            {
                TE* r = x + (nint)i * stride;
                int n = len[i], nv = n / w * w, j;
                TE mi = m[i - i0];
                TV vShift = TS.Broadcast(mi), vSum = TS.Zero;
                for (j = 0; j < nv; j += w)
                {
                    TV e = TS.Exp(TS.Mul(TS.Sub(TS.Load(r + j), vShift), vScale));
                    TS.Store(e, r + j);
                    vSum = TS.Add(vSum, e);
                }
                TE sum = TS.SumLanes(vSum);
                for (j = nv; j < n; j++) { r[j] = TS.ExpScalar(TS.MulScalar(TS.SubScalar(r[j], mi), scale)); sum = TS.AddScalar(sum, r[j]); }
                m[i - i0] = TS.Reciprocal(sum);
            }
            for (int i = i0; i < i1; i++)
            {
                TE* r = x + (nint)i * stride;
                int n = len[i], nv = n / w * w, j;
                TE inv = m[i - i0];
                TV vInv = TS.Broadcast(inv);
                for (j = 0; j < nv; j += w) TS.Store(TS.Mul(TS.Load(r + j), vInv), r + j);
                for (j = nv; j < n; j++) r[j] = TS.MulScalar(r[j], inv);
                for (j = n; j < stride; j++) r[j] = default;
            }
        }
    }

    // One vector type with the scalar forms of the same steps (the tail), so RowCore is written once.
    private interface IExpVector<TV, TE> where TV : struct where TE : unmanaged
    {
        static abstract int Count { get; }
        static abstract TE NegativeInfinity { get; }
        static abstract TV Zero { get; }
        static abstract TV Load(TE* p);
        static abstract void Store(TV v, TE* p);
        static abstract TV Broadcast(TE v);
        static abstract TV Max(TV a, TV b);
        static abstract TV Add(TV a, TV b);
        static abstract TV Sub(TV a, TV b);
        static abstract TV Mul(TV a, TV b);
        static abstract TV Exp(TV x);
        static abstract TE MaxLanes(TV v);
        static abstract TE SumLanes(TV v);
        static abstract TE MaxScalar(TE a, TE b);
        static abstract TE AddScalar(TE a, TE b);
        static abstract TE SubScalar(TE a, TE b);
        static abstract TE MulScalar(TE a, TE b);
        static abstract TE Reciprocal(TE a);
        static abstract TE ExpScalar(TE x);
    }

    private readonly struct V512D : IExpVector<Vector512<double>, double>
    {
        public static int Count => 8;
        public static double NegativeInfinity => double.NegativeInfinity;
        public static Vector512<double> Zero => Vector512<double>.Zero;
        public static Vector512<double> Load(double* p) => Vector512.Load(p);
        public static void Store(Vector512<double> v, double* p) => Vector512.Store(v, p);
        public static Vector512<double> Broadcast(double v) => Vector512.Create(v);
        public static Vector512<double> Max(Vector512<double> a, Vector512<double> b) => Vector512.Max(a, b);
        public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;
        public static Vector512<double> Sub(Vector512<double> a, Vector512<double> b) => a - b;
        public static Vector512<double> Mul(Vector512<double> a, Vector512<double> b) => a * b;
        public static Vector512<double> Exp(Vector512<double> x) => SoftmaxKernel.Exp(x);
        public static double MaxLanes(Vector512<double> v) { double m = v[0]; for (int l = 1; l < 8; l++) m = Math.Max(m, v[l]); return m; }
        public static double SumLanes(Vector512<double> v) => Vector512.Sum(v);
        public static double MaxScalar(double a, double b) => Math.Max(a, b);
        public static double AddScalar(double a, double b) => a + b;
        public static double SubScalar(double a, double b) => a - b;
        public static double MulScalar(double a, double b) => a * b;
        public static double Reciprocal(double a) => 1.0 / a;
        public static double ExpScalar(double x) => SoftmaxKernel.Exp(x);
    }

    private readonly struct V256D : IExpVector<Vector256<double>, double>
    {
        public static int Count => 4;
        public static double NegativeInfinity => double.NegativeInfinity;
        public static Vector256<double> Zero => Vector256<double>.Zero;
        public static Vector256<double> Load(double* p) => Vector256.Load(p);
        public static void Store(Vector256<double> v, double* p) => Vector256.Store(v, p);
        public static Vector256<double> Broadcast(double v) => Vector256.Create(v);
        public static Vector256<double> Max(Vector256<double> a, Vector256<double> b) => Vector256.Max(a, b);
        public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;
        public static Vector256<double> Sub(Vector256<double> a, Vector256<double> b) => a - b;
        public static Vector256<double> Mul(Vector256<double> a, Vector256<double> b) => a * b;
        public static Vector256<double> Exp(Vector256<double> x) => SoftmaxKernel.Exp(x);
        public static double MaxLanes(Vector256<double> v) { double m = v[0]; for (int l = 1; l < 4; l++) m = Math.Max(m, v[l]); return m; }
        public static double SumLanes(Vector256<double> v) => Vector256.Sum(v);
        public static double MaxScalar(double a, double b) => Math.Max(a, b);
        public static double AddScalar(double a, double b) => a + b;
        public static double SubScalar(double a, double b) => a - b;
        public static double MulScalar(double a, double b) => a * b;
        public static double Reciprocal(double a) => 1.0 / a;
        public static double ExpScalar(double x) => SoftmaxKernel.Exp(x);
    }

    private readonly struct V512F : IExpVector<Vector512<float>, float>
    {
        public static int Count => 16;
        public static float NegativeInfinity => float.NegativeInfinity;
        public static Vector512<float> Zero => Vector512<float>.Zero;
        public static Vector512<float> Load(float* p) => Vector512.Load(p);
        public static void Store(Vector512<float> v, float* p) => Vector512.Store(v, p);
        public static Vector512<float> Broadcast(float v) => Vector512.Create(v);
        public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
        public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
        public static Vector512<float> Exp(Vector512<float> x) => SoftmaxKernel.Exp(x);
        public static float MaxLanes(Vector512<float> v) { float m = v[0]; for (int l = 1; l < 16; l++) m = MathF.Max(m, v[l]); return m; }
        public static float SumLanes(Vector512<float> v) => Vector512.Sum(v);
        public static float MaxScalar(float a, float b) => MathF.Max(a, b);
        public static float AddScalar(float a, float b) => a + b;
        public static float SubScalar(float a, float b) => a - b;
        public static float MulScalar(float a, float b) => a * b;
        public static float Reciprocal(float a) => 1f / a;
        public static float ExpScalar(float x) => SoftmaxKernel.Exp(x);
    }

    private readonly struct V256F : IExpVector<Vector256<float>, float>
    {
        public static int Count => 8;
        public static float NegativeInfinity => float.NegativeInfinity;
        public static Vector256<float> Zero => Vector256<float>.Zero;
        public static Vector256<float> Load(float* p) => Vector256.Load(p);
        public static void Store(Vector256<float> v, float* p) => Vector256.Store(v, p);
        public static Vector256<float> Broadcast(float v) => Vector256.Create(v);
        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
        public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
        public static Vector256<float> Exp(Vector256<float> x) => SoftmaxKernel.Exp(x);
        public static float MaxLanes(Vector256<float> v) { float m = v[0]; for (int l = 1; l < 8; l++) m = MathF.Max(m, v[l]); return m; }
        public static float SumLanes(Vector256<float> v) => Vector256.Sum(v);
        public static float MaxScalar(float a, float b) => MathF.Max(a, b);
        public static float AddScalar(float a, float b) => a + b;
        public static float SubScalar(float a, float b) => a - b;
        public static float MulScalar(float a, float b) => a * b;
        public static float Reciprocal(float a) => 1f / a;
        public static float ExpScalar(float x) => SoftmaxKernel.Exp(x);
    }

    // ---- the exponential, one algorithm at every width (see remarks) ----

    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 6.93147180369123816490e-01;    // ln 2 to 32 bits: k·Ln2Hi is exact
    private const double Ln2Lo = 1.90821492927058770002e-10;    // ln 2 − Ln2Hi
    private const double Shifter = 6755399441055744.0 + 1023;  // 1.5·2^52 + exponent bias: low bits of t = k + 1023
    private const double Lower = -708.39641853226408;          // ln(2^-1022)
    // 1/n!, n = 13 .. 2 (c1 = c0 = 1)
    private const double C13 = 1.0 / 6227020800, C12 = 1.0 / 479001600, C11 = 1.0 / 39916800, C10 = 1.0 / 3628800,
        C9 = 1.0 / 362880, C8 = 1.0 / 40320, C7 = 1.0 / 5040, C6 = 1.0 / 720, C5 = 1.0 / 120, C4 = 1.0 / 24, C3 = 1.0 / 6, C2 = 0.5;


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<double> Exp(Vector512<double> xs)
    {
        var xc = Vector512.Min(Vector512.Max(xs, Vector512.Create(Lower)), Vector512<double>.Zero);
        var t = Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2E), Vector512.Create(Shifter));
        var k = t - Vector512.Create(Shifter);
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Hi), xc);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.Create(C13);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C12)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C11));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C10)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C9));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C8)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C7));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C6)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2)); p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        var scale = Vector512.ShiftLeft(t.AsUInt64(), 52).AsDouble();
        return Vector512.ConditionalSelect(Vector512.LessThan(xs, Vector512.Create(Lower)), Vector512<double>.Zero, p * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<double> Exp(Vector256<double> xs)
    {
        var xc = Vector256.Min(Vector256.Max(xs, Vector256.Create(Lower)), Vector256<double>.Zero);
        var t = Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2E), Vector256.Create(Shifter));
        var k = t - Vector256.Create(Shifter);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.Create(C13);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C12)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C11));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C10)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C9));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C8)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C7));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C6)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2)); p = Vector256.FusedMultiplyAdd(p, r, Vector256<double>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<double>.One);
        var scale = Vector256.ShiftLeft(t.AsUInt64(), 52).AsDouble();
        return Vector256.ConditionalSelect(Vector256.LessThan(xs, Vector256.Create(Lower)), Vector256<double>.Zero, p * scale);
    }

    internal static double Exp(double xs)
    {
        double xc = Math.Min(Math.Max(xs, Lower), 0.0);
        double t = Math.FusedMultiplyAdd(xc, Log2E, Shifter);
        double k = t - Shifter;
        double r = Math.FusedMultiplyAdd(k, -Ln2Hi, xc);
        r = Math.FusedMultiplyAdd(k, -Ln2Lo, r);
        double p = C13;
        p = Math.FusedMultiplyAdd(p, r, C12); p = Math.FusedMultiplyAdd(p, r, C11); p = Math.FusedMultiplyAdd(p, r, C10);
        p = Math.FusedMultiplyAdd(p, r, C9); p = Math.FusedMultiplyAdd(p, r, C8); p = Math.FusedMultiplyAdd(p, r, C7);
        p = Math.FusedMultiplyAdd(p, r, C6); p = Math.FusedMultiplyAdd(p, r, C5); p = Math.FusedMultiplyAdd(p, r, C4);
        p = Math.FusedMultiplyAdd(p, r, C3); p = Math.FusedMultiplyAdd(p, r, C2); p = Math.FusedMultiplyAdd(p, r, 1.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0);
        double scale = BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(t) << 52);
        return xs < Lower ? 0.0 : p * scale;
    }

    private const float Log2EF = 1.44269504f;
    private const float Ln2HiF = 0.693359375f;                 // ln 2 to 9 bits: k·Ln2HiF is exact
    private const float Ln2LoF = -2.12194440e-4f;              // ln 2 − Ln2HiF
    private const float ShifterF = 12582912.0f + 127;          // 1.5·2^23 + exponent bias
    private const float LowerF = -87.3365448f;                 // ln(2^-126)
    private const float F7 = 1.0f / 5040, F6 = 1.0f / 720, F5 = 1.0f / 120, F4 = 1.0f / 24, F3 = 1.0f / 6, F2 = 0.5f;


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> xs)
    {
        var xc = Vector512.Min(Vector512.Max(xs, Vector512.Create(LowerF)), Vector512<float>.Zero);
        var t = Vector512.FusedMultiplyAdd(xc, Vector512.Create(Log2EF), Vector512.Create(ShifterF));
        var k = t - Vector512.Create(ShifterF);
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2HiF), xc);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2LoF), r);
        var p = Vector512.Create(F7);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(F6)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(F5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(F4)); p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(F3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(F2)); p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var scale = Vector512.ShiftLeft(t.AsUInt32(), 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(xs, Vector512.Create(LowerF)), Vector512<float>.Zero, p * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> xs)
    {
        var xc = Vector256.Min(Vector256.Max(xs, Vector256.Create(LowerF)), Vector256<float>.Zero);
        var t = Vector256.FusedMultiplyAdd(xc, Vector256.Create(Log2EF), Vector256.Create(ShifterF));
        var k = t - Vector256.Create(ShifterF);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2HiF), xc);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2LoF), r);
        var p = Vector256.Create(F7);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(F6)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(F5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(F4)); p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(F3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(F2)); p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var scale = Vector256.ShiftLeft(t.AsUInt32(), 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(xs, Vector256.Create(LowerF)), Vector256<float>.Zero, p * scale);
    }

    internal static float Exp(float xs)
    {
        float xc = MathF.Min(MathF.Max(xs, LowerF), 0f);
        float t = MathF.FusedMultiplyAdd(xc, Log2EF, ShifterF);
        float k = t - ShifterF;
        float r = MathF.FusedMultiplyAdd(k, -Ln2HiF, xc);
        r = MathF.FusedMultiplyAdd(k, -Ln2LoF, r);
        float p = F7;
        p = MathF.FusedMultiplyAdd(p, r, F6); p = MathF.FusedMultiplyAdd(p, r, F5); p = MathF.FusedMultiplyAdd(p, r, F4);
        p = MathF.FusedMultiplyAdd(p, r, F3); p = MathF.FusedMultiplyAdd(p, r, F2); p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        float scale = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(t) << 23);
        return xs < LowerF ? 0f : p * scale;
    }
}
