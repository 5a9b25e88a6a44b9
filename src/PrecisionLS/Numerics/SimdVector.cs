using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PrecisionLS.Numerics;

/// <summary>
/// One SIMD width seen through a common face, so a kernel is written once and the JIT specialises it for
/// 512- or 256-bit registers (the TensorPrimitives pattern). Implementations are structs: calls inline away.
/// </summary>
internal interface ISimdVector<TSelf, TVec, T>
    where TSelf : struct, ISimdVector<TSelf, TVec, T>
    where TVec : struct
    where T : unmanaged
{
    static abstract int Count { get; }
    static abstract TVec Zero { get; }
    static abstract unsafe TVec Load(T* src);
    static abstract unsafe void Store(TVec v, T* dst);
    /// <summary>Aligned store that bypasses the caches (no read of the line first); dst must be vector-aligned.</summary>
    static abstract unsafe void StoreStreaming(TVec v, T* dst);
    static abstract TVec Broadcast(T value);
    /// <summary>a * b + c, fused (one rounding) for float and double.</summary>
    static abstract TVec Fma(TVec a, TVec b, TVec c);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Multiply(TVec a, TVec b);
    static abstract T Sum(TVec v);
}

internal readonly struct Simd512<T> : ISimdVector<Simd512<T>, Vector512<T>, T> where T : unmanaged
{
    public static int Count => Vector512<T>.Count;
    public static Vector512<T> Zero => Vector512<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<T> Load(T* src) => Vector512.Load(src);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector512<T> v, T* dst) => Vector512.Store(v, dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreStreaming(Vector512<T> v, T* dst) => Vector512.StoreAlignedNonTemporal(v, dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        return a * b + c;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Multiply(Vector512<T> a, Vector512<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector512<T> v) => Vector512.Sum(v);
}

internal readonly struct Simd256<T> : ISimdVector<Simd256<T>, Vector256<T>, T> where T : unmanaged
{
    public static int Count => Vector256<T>.Count;
    public static Vector256<T> Zero => Vector256<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<T> Load(T* src) => Vector256.Load(src);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector256<T> v, T* dst) => Vector256.Store(v, dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreStreaming(Vector256<T> v, T* dst) => Vector256.StoreAlignedNonTemporal(v, dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        return a * b + c;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Multiply(Vector256<T> a, Vector256<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector256<T> v) => Vector256.Sum(v);
}

/// <summary>Which SIMD path the kernels take on this machine.</summary>
public static class SimdInfo
{
    /// <summary>True when T is float or double and 512-bit vectors are hardware accelerated.</summary>
    public static bool Use512<T>() => (typeof(T) == typeof(double) || typeof(T) == typeof(float)) && Vector512.IsHardwareAccelerated;
    /// <summary>True when 256-bit vectors are the widest accelerated path for T.</summary>
    public static bool Use256<T>() => (typeof(T) == typeof(double) || typeof(T) == typeof(float)) && !Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated;
    /// <summary>A one-line description for benchmark output.</summary>
    public static string Describe() =>
        Vector512.IsHardwareAccelerated ? "avx512 (Vector512)" : Vector256.IsHardwareAccelerated ? "avx2 (Vector256)" : "scalar";
}

/// <summary>One element as a "vector": the kernels' scalar fallback (other element types, no SIMD).</summary>
internal readonly struct NoSimd<T> : ISimdVector<NoSimd<T>, T, T> where T : unmanaged, INumber<T>
{
    public static int Count => 1;
    public static T Zero => T.Zero;
    public static unsafe T Load(T* src) => *src;
    public static unsafe void Store(T v, T* dst) => *dst = v;
    public static unsafe void StoreStreaming(T v, T* dst) => *dst = v;
    public static T Broadcast(T value) => value;
    public static T Fma(T a, T b, T c) => a * b + c;
    public static T Add(T a, T b) => a + b;
    public static T Multiply(T a, T b) => a * b;
    public static T Sum(T v) => v;
}
