using System.Globalization;
using System.Numerics;
using PrecisionLS.Config;

namespace PrecisionLS.Tasks;

/// <summary>Builds the task a config names (training.task, training.data and their kwargs).</summary>
public static class TaskCatalog
{
    /// <summary>Tasks that can be trained now.</summary>
    public static readonly IReadOnlyList<string> Available = ["explicit_gradient"];

    /// <summary>True when <paramref name="task"/> can be created now.</summary>
    public static bool IsBuilt(string task) => Available.Contains(task);

    public static ITask<T> Create<T>(RunConfig run) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = run.Training;
        if (t.Data != "least_squares")
            throw new ConfigException($"training.data '{t.Data}' is not available for task '{t.Task}'; accepted: least_squares");
        var options = LeastSquaresOptionsFrom(t.DataKwargs);
        return t.Task switch
        {
            "explicit_gradient" => Wrap(() => new ExplicitGradientTask<T>(run.Model.NDims, t.ResolvedNPoints, run.Model.ResolvedOutDims, options,
                String(t.TaskKwargs, "setting", "last", "training.task_kwargs.setting"))),
            _ => throw new ConfigException($"training.task '{t.Task}' is not built yet; available: {string.Join(", ", Available)}"),
        };
    }

    private static ITask<T> Wrap<T>(Func<ITask<T>> make) where T : unmanaged, IFloatingPointIeee754<T>
    {
        try { return make(); }
        catch (ArgumentException e) { throw new ConfigException(e.Message); }
    }

    /// <summary>normalize_a, normalize_x, scale_target, scale_cond from training.data_kwargs.</summary>
    public static LeastSquaresOptions LeastSquaresOptionsFrom(Dictionary<string, object?> kwargs)
    {
        string[] accepted = ["normalize_a", "normalize_x", "scale_target", "scale_cond"];
        foreach (var k in kwargs.Keys)
            if (!accepted.Contains(k)) throw new ConfigException($"unknown key 'training.data_kwargs.{k}'; accepted: {string.Join(", ", accepted)}");
        var o = new LeastSquaresOptions(
            normalize_a: Bool(kwargs, "normalize_a"),
            normalize_x: Bool(kwargs, "normalize_x"),
            scale_target: Double(kwargs, "scale_target") ?? 1.0,
            scale_cond: Double(kwargs, "scale_cond"));
        try { o.Validate(); }
        catch (ArgumentException e) { throw new ConfigException("training.data_kwargs." + e.Message); }
        return o;
    }

    private static bool Bool(Dictionary<string, object?> d, string key) =>
        d.TryGetValue(key, out var v) && v is not null && (v.ToString()!.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            var s => throw new ConfigException($"training.data_kwargs.{key} = '{s}' is not a boolean; accepted: true, false"),
        });

    private static double? Double(Dictionary<string, object?> d, string key)
    {
        if (!d.TryGetValue(key, out var v) || v is null) return null;
        return double.TryParse(v.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x
            : throw new ConfigException($"training.data_kwargs.{key} = '{v}' is not a number");
    }

    private static string String(Dictionary<string, object?> d, string key, string fallback, string fullKey)
    {
        foreach (var k in d.Keys)
            if (k != key) throw new ConfigException($"unknown key 'training.task_kwargs.{k}'; accepted: {key}");
        return d.TryGetValue(key, out var v) && v is not null ? v.ToString()! : fallback;
    }
}
