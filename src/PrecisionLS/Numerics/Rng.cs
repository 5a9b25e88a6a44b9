using System.Numerics;

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
    public void FillGaussian(Span<double> dst)
    {
        int i = 0;
        for (; i + 1 < dst.Length; i += 2)
        {
            (double a, double b) = GaussianPair();
            dst[i] = a; dst[i + 1] = b;
        }
        if (i < dst.Length) dst[i] = GaussianPair().Item1;
    }

    /// <summary>Fills <paramref name="dst"/> with N(0, 1) draws converted to <typeparamref name="T"/>.</summary>
    public void FillGaussian<T>(Span<T> dst) where T : INumberBase<T>
    {
        int i = 0;
        for (; i + 1 < dst.Length; i += 2)
        {
            (double a, double b) = GaussianPair();
            dst[i] = T.CreateChecked(a); dst[i + 1] = T.CreateChecked(b);
        }
        if (i < dst.Length) dst[i] = T.CreateChecked(GaussianPair().Item1);
    }

    private (double, double) GaussianPair()
    {
        double u1 = 1.0 - NextDouble();           // (0, 1]: log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        (double s, double c) = Math.SinCos(2.0 * Math.PI * u2);
        return (r * c, r * s);
    }
}
