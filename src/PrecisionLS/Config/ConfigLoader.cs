using System.Globalization;
using System.Reflection;
using System.Text;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace PrecisionLS.Config;

/// <summary>
/// Reads configs in the authors' layout (model: / training: sections, optional inherit: list), from an
/// embedded preset or a file, applies dotted command-line overrides last ("training.learning_rate=1e-3"),
/// and maps them onto <see cref="ModelConfig"/> and <see cref="TrainingConfig"/>. Unknown keys and values of
/// the wrong type fail with a message that names the key and lists what is accepted.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Loads an embedded preset by name (see <see cref="Presets"/>), then applies overrides.</summary>
    public static RunConfig FromPreset(string preset, IEnumerable<string>? overrides = null)
    {
        _where = [];
        var tree = LoadTree(Presets.ReadYaml(preset), $"preset '{preset}'", baseDir: null, depth: 0);
        return Build(tree, overrides, preset);
    }

    /// <summary>Loads a YAML file (inherit: paths are relative to it, or preset names), then applies overrides.</summary>
    public static RunConfig FromFile(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new ConfigException($"config file '{path}' does not exist");
        _where = [];
        var tree = LoadTree(File.ReadAllText(path), $"file '{path}'", Path.GetDirectoryName(Path.GetFullPath(path)), 0);
        if (tree.Count == 0)
            throw new ConfigException($"config file '{path}' is empty; it needs model: and training: sections, or inherit: a preset (e.g. inherit: [explicit-gradient])");
        return Build(tree, overrides, null);
    }

    /// <summary>Parses YAML text (a resolved config.yaml, or one built in code), then applies overrides.</summary>
    public static RunConfig FromYaml(string yaml, string origin, IEnumerable<string>? overrides = null)
    {
        _where = [];
        var tree = LoadTree(yaml, origin, null, 0);
        string? preset = tree.TryGetValue("preset", out var p) ? p?.ToString() : null;
        tree.Remove("preset");
        return Build(tree, overrides, preset);
    }

    /// <summary>The resolved config as YAML (every key, defaults included), as written to runs/&lt;name&gt;/config.yaml.</summary>
    public static string ToYaml(RunConfig config)
    {
        var root = new Dictionary<string, object?>();
        if (config.Preset is not null) root["preset"] = config.Preset;
        root["model"] = ToDictionary(config.Model);
        root["training"] = ToDictionary(config.Training);
        return new SerializerBuilder().Build().Serialize(root);
    }

    /// <summary>
    /// The resolved config as "section.key" → value text (nested sections joined with dots, lists as "[a, b]"),
    /// for comparing runs key by key.
    /// </summary>
    public static SortedDictionary<string, string> Flatten(RunConfig config)
    {
        var flat = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Walk(string prefix, object? node)
        {
            switch (node)
            {
                case IDictionary<string, object?> d:
                    foreach (var (k, v) in d) Walk(prefix.Length == 0 ? k : $"{prefix}.{k}", v);
                    break;
                case System.Collections.IDictionary d:
                    foreach (System.Collections.DictionaryEntry e in d) Walk(prefix.Length == 0 ? $"{e.Key}" : $"{prefix}.{e.Key}", e.Value);
                    break;
                case string str:
                    flat[prefix] = str;
                    break;
                case System.Collections.IEnumerable list:
                    flat[prefix] = "[" + string.Join(", ", list.Cast<object?>().Select(x => System.Convert.ToString(x, CultureInfo.InvariantCulture))) + "]";
                    break;
                default:
                    flat[prefix] = System.Convert.ToString(node, CultureInfo.InvariantCulture) ?? "";
                    break;
            }
        }
        // Through the YAML text so values read exactly as in config.yaml.
        var tree = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(ToYaml(config));
        tree.Remove("preset");
        Walk("", tree);
        return flat;
    }

    // Where each key path was last set ("file 'a.yaml', line 7", "--set"), for error messages; one per load.
    [ThreadStatic] private static Dictionary<string, string>? _where;

    private static string Where(string path) => _where is not null && _where.TryGetValue(path, out var w) ? $" ({w})" : "";

    // The authors' names for our keys (their configs load as they are).
    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["training.scheduler_steprate"] = "step_rate",
        ["training.scheduler_gamma"] = "gamma",
    };

    // Keys of the authors' configs that only drive their logging service or bookkeeping: accepted, no effect.
    private static readonly Dictionary<string, string> Ignored = new()
    {
        ["wandb"] = "the authors' logging service settings",
        ["autoname"] = "the authors' run naming",
        ["test_run"] = "the authors' smoke-test switch",
        ["training.keep_every_steps"] = "permanent snapshots (checkpoints/latest.ckpt is kept instead)",
        ["training.resume_id"] = "the authors' run id (use train --resume DIR)",
        ["training.track_grad"] = "the authors' gradient logging",
    };

    private static RunConfig Build(Dictionary<string, object?> tree, IEnumerable<string>? overrides, string? preset)
    {
        foreach (var o in overrides ?? []) ApplyOverride(tree, o);
        var notes = new List<string>();
        foreach (var (path, why) in Ignored)
        {
            var parts = path.Split('.');
            var node = parts.Length == 1 ? tree : tree.TryGetValue(parts[0], out var sec) ? sec as Dictionary<string, object?> : null;
            if (node is not null && node.Remove(parts[^1])) notes.Add($"'{path}' is ignored: {why}");
        }
        string? outDir = tree.Remove("out_dir", out var od) ? od?.ToString() : null;
        foreach (var key in tree.Keys)
            if (key is not ("model" or "training"))
                throw new ConfigException($"unknown top-level key '{key}'{Where(key)}{Suggest(key, ["model", "training", "inherit", "out_dir"])}; accepted: model, training, inherit, out_dir");
        var modelSection = Section(tree, "model");
        if (modelSection.Remove("use_bias", out var useBias) && !string.Equals(useBias?.ToString(), "true", StringComparison.OrdinalIgnoreCase))
            throw new ConfigException($"model.use_bias = '{useBias}'{Where("model.use_bias")}: only true is supported (every fixture and preset of the paper uses biases)");
        var trainingSection = Section(tree, "training");
        foreach (var (alias, key) in Aliases)
        {
            string name = alias["training.".Length..];
            if (!trainingSection.Remove(name, out var v)) continue;
            if (trainingSection.ContainsKey(key))
                throw new ConfigException($"{alias}{Where(alias)} and training.{key}{Where("training." + key)} set the same value; keep one");
            trainingSection[key] = v;
            if (_where is not null && _where.TryGetValue(alias, out var w)) _where["training." + key] = w;
        }
        var model = FromDictionary<ModelConfig>(modelSection, "model");
        var training = FromDictionary<TrainingConfig>(trainingSection, "training");
        // A run may start elsewhere than it was configured: its init_from names one file wherever it is read.
        if (training.InitFrom.Length > 0) training = training with { InitFrom = Path.GetFullPath(training.InitFrom) };
        ValidateCurriculum(model, training);
        return new RunConfig(model, training, preset) { OutDir = outDir, Notes = notes };
    }

    // ", did you mean 'x'?" for the accepted key closest to a mistyped one (edit distance at most 3).
    private static string Suggest(string key, IEnumerable<string> accepted)
    {
        string? best = null; int bestDistance = int.MaxValue;
        foreach (var a in accepted)
        {
            int dist = EditDistance(key, a);
            if (dist < bestDistance) { bestDistance = dist; best = a; }
        }
        return best is not null && bestDistance <= Math.Max(1, Math.Min(3, key.Length / 2)) ? $"; did you mean '{best}'?" : "";
    }

    private static int EditDistance(string a, string b)
    {
        var prev = new int[b.Length + 1]; var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    // The curriculum's end sizes are the same quantities as n_points and model.n_dims: they must agree.
    private static void ValidateCurriculum(ModelConfig model, TrainingConfig training)
    {
        if (training.NPoints < 0) throw new ConfigException($"training.n_points = {training.NPoints}: must be at least 1 (0 = from the curriculum)");
        var c = training.Curriculum;
        if (c is null) return;
        if (c.Points is { } p)
        {
            p.Validate("training.curriculum.points");
            if (training.NPoints > 0 && training.NPoints != p.End)
                throw new ConfigException($"training.n_points = {training.NPoints} but training.curriculum.points.end = {p.End}: " +
                    "they are the same quantity (the full prompt size); set one of them, or make them equal");
        }
        if (c.Dims is { } d)
        {
            d.Validate("training.curriculum.dims");
            if (d.End != model.NDims)
                throw new ConfigException($"training.curriculum.dims.end = {d.End} but model.n_dims = {model.NDims}: the curriculum must end at the full dimension");
        }
    }

    private static Dictionary<string, object?> Section(Dictionary<string, object?> tree, string name) =>
        tree.TryGetValue(name, out var v) ? v as Dictionary<string, object?> ?? throw new ConfigException($"'{name}' must be a mapping of keys") : [];

    private static Dictionary<string, object?> LoadTree(string yaml, string origin, string? baseDir, int depth)
    {
        if (depth > 8) throw new ConfigException($"inherit: chain deeper than 8 levels at {origin} (a cycle?)");
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlDotNet.Core.YamlException e) { throw new ConfigException($"{origin}: invalid YAML at line {e.Start.Line}: {e.Message}"); }
        catch (InvalidOperationException) { throw new ConfigException($"{origin}: invalid YAML (the text ends inside a [list], {{mapping}} or quote?)"); }
        if (stream.Documents.Count == 0) return [];
        if (stream.Documents[0].RootNode is not YamlMappingNode map) throw new ConfigException($"{origin}: the top level must be a mapping (model:, training:)");
        var whereBefore = _where is null ? null : new Dictionary<string, string>(_where);
        var tree = (Dictionary<string, object?>)Convert(map, "", origin)!;
        // Where this file set each key: re-applied after its parents load, since the file overrides what it inherits.
        var whereMine = _where is null ? [] : _where.Where(kv => whereBefore is null || !whereBefore.TryGetValue(kv.Key, out var w) || w != kv.Value).ToList();
        var result = new Dictionary<string, object?>();
        if (tree.Remove("inherit", out var inherit))
        {
            var parents = inherit switch
            {
                string s => [s],
                List<object?> l => l.Select(x => x?.ToString() ?? "").ToList(),
                _ => throw new ConfigException($"{origin}: inherit must be a name or a list of names"),
            };
            foreach (var parent in parents)
            {
                string? file = baseDir is null ? null : Path.Combine(baseDir, parent);
                string presetName = Path.GetFileNameWithoutExtension(parent);
                if ((file is null || !File.Exists(file)) && !Presets.Names.Contains(presetName))
                    throw new ConfigException($"{origin}: inherit '{parent}' is neither a file{(file is null ? "" : $" (no '{file}')")} " +
                                              $"nor a preset (available: {string.Join(", ", Presets.Names)})");
                var parentTree = file is not null && File.Exists(file)
                    ? LoadTree(File.ReadAllText(file), $"file '{file}'", Path.GetDirectoryName(file), depth + 1)
                    : LoadTree(Presets.ReadYaml(presetName), $"preset '{presetName}'", null, depth + 1);
                Merge(result, parentTree);
            }
        }
        if (_where is not null) foreach (var (key, w) in whereMine) _where[key] = w;
        Merge(result, tree);
        return result;
    }

    private static void Merge(Dictionary<string, object?> into, Dictionary<string, object?> from)
    {
        foreach (var (k, v) in from)
        {
            if (v is Dictionary<string, object?> sub && into.TryGetValue(k, out var existing) && existing is Dictionary<string, object?> target)
                Merge(target, sub);
            else into[k] = v is Dictionary<string, object?> d ? new Dictionary<string, object?>(d) : v;
        }
    }

    // YAML node -> dictionaries, lists and strings; records where each key path was set.
    private static object? Convert(YamlNode node, string path, string origin)
    {
        switch (node)
        {
            case YamlMappingNode m:
                var d = new Dictionary<string, object?>();
                foreach (var (k, v) in m.Children)
                {
                    string key = ((YamlScalarNode)k).Value ?? "";
                    string child = path.Length == 0 ? key : path + "." + key;
                    if (_where is not null) _where[child] = $"{origin}, line {k.Start.Line}";
                    d[key] = Convert(v, child, origin);
                }
                return d;
            case YamlSequenceNode seq:
                return seq.Children.Select(c => Convert(c, path, origin)).ToList();
            case YamlScalarNode sc:
                return sc.Value is null or "~" or "null" && sc.Style == YamlDotNet.Core.ScalarStyle.Plain ? null : sc.Value;
            default:
                return null;
        }
    }

    /// <summary>Applies "section.key=value" (or "section.sub.key=value") to the tree.</summary>
    public static void ApplyOverride(Dictionary<string, object?> tree, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException($"override '{assignment}' must look like section.key=value, e.g. training.learning_rate=1e-3");
        string path = assignment[..eq].Trim(), value = assignment[(eq + 1)..].Trim();
        if (_where is not null) _where[path] = $"--set {path}";
        var parts = path.Split('.');
        if (parts.Length < 2) throw new ConfigException($"override key '{path}' must name a section: model.{path} or training.{path}");
        var node = tree;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (!node.TryGetValue(parts[i], out var child) || child is not Dictionary<string, object?> d)
                node[parts[i]] = d = [];
            node = d;
        }
        node[parts[^1]] = value;
    }

    /// <summary>snake_case of a PascalCase property name: NPositions → n_positions.</summary>
    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private static IEnumerable<PropertyInfo> Keys(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    private static T FromDictionary<T>(Dictionary<string, object?> values, string section) where T : new() =>
        (T)FromDictionary(typeof(T), values, section);

    private static object FromDictionary(Type type, Dictionary<string, object?> values, string section)
    {
        var result = Activator.CreateInstance(type)!;
        var props = Keys(type).ToDictionary(p => SnakeCase(p.Name));
        foreach (var (key, raw) in values)
        {
            if (!props.TryGetValue(key, out var prop))
                throw new ConfigException($"unknown key '{section}.{key}'{Where(section + "." + key)}{Suggest(key, props.Keys)}; " +
                    $"accepted {section} keys: {string.Join(", ", props.Keys.Order())}");
            string full = $"{section}.{key}";
            try { prop.SetValue(result, ConvertValue(raw, prop.PropertyType, full)); }
            catch (ConfigException e) when (!IsSection(prop.PropertyType) && Where(full).Length > 0)
            {
                throw new ConfigException(e.Message + Where(full));   // say where the bad value was written
            }
        }
        return result;
    }

    // A nested section (a record of config keys, e.g. training.curriculum.points).
    private static bool IsSection(Type type) => type.IsClass && type != typeof(string) && type.Namespace == typeof(ConfigLoader).Namespace;

    private static object? ConvertValue(object? raw, Type type, string key)
    {
        if (IsSection(type))
            return raw switch
            {
                null => null,
                Dictionary<string, object?> d => FromDictionary(type, d, key),
                _ => throw new ConfigException($"{key} must be a mapping of keys, got '{raw}'"),
            };
        if (type == typeof(Dictionary<string, object?>))
            return raw switch
            {
                null => new Dictionary<string, object?>(),
                Dictionary<string, object?> d => d,
                _ => throw new ConfigException($"{key} must be a mapping, got '{raw}'"),
            };
        string? s = raw as string;
        if (raw is not null && s is null) throw new ConfigException($"{key} must be a single value, got a {(raw is List<object?> ? "list" : "mapping")}");
        var inv = CultureInfo.InvariantCulture;
        if (type == typeof(string)) return s ?? throw new ConfigException($"{key} must not be empty");
        if (s is null) throw new ConfigException($"{key} must have a value");
        if (type == typeof(int))
            return int.TryParse(s, NumberStyles.Integer, inv, out int i) ? i
                : double.TryParse(s, NumberStyles.Float, inv, out double di) && di == Math.Floor(di) && Math.Abs(di) < int.MaxValue ? (int)di
                : throw new ConfigException($"{key} = '{s}' is not an integer");
        if (type == typeof(long))
            return long.TryParse(s, NumberStyles.Integer, inv, out long l) ? l
                : double.TryParse(s, NumberStyles.Float, inv, out double dl) && dl == Math.Floor(dl) && Math.Abs(dl) < 9e18 ? (long)dl
                : throw new ConfigException($"{key} = '{s}' is not an integer");
        if (type == typeof(ulong))
            return ulong.TryParse(s, NumberStyles.Integer, inv, out ulong u) ? u : throw new ConfigException($"{key} = '{s}' is not a non-negative integer");
        if (type == typeof(double))
            return double.TryParse(s, NumberStyles.Float, inv, out double d) ? d : throw new ConfigException($"{key} = '{s}' is not a number");
        if (type == typeof(bool))
            return s.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" => true,
                "false" or "no" or "off" => false,
                _ => throw new ConfigException($"{key} = '{s}' is not a boolean; accepted: true, false"),
            };
        throw new InvalidOperationException($"config key {key} has unsupported type {type.Name}");
    }

    private static Dictionary<string, object?> ToDictionary(object value)
    {
        var d = new Dictionary<string, object?>();
        foreach (var p in Keys(value.GetType()))
        {
            object? v = p.GetValue(value);
            if (v is null && IsSection(p.PropertyType)) continue;    // an absent optional section stays absent
            d[SnakeCase(p.Name)] = v switch
            {
                double x => x.ToString("R", CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                not null when IsSection(v.GetType()) => ToDictionary(v),
                _ => v,
            };
        }
        return d;
    }
}
