using System.Globalization;
using PrecisionLS.Config;

namespace PrecisionLS.Tasks;

/// <summary>
/// Typed reads from a config mapping (training.task_kwargs, training.data_kwargs) that reject unknown keys and
/// badly typed values with a message naming the full key and what is accepted.
/// </summary>
internal sealed class Kwargs
{
    private readonly Dictionary<string, object?> _values;
    private readonly string _section;

    /// <param name="values">The mapping from the config.</param>
    /// <param name="section">Its full key, e.g. "training.task_kwargs".</param>
    /// <param name="accepted">Keys this task or sampler accepts.</param>
    /// <param name="owner">Who accepts them, for the message (e.g. "task 'read'").</param>
    public Kwargs(Dictionary<string, object?> values, string section, IReadOnlyCollection<string> accepted, string owner)
    {
        _values = values; _section = section;
        foreach (var k in values.Keys)
            if (!accepted.Contains(k))
                throw new ConfigException($"unknown key '{section}.{k}' for {owner}; accepted: {(accepted.Count == 0 ? "none" : string.Join(", ", accepted))}");
    }

    private string? Raw(string key) => _values.TryGetValue(key, out var v) && v is not null ? v.ToString() : null;

    public string String(string key, string fallback) => Raw(key) ?? fallback;

    public bool Bool(string key, bool fallback = false) => Raw(key)?.ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        var s => throw new ConfigException($"{_section}.{key} = '{s}' is not a boolean; accepted: true, false"),
    };

    public double? Double(string key) => Raw(key) is not { } s ? null
        : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x
        : throw new ConfigException($"{_section}.{key} = '{s}' is not a number");

    public int? Int(string key) => Raw(key) is not { } s ? null
        : int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) ? x
        : double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue ? (int)d
        : throw new ConfigException($"{_section}.{key} = '{s}' is not an integer");
}
