using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Numerics;

/// <summary>
/// Seeded random source for all sampling (xoshiro256**, seeded by splitmix64). Its whole state is four
/// 64-bit words, so a checkpoint can store it and a resumed run draws exactly the numbers it would have drawn.
/// </summary>
/// <remarks>Gaussian draws use Box-Muller and consume two uniforms per pair; no spare value is cached,
/// so the state really is just <see cref="State"/>.</remarks>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator from a seed (any value, including 0).</summary>
    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>Restarts this generator as <c>new Rng(seed)</c> would, without allocating.</summary>
    public void Reseed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>Seed of stream <paramref name="index"/> of a family keyed by <paramref name="seed"/> (splitmix-mixed,
    /// so neighbouring indices give unrelated streams).</summary>
    public static ulong StreamSeed(ulong seed, ulong index)
    {
        ulong x = seed ^ (index * 0xD1B54A32D192ED03UL);
        return SplitMix(ref x);
    }

    /// <summary>Restores a generator from a saved <see cref="State"/>.</summary>
    public Rng(ulong[] state)
    {
        if (state is null || state.Length != 4) throw new ArgumentException("an Rng state has exactly 4 words", nameof(state));
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
    }

    /// <summary>The four state words (a copy).</summary>
    public ulong[] State => [_s0, _s1, _s2, _s3];

    /// <summary>A new independent stream derived from this seed and a label (e.g. "eval", "task-read").</summary>
    public static Rng Derive(ulong seed, string label)
    {
        ulong h = 1469598103934665603UL;   // FNV-1a over the label, mixed with the seed
        foreach (char c in label) { h ^= c; h *= 1099511628211UL; }
        return new Rng(seed ^ h);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double NextUniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be positive");
        return (int)(NextDouble() * n);
    }

    /// <summary>One standard normal draw (uses a full Box-Muller pair, keeps the first).</summary>
    public double NextGaussian()
    {
        Span<double> two = stackalloc double[2];
        FillGaussian(two);
        return two[0];
    }

    /// <summary>Fills <paramref name="dst"/> with independent N(0, 1) draws (Box-Muller, pairs).</summary>
    /// <remarks>
    /// Uniforms are drawn in pair order (u1, u2, u1, u2, ...), then the logarithms, square roots and sines of a
    /// whole call are vectorised (TensorPrimitives): sampling was the largest serial part of a training step.
    /// </remarks>
    public void FillGaussian(Span<double> dst)
    {
        int pairs = (dst.Length + 1) / 2;
        if (_u1.Length < pairs) { _u1 = new double[pairs]; _u2 = new double[pairs]; _sin = new double[pairs]; }
        Span<double> u1 = _u1.AsSpan(0, pairs), u2 = _u2.AsSpan(0, pairs), sin = _sin.AsSpan(0, pairs);
        for (int i = 0; i < pairs; i++)
        {
            u1[i] = 1.0 - NextDouble();               // (0, 1]: log is finite
            u2[i] = NextDouble();
        }
        TensorPrimitives.Log(u1, u1);
        TensorPrimitives.Multiply(u1, -2.0, u1);
        TensorPrimitives.Sqrt(u1, u1);                // r = sqrt(-2 log u1)
        TensorPrimitives.Multiply(u2, 2.0 * Math.PI, u2);
        TensorPrimitives.SinCos(u2, sin, u2);         // u2 now holds cos(2 pi u2)
        int full = dst.Length / 2;
        for (int i = 0; i < full; i++)
        {
            dst[2 * i] = u1[i] * u2[i];
            dst[2 * i + 1] = u1[i] * sin[i];
        }
        if (dst.Length % 2 == 1) dst[^1] = u1[pairs - 1] * u2[pairs - 1];
    }

    // Scratch for FillGaussian (not part of the state: it holds nothing between calls).
    private double[] _u1 = [], _u2 = [], _sin = [];

    /// <summary>Fills <paramref name="dst"/> with N(0, 1) draws converted to <typeparamref name="T"/>.</summary>
    public void FillGaussian<T>(Span<T> dst) where T : INumberBase<T>
    {
        if (_g.Length < dst.Length) _g = new double[dst.Length];
        var g = _g.AsSpan(0, dst.Length);
        FillGaussian(g);                              // the same stream as the double overload
        for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateChecked(g[i]);
    }

    private double[] _g = [];

}
