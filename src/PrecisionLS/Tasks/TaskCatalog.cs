using System.Numerics;
using PrecisionLS.Config;

namespace PrecisionLS.Tasks;

/// <summary>Builds the task a config names (training.task, training.data and their kwargs).</summary>
public static class TaskCatalog
{
    /// <summary>Config names of every task.</summary>
    public static IReadOnlyList<string> Names => TaskInfo.All.Select(t => t.Name).ToList();

    /// <summary>Creates the task of <paramref name="run"/>; bad names, kwargs or sizes throw <see cref="ConfigException"/>.</summary>
    public static ITask<T> Create<T>(RunConfig run) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = run.Training;
        var info = TaskInfo.Find(t.Task)
            ?? throw new ConfigException($"training.task '{t.Task}' is unknown; accepted: {string.Join(", ", Names)}");
        if (t.Data != info.Data)
            throw new ConfigException($"training.data '{t.Data}' does not feed task '{info.Name}'; set training.data: {info.Data}");
        int d = run.Model.NDims, points = t.ResolvedNPoints, outDims = run.Model.ResolvedOutDims;
        var kw = new Kwargs(t.TaskKwargs, "training.task_kwargs", info.Kwargs, $"task '{info.Name}'");
        try
        {
            return info.Name switch
            {
                "identity" or "square" or "elementwise_multiply" or "read" or "linear" =>
                    new PrimitiveTask<T>(info.Name, d, points, outDims, GaussianOptionsFrom(t.DataKwargs), kw.Int("seed") ?? 0, kw.Int("sparsity")),
                "least_squares" => new LeastSquaresTask<T>(d, points, outDims, LeastSquaresOptionsFrom(t.DataKwargs)),
                "least_squares_icl" => new LeastSquaresIclTask<T>(d, points, outDims, LeastSquaresOptionsFrom(t.DataKwargs), kw.String("setting", "neighboring")),
                "explicit_gradient" => new ExplicitGradientTask<T>(d, points, outDims, LeastSquaresOptionsFrom(t.DataKwargs), kw.String("setting", "last")),
                "multistep_gd" => new MultistepGdTask<T>(d, points, outDims, LeastSquaresOptionsFrom(t.DataKwargs),
                    kw.Int("num_iters") ?? 1, kw.Double("step_size") ?? 0.5),
                // For the ODE tasks n_dims is Dn, the number of points c is evaluated at (tokens are Dn + 3 wide).
                "ode_icl" => new OdeIclTask<T>(d, points, outDims, OdeOptionsFrom(t.DataKwargs), kw.Double("noise_variance") ?? 0),
                "ode_icl_final" => new OdeIclFinalTask<T>(d, points, outDims, OdeOptionsFrom(t.DataKwargs), kw.Double("noise_variance") ?? 0),
                _ => throw new InvalidOperationException($"TaskInfo lists '{info.Name}' but the catalog cannot build it"),
            };
        }
        catch (ArgumentException e) { throw new ConfigException($"task '{info.Name}': {ConfigException.Reason(e)}"); }
    }

    /// <summary>normalize_a, normalize_x, scale_target, scale_cond from training.data_kwargs.</summary>
    public static LeastSquaresOptions LeastSquaresOptionsFrom(Dictionary<string, object?> kwargs)
    {
        var kw = new Kwargs(kwargs, "training.data_kwargs", ["normalize_a", "normalize_x", "scale_target", "scale_cond"], "data 'least_squares'");
        var o = new LeastSquaresOptions(
            normalize_a: kw.Bool("normalize_a"),
            normalize_x: kw.Bool("normalize_x"),
            scale_target: kw.Double("scale_target") ?? 1.0,
            scale_cond: kw.Double("scale_cond"));
        try { o.Validate(); }
        catch (ArgumentException e) { throw new ConfigException("training.data_kwargs." + ConfigException.Reason(e)); }
        return o;
    }

    /// <summary>c_sampling, eqn_class, operator_scale, gp_length, u0_scale from training.data_kwargs (the authors' seed
    /// key is accepted and ignored: the run's seed drives all sampling).</summary>
    public static OdeOperatorOptions OdeOptionsFrom(Dictionary<string, object?> kwargs)
    {
        var kw = new Kwargs(kwargs, "training.data_kwargs", ["c_sampling", "eqn_class", "operator_scale", "gp_length", "u0_scale", "seed"], "data 'ode_operator'");
        var defaults = new OdeOperatorOptions();
        var o = new OdeOperatorOptions(
            c_sampling: kw.String("c_sampling", defaults.c_sampling),
            eqn_class: kw.Int("eqn_class") ?? defaults.eqn_class,
            operator_scale: kw.Double("operator_scale") ?? defaults.operator_scale,
            gp_length: kw.Double("gp_length") ?? defaults.gp_length,
            u0_scale: kw.Double("u0_scale") ?? defaults.u0_scale);
        try { o.Validate(); }
        catch (ArgumentException e) { throw new ConfigException("training.data_kwargs." + ConfigException.Reason(e)); }
        return o;
    }

    /// <summary>normalize, scale from training.data_kwargs.</summary>
    public static GaussianOptions GaussianOptionsFrom(Dictionary<string, object?> kwargs)
    {
        var kw = new Kwargs(kwargs, "training.data_kwargs", ["normalize", "scale"], "data 'gaussian'");
        return new GaussianOptions(normalize: kw.Bool("normalize"), scale: kw.Double("scale") ?? 1.0);
    }
}
