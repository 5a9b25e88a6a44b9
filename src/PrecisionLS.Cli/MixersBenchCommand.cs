using System.Text.Json;
using PrecisionLS.Bench;
using PrecisionLS.Numerics;

namespace PrecisionLS.Cli;

/// <summary>
/// <c>bench mixers [--lengths 256,1024,4096,16384] [--width 64] [--batch 1] [--mixers m2,attention,baseconv_long]
/// [--seconds S] [--threads N] [--json]</c>: forward + backward time of the sequence mixers at each length
/// (<see cref="MixerBenchmark"/>). --json prints one list of {length, mixer, ms, batch, width, samples, threads}.
/// </summary>
public static class MixersBenchCommand
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "bench mixers", ["--lengths", "--width", "--batch", "--mixers", "--seconds", "--threads"], ["--json"]);
        long? threads = cl.GetLong("--threads", 1);
        if (threads is not null) WorkerPool.Configure((int)threads);
        var lengths = new List<int>();
        foreach (var item in (cl.Get("--lengths") ?? "256,1024,4096,16384").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            lengths.Add(int.TryParse(item, out int v) && v >= 2 ? v : throw new CommandLine.UsageException($"--lengths '{item}' is not an integer of at least 2; give a comma-separated list, e.g. --lengths 256,1024,4096"));
        int width = (int)(cl.GetLong("--width", 1) ?? 64);
        int batch = (int)(cl.GetLong("--batch", 1) ?? 1);
        double seconds = cl.Get("--seconds") is { } s ? (double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out double sv) && sv > 0 ? sv
            : throw new CommandLine.UsageException($"--seconds '{s}' is not a positive number")) : 2.0;
        var mixers = cl.Get("--mixers")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        bool json = cl.Has("--json");
        var reports = MixerBenchmark.Run(lengths, width, batch, seconds, mixers,
            json ? null : r => Console.WriteLine($"L={r.Length,6} {r.Mixer,-14} {r.Ms,12:F2} ms  ({r.Samples} samples, batch {r.Batch}, width {r.Width}, {r.Threads} threads)"));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(reports, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            return 0;
        }
        var ls = lengths.Distinct().Order().ToList();
        var ms = mixers ?? MixerBenchmark.Mixers;
        if (ls.Count >= 2)
            foreach (var m in ms)
                Console.WriteLine($"{m}: time grows like L^{MixerBenchmark.GrowthExponent(reports, m, ls[0], ls[^1]):F2} from L={ls[0]} to L={ls[^1]}");
        foreach (int l in ls)
        {
            var m2 = reports.FirstOrDefault(r => r.Mixer == "m2" && r.Length == l);
            var at = reports.FirstOrDefault(r => r.Mixer == "attention" && r.Length == l);
            if (m2 is not null && at is not null) Console.WriteLine($"L={l}: M2 is {at.Ms / m2.Ms:F1}x faster than softmax attention");
        }
        return 0;
    }
}
