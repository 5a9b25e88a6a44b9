using System.Text.Json;

namespace PrecisionLS.Tests.Fixtures;

/// <summary>A tensor from a fixture file: shape and row-major float64 data.</summary>
public sealed record FixtureTensor(int[] Shape, double[] Data)
{
    public int Size => Data.Length;
}

/// <summary>
/// One PyTorch float64 reference case from fixtures/cases/&lt;name&gt;.json (format in ../shared/fixtures/README.md):
/// config, inputs, params, buffers, outputs, upstream and grads, each a map of named tensors.
/// </summary>
public sealed class FixtureCase
{
    public required string Name { get; init; }
    public required JsonElement Config { get; init; }
    public required Dictionary<string, FixtureTensor> Inputs { get; init; }
    public required Dictionary<string, FixtureTensor> Params { get; init; }
    public required Dictionary<string, FixtureTensor> Buffers { get; init; }
    public required Dictionary<string, FixtureTensor> Outputs { get; init; }
    public required Dictionary<string, FixtureTensor> Upstream { get; init; }
    public required Dictionary<string, FixtureTensor> Grads { get; init; }

    /// <summary>Directory holding the case files (copied next to the test assembly).</summary>
    public static string CasesDirectory => Path.Combine(AppContext.BaseDirectory, "fixtures", "cases");

    /// <summary>Loads a case by name, e.g. "linear".</summary>
    public static FixtureCase Load(string name)
    {
        string path = Path.Combine(CasesDirectory, name + ".json");
        if (!File.Exists(path)) throw new FileNotFoundException($"fixture case '{name}' not found at {path}");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        return new FixtureCase
        {
            Name = root.GetProperty("name").GetString()!,
            Config = root.GetProperty("config").Clone(),
            Inputs = Tensors(root, "inputs"),
            Params = Tensors(root, "params"),
            Buffers = Tensors(root, "buffers"),
            Outputs = Tensors(root, "outputs"),
            Upstream = Tensors(root, "upstream"),
            Grads = Tensors(root, "grads"),
        };
    }

    public int ConfigInt(string key) => Config.GetProperty(key).GetInt32();
    public double ConfigDouble(string key) => Config.GetProperty(key).GetDouble();
    public bool ConfigBool(string key) => Config.GetProperty(key).GetBoolean();
    public string ConfigString(string key) => Config.GetProperty(key).GetString()!;

    private static Dictionary<string, FixtureTensor> Tensors(JsonElement root, string key)
    {
        var result = new Dictionary<string, FixtureTensor>();
        if (!root.TryGetProperty(key, out var obj) || obj.ValueKind != JsonValueKind.Object) return result;
        foreach (var prop in obj.EnumerateObject())
        {
            int[] shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            double[] data = prop.Value.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            result[prop.Name] = new FixtureTensor(shape, data);
        }
        return result;
    }
}
