using System.Globalization;
using PrecisionLS.Config;
using YamlDotNet.Serialization;

namespace PrecisionLS.Training;

/// <summary>One grid axis of a sweep: a config key and the values it takes, e.g. training.learning_rate=1e-2,3e-3.</summary>
public sealed record SweepAxis(string Key, IReadOnlyList<string> Values);

/// <summary>One point of a sweep's grid: its folder name and the key=value overrides that make it.</summary>
public sealed record SweepRun(string Name, IReadOnlyList<KeyValuePair<string, string>> Assignments)
{
    /// <summary>The assignments as --set overrides ("section.key=value").</summary>
    public IEnumerable<string> Overrides => Assignments.Select(a => $"{a.Key}={a.Value}");
}

/// <summary>
/// A sweep: a base config (preset or file) with fixed overrides, and grid axes whose cross product gives the runs.
/// Saved as <c>sweep.yaml</c> in the sweep folder so the sweep can be resumed (finished runs are skipped).
/// </summary>
/// <param name="Preset">Embedded preset the runs start from, or null when <paramref name="ConfigFile"/> is used.</param>
/// <param name="ConfigFile">Absolute path of the config file the runs start from, or null.</param>
/// <param name="Overrides">--set overrides applied to every run (before the grid's).</param>
/// <param name="Axes">Grid axes; the first varies slowest.</param>
public sealed record SweepPlan(string? Preset, string? ConfigFile, IReadOnlyList<string> Overrides, IReadOnlyList<SweepAxis> Axes)
{
    /// <summary>File name of the plan inside a sweep folder.</summary>
    public const string FileName = "sweep.yaml";

    /// <summary>Parses one --grid argument, "section.key=v1,v2,...".</summary>
    public static SweepAxis ParseAxis(string spec)
    {
        int eq = spec.IndexOf('=');
        if (eq <= 0 || eq == spec.Length - 1)
            throw new ConfigException($"--grid '{spec}' must look like section.key=v1,v2 (e.g. training.learning_rate=1e-2,3e-3)");
        string key = spec[..eq].Trim();
        if (!key.Contains('.'))
            throw new ConfigException($"--grid key '{key}' must name a section: model.{key} or training.{key}");
        var values = spec[(eq + 1)..].Split(',').Select(v => v.Trim()).ToList();
        if (values.Any(v => v.Length == 0))
            throw new ConfigException($"--grid {key}: empty value in '{spec[(eq + 1)..]}'; give comma-separated values");
        var dup = values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ConfigException($"--grid {key}: value '{dup.Key}' is listed twice");
        return new SweepAxis(key, values);
    }

    /// <summary>Checks the plan: at least one axis, each key once.</summary>
    public void Validate()
    {
        if ((Preset is null) == (ConfigFile is null)) throw new ConfigException("a sweep needs exactly one of --preset or --config");
        if (Axes.Count == 0) throw new ConfigException("a sweep needs at least one --grid section.key=v1,v2");
        var dup = Axes.GroupBy(a => a.Key).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ConfigException($"--grid {dup.Key} is given twice; list all its values in one --grid");
        var names = Runs().GroupBy(r => r.Name).FirstOrDefault(g => g.Count() > 1);
        if (names is not null) throw new ConfigException($"two grid points get the folder name '{names.Key}'; choose values that differ in letters or digits");
    }

    /// <summary>The runs of the grid's cross product, the first axis varying slowest.</summary>
    public IReadOnlyList<SweepRun> Runs()
    {
        var shortKeys = Axes.Select(a => a.Key[(a.Key.LastIndexOf('.') + 1)..]).ToArray();
        var labels = Axes.Select((a, i) => shortKeys.Count(k => k == shortKeys[i]) > 1 ? a.Key : shortKeys[i]).ToArray();
        var runs = new List<SweepRun>();
        var current = new KeyValuePair<string, string>[Axes.Count];
        void Expand(int axis)
        {
            if (axis == Axes.Count)
            {
                string name = string.Join(",", current.Select((a, i) => $"{labels[i]}={Sanitize(a.Value)}"));
                runs.Add(new SweepRun(name, current.ToArray()));
                return;
            }
            foreach (var v in Axes[axis].Values)
            {
                current[axis] = new(Axes[axis].Key, v);
                Expand(axis + 1);
            }
        }
        if (Axes.Count > 0) Expand(0);
        return runs;
    }

    // Folder-name-safe: letters, digits and . _ + - stay; anything else (/, spaces, quotes) becomes '_'.
    private static string Sanitize(string value) =>
        new(value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-' ? c : '_').ToArray());

    /// <summary>The resolved config of one run: the base config, the fixed overrides, then the run's assignments.</summary>
    public RunConfig ConfigFor(SweepRun run)
    {
        var overrides = Overrides.Concat(run.Overrides).ToList();
        return Preset is not null ? ConfigLoader.FromPreset(Preset, overrides) : ConfigLoader.FromFile(ConfigFile!, overrides);
    }

    /// <summary>Writes the plan to <c>sweepDir/sweep.yaml</c> atomically.</summary>
    public void Save(string sweepDir)
    {
        Directory.CreateDirectory(sweepDir);
        var doc = new Dictionary<string, object?>();
        if (Preset is not null) doc["preset"] = Preset;
        if (ConfigFile is not null) doc["config"] = ConfigFile;
        doc["set"] = Overrides.ToList();
        doc["grid"] = Axes.Select(a => new Dictionary<string, object> { ["key"] = a.Key, ["values"] = a.Values.ToList() }).ToList();
        AtomicFile.WriteAllText(Path.Combine(sweepDir, FileName), new SerializerBuilder().Build().Serialize(doc));
    }

    /// <summary>Reads <c>sweepDir/sweep.yaml</c>; a missing or malformed file is a ConfigException naming it.</summary>
    public static SweepPlan Load(string sweepDir)
    {
        string path = Path.Combine(sweepDir, FileName);
        if (!File.Exists(path)) throw new ConfigException($"'{sweepDir}' is not a sweep folder ({FileName} is missing)");
        try
        {
            var doc = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(path))
                ?? throw new FormatException("empty file");
            string? preset = doc.TryGetValue("preset", out var p) ? p?.ToString() : null;
            string? config = doc.TryGetValue("config", out var c) ? c?.ToString() : null;
            var set = doc.TryGetValue("set", out var s) && s is List<object?> sl ? sl.Select(Text).ToList() : [];
            var axes = new List<SweepAxis>();
            if (doc.TryGetValue("grid", out var g) && g is List<object?> gl)
                foreach (var item in gl)
                {
                    if (item is not Dictionary<object, object?> d || !d.TryGetValue("key", out var k) || !d.TryGetValue("values", out var vs) || vs is not List<object?> vl)
                        throw new FormatException("each grid entry needs key: and values:");
                    axes.Add(new SweepAxis(Text(k), vl.Select(Text).ToList()));
                }
            var plan = new SweepPlan(preset, config, set, axes);
            plan.Validate();
            return plan;
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or FormatException or InvalidCastException)
        {
            throw new ConfigException($"{path} is not a sweep plan: {e.Message}");
        }
    }

    private static string Text(object? o) => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "";

    /// <summary>True when <paramref name="other"/> describes the same runs (for resuming into an existing folder).</summary>
    public bool SameAs(SweepPlan other) =>
        Preset == other.Preset && ConfigFile == other.ConfigFile && Overrides.SequenceEqual(other.Overrides) &&
        Axes.Count == other.Axes.Count && Axes.Zip(other.Axes).All(p => p.First.Key == p.Second.Key && p.First.Values.SequenceEqual(p.Second.Values));
}
