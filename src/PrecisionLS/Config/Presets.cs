using System.Reflection;

namespace PrecisionLS.Config;

/// <summary>The embedded preset configs (src/PrecisionLS/Presets/*.yaml), one per experiment of the paper.</summary>
public static class Presets
{
    private const string Prefix = "PrecisionLS.Presets.";

    /// <summary>Names of every embedded preset, sorted.</summary>
    public static IReadOnlyList<string> Names =>
        Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..^".yaml".Length]).Order().ToList();

    /// <summary>The YAML text of a preset.</summary>
    public static string ReadYaml(string name)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(Prefix + name + ".yaml")
            ?? throw new ConfigException($"unknown preset '{name}'; available: {string.Join(", ", Names)}");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    /// <summary>The first comment line of a preset (its one-line description).</summary>
    public static string Description(string name)
    {
        foreach (var line in ReadYaml(name).Split('\n'))
            if (line.StartsWith('#')) return line.TrimStart('#', ' ').Trim();
        return "";
    }
}
