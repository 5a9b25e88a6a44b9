using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PrecisionLS.Numerics;

/// <summary>
/// x[j] = exp(x[j] − shift) in place, for x[j] ≤ shift: the exponentials of a softmax after subtracting the row
/// maximum (arguments in [-inf, 0]). exp(-inf) = 0, NaN stays NaN; arguments below ln(smallest normal)
/// (-708.4 for double, -87.3 for float) give 0 instead of a subnormal (an absolute error below 2.3e-308, resp.
/// 1.2e-38); arguments above 0 are clamped to 0 (they give 1).
/// </summary>
/// <remarks>
/// Why not TensorPrimitives.Exp: its 512-bit, 256-bit and scalar paths round differently in the last bit, and
/// which one runs depends on the span's alignment and on whether the precompiled or the re-jitted code is
/// running, so the same input gave different outputs from one call to the next. Here every element takes the
/// same steps at every vector width (and in the scalar tail): k = round(x·log2 e) by the 1.5·2^52 shifter,
/// r = x − k·ln 2 in two parts (Cody–Waite), a degree-13 (float: 7) Taylor polynomial in Horner form with FMA,
/// times 2^k built in the exponent bits. Error within 2 ulp of the exact value.
/// </remarks>
public static unsafe class ShiftedExp
{
    /// <summary>x[j] = exp(x[j] − shift) for every j (see the class summary for the domain).</summary>
    public static void Apply<T>(Span<T> x, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* p = x)
        {
            if (typeof(T) == typeof(double)) Double((double*)p, x.Length, Unsafe.As<T, double>(ref shift));
            else if (typeof(T) == typeof(float)) Single((float*)p, x.Length, Unsafe.As<T, float>(ref shift));
            else for (int j = 0; j < x.Length; j++) p[j] = T.Exp(T.Min(p[j] - shift, T.Zero));
        }
    }

    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 6.93147180369123816490e-01;    // ln 2 to 32 bits: k·Ln2Hi is exact
    private const double Ln2Lo = 1.90821492927058770002e-10;    // ln 2 − Ln2Hi
    private const double Shifter = 6755399441055744.0 + 1023;  // 1.5·2^52 + exponent bias: low bits of t = k + 1023
    private const double Lower = -708.39641853226408;          // ln(2^-1022)
    // 1/n!, n = 13 .. 2 (c1 = c0 = 1)
    private const double C13 = 1.0 / 6227020800, C12 = 1.0 / 479001600, C11 = 1.0 / 39916800, C10 = 1.0 / 3628800,
        C9 = 1.0 / 362880, C8 = 1.0 / 40320, C7 = 1.0 / 5040, C6 = 1.0 / 720, C5 = 1.0 / 120, C4 = 1.0 / 24, C3 = 1.0 / 6, C2 = 0.5;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Double(double* x, int n, double shift)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 8 <= n; j += 8) Vector512.Store(Exp(Vector512.Load(x + j) - Vector512.Create(shift)), x + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 4 <= n; j += 4) Vector256.Store(Exp(Vector256.Load(x + j) - Vector256.Create(shift)), x + j);
        for (; j < n; j++) x[j] = Exp(x[j] - shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Exp(Vector512<double> xs)
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
    private static Vector256<double> Exp(Vector256<double> xs)
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

    private static double Exp(double xs)
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Single(float* x, int n, float shift)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= n; j += 16) Vector512.Store(Exp(Vector512.Load(x + j) - Vector512.Create(shift)), x + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= n; j += 8) Vector256.Store(Exp(Vector256.Load(x + j) - Vector256.Create(shift)), x + j);
        for (; j < n; j++) x[j] = Exp(x[j] - shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> xs)
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
    private static Vector256<float> Exp(Vector256<float> xs)
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

    private static float Exp(float xs)
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
