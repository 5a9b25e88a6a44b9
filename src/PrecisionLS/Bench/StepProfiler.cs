using System.Diagnostics;

namespace PrecisionLS.Bench;

/// <summary>
/// Wall time per named phase of the training step, summed over calls. Off unless enabled (bench --profile);
/// when off, <see cref="Start"/> and <see cref="Stop"/> cost one branch.
/// </summary>
public static class StepProfiler
{
    private static readonly Dictionary<string, (double Ms, long Calls)> Totals = [];
    public static bool Enabled { get; set; }

    /// <summary>A timestamp to hand back to <see cref="Stop"/> (0 when disabled).</summary>
    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="phase"/>.</summary>
    public static void Stop(string phase, long start)
    {
        if (!Enabled) return;
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        lock (Totals)
        {
            Totals.TryGetValue(phase, out var t);
            Totals[phase] = (t.Ms + ms, t.Calls + 1);
        }
    }

    public static void Reset() { lock (Totals) Totals.Clear(); }

    /// <summary>Phases with total milliseconds and call counts, largest first.</summary>
    public static IReadOnlyList<(string Phase, double Ms, long Calls)> Snapshot()
    {
        lock (Totals) return Totals.Select(kv => (kv.Key, kv.Value.Ms, kv.Value.Calls)).OrderByDescending(x => x.Ms).ToList();
    }
}
