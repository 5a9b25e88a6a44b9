using System.Diagnostics;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;

namespace PrecisionLS.Bench;

/// <summary>
/// One (length, mixer) point of `bench mixers`: the median forward + backward time of one sequence mixer layer.
/// </summary>
/// <param name="Length">Sequence length L.</param>
/// <param name="Mixer">"m2" (causal M2 sequence mixer, explicit filter, Monarch FFT), "attention" (causal softmax
/// attention, one head) or "baseconv_long" (causal BaseConv with an explicit long filter, direct sum).</param>
/// <param name="Ms">Median milliseconds of one forward plus backward.</param>
/// <param name="Batch">Batch entries.</param>
/// <param name="Width">d.</param>
/// <param name="Samples">Timed repetitions.</param>
/// <param name="Threads">Worker threads.</param>
public sealed record MixerBenchReport(int Length, string Mixer, double Ms, int Batch, int Width, int Samples, int Threads);

/// <summary>
/// Times the sequence mixers against each other across sequence lengths (`precisionls bench mixers`): M2's
/// O(L^1.5·d) Monarch-FFT long convolution, softmax attention's O(L²·d) and BaseConv's direct O(L²·d) long convolution,
/// all at width d, float64, in the same run. Each point: one warm-up pass, then passes until about
/// <c>secondsPerPoint</c> are spent (at least 1, at most 15); the median is reported.
/// </summary>
public static class MixerBenchmark
{
    /// <summary>The mixers, in report order.</summary>
    public static readonly string[] Mixers = ["m2", "attention", "baseconv_long"];

    public static IReadOnlyList<MixerBenchReport> Run(IReadOnlyList<int> lengths, int width, int batch = 1, double secondsPerPoint = 2.0,
        IReadOnlyList<string>? mixers = null, Action<MixerBenchReport>? progress = null)
    {
        mixers ??= Mixers;
        if (width < 1) throw new ConfigException($"--width {width} must be a positive integer");
        if (batch < 1) throw new ConfigException($"--batch {batch} must be a positive integer");
        foreach (int l in lengths)
            if (l < 2) throw new ConfigException($"--lengths {l}: a length must be at least 2");
        foreach (var m in mixers)
            if (!Mixers.Contains(m)) throw new ConfigException($"--mixers '{m}' is unknown; accepted: {string.Join(", ", Mixers)}");
        var reports = new List<MixerBenchReport>();
        foreach (int l in lengths)
            foreach (var m in mixers)
            {
                var r = RunOne(m, l, width, batch, secondsPerPoint);
                reports.Add(r);
                progress?.Invoke(r);
            }
        return reports;
    }

    private static MixerBenchReport RunOne(string mixer, int length, int d, int batch, double seconds)
    {
        var store = new ParameterStore<double>();
        ISequenceMixer<double> layer = mixer switch
        {
            "m2" => new M2SequenceMixer<double>(store, "m2", d, length, causal: true, "explicit", "monarch_fft"),
            "attention" => new Attention<double>(store, "attn", d, 1, true, true),
            _ => new BaseConv<double>(store, "base_conv", d, length, causal: true, resid: true, convType: "long"),
        };
        store.Allocate();
        var rng = new Rng((ulong)length);
        rng.FillGaussian(store.Values.AsSpan());
        for (int i = 0; i < store.Size; i++) store.Values[i] *= 0.1;
        int n = batch * length * d;
        var x = new double[n]; var y = new double[n]; var dy = new double[n]; var dx = new double[n];
        rng.FillGaussian(x.AsSpan()); rng.FillGaussian(dy.AsSpan());
        void Pass()
        {
            layer.Forward(x, y, batch, length);
            Array.Clear(dx);
            layer.Backward(x, dy, dx, batch, length);
        }
        Pass();   // warm-up: JIT, buffers
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        while (times.Count < 1 || (clock.Elapsed.TotalSeconds < seconds && times.Count < 15))
        {
            long t0 = Stopwatch.GetTimestamp();
            Pass();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : 0.5 * (times[times.Count / 2 - 1] + times[times.Count / 2]);
        return new MixerBenchReport(length, mixer, median, batch, d, times.Count, WorkerPool.Shared.Threads);
    }

    /// <summary>
    /// The growth exponent of a mixer's time between two lengths: log(ms_b / ms_a) / log(L_b / L_a) (1.5 for L^1.5,
    /// about 1.1 for L log L over these ranges, 2 for L²).
    /// </summary>
    public static double GrowthExponent(IReadOnlyList<MixerBenchReport> reports, string mixer, int la, int lb)
    {
        var a = reports.First(r => r.Mixer == mixer && r.Length == la);
        var b = reports.First(r => r.Mixer == mixer && r.Length == lb);
        return Math.Log(b.Ms / a.Ms) / Math.Log((double)lb / la);
    }
}
