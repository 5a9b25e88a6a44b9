namespace PrecisionLS.Cli;

/// <summary>Parsed "--flag value" options of one verb; unknown flags are errors that list the accepted ones.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = [];
    private readonly HashSet<string> _switches = [];

    /// <summary>Thrown for a bad command line; the message says what is accepted.</summary>
    public sealed class UsageException(string message) : Exception(message);

    /// <param name="args">Arguments after the verb.</param>
    /// <param name="valued">Flags that take a value (repeatable ones collect all values).</param>
    /// <param name="switches">Flags without a value.</param>
    public CommandLine(IReadOnlyList<string> args, string verb, string[] valued, string[] switches)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (switches.Contains(a)) { _switches.Add(a); continue; }
            if (valued.Contains(a))
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException($"{verb}: {a} needs a value");
                (_values.TryGetValue(a, out var l) ? l : _values[a] = []).Add(args[++i]);
                continue;
            }
            throw new UsageException($"{verb}: unknown argument '{a}'; accepted: {string.Join(" ", valued.Concat(switches))}");
        }
    }

    public bool Has(string flag) => _switches.Contains(flag) || _values.ContainsKey(flag);
    public string? Get(string flag) => _values.TryGetValue(flag, out var l) ? l[^1] : null;
    public IReadOnlyList<string> GetAll(string flag) => _values.TryGetValue(flag, out var l) ? l : [];

    public long? GetLong(string flag, long min = long.MinValue)
    {
        string? s = Get(flag);
        if (s is null) return null;
        if (!long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long v)
            && !(double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e18 && (v = (long)d) == v))
            throw new UsageException($"{flag} '{s}' is not an integer");
        if (v < min) throw new UsageException($"{flag} {v} must be at least {min}");
        return v;
    }
}
