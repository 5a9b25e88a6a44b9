using System.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>The two scalar facts the projection needs that <see cref="INumberBase{TSelf}"/> does not give as a
/// <c>double</c>: the real part and the squared modulus, for <c>double</c> and <see cref="Complex"/>.</summary>
internal static class Scalar
{
    /// <summary>Re(v).</summary>
    public static double Real<T>(T v) where T : struct, INumberBase<T>
    {
        if (typeof(T) == typeof(double)) return (double)(object)v;
        if (typeof(T) == typeof(Complex)) return ((Complex)(object)v).Real;
        return double.CreateTruncating(v);
    }

    /// <summary>|v|².</summary>
    public static double Abs2<T>(T v) where T : struct, INumberBase<T>
    {
        if (typeof(T) == typeof(double)) { double d = (double)(object)v; return d * d; }
        if (typeof(T) == typeof(Complex)) { var c = (Complex)(object)v; return c.Real * c.Real + c.Imaginary * c.Imaginary; }
        double x = double.CreateTruncating(T.Abs(v));
        return x * x;
    }
}
