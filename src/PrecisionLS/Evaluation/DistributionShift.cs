using System.Globalization;
using PrecisionLS.Config;
using PrecisionLS.Tasks;

namespace PrecisionLS.Evaluation;

/// <summary>A run's config moved out of distribution by one shift, and the live dims to evaluate at.</summary>
/// <param name="Config">The run's config with the shifted data_kwargs or n_points.</param>
/// <param name="Dims">Live dims (a truncation below model.n_dims), or null for all of them.</param>
public sealed record ShiftedConfig(RunConfig Config, int? Dims);

/// <summary>
/// One out-of-distribution condition of <c>eval</c>: a shift kind and the absolute value it sets (REFERENCE §6: the
/// paper's shifts in condition number and target scale, plus prompt length and dimension).
/// </summary>
/// <remarks>
/// <para>Kinds and what they set (a value replaces the run's own setting; it does not multiply it):</para>
/// <list type="bullet">
/// <item>cond = κ: training.data_kwargs.scale_cond (least-squares data): singular values of A spread onto [1, κ].</item>
/// <item>scale = s: training.data_kwargs.scale_target (least-squares data: x* and x_init times s), or
/// training.data_kwargs.scale (Gaussian data of the primitive tasks: tokens times s).</item>
/// <item>points = L: training.n_points, the number of equations or examples per prompt; the prompt must still fit
/// model.n_positions.</item>
/// <item>dims = k: only the first k of model.n_dims unknowns live, the rest zeroed, exactly as the curriculum
/// truncates dims (<see cref="ITask{T}.SetSize"/>); the ODE tasks ignore dims, so it does not apply to them.</item>
/// </list>
/// </remarks>
/// <param name="Kind">cond, scale, points or dims.</param>
/// <param name="Value">The value the shift sets.</param>
public sealed record DistributionShift(string Kind, double Value)
{
    /// <summary>Shift kinds, in the order they are listed.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["cond", "scale", "points", "dims"];

    /// <summary>"cond=100": kind and value (invariant culture, shortest round-trip form).</summary>
    public string Label => $"{Kind}={Format(Value)}";

    /// <summary>A value as written on the command line.</summary>
    public static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses one --shift argument, "KIND=V1,V2,...", into one shift per value.
    /// </summary>
    /// <exception cref="ConfigException">Unknown kind, missing values or a value that is not a number (points and
    /// dims: not a positive integer); the message names the argument and what is accepted.</exception>
    public static IReadOnlyList<DistributionShift> Parse(string spec)
    {
        int eq = spec.IndexOf('=');
        string kind = eq < 0 ? spec : spec[..eq];
        if (!Kinds.Contains(kind))
            throw new ConfigException($"--shift '{spec}': unknown shift '{kind}'; accepted: {string.Join(", ", Kinds)} (as KIND=V1,V2,...)");
        if (eq < 0 || eq == spec.Length - 1)
            throw new ConfigException($"--shift '{spec}': give values as {kind}=V1,V2,... (e.g. {Example(kind)})");
        var shifts = new List<DistributionShift>();
        foreach (string text in spec[(eq + 1)..].Split(','))
        {
            if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new ConfigException($"--shift {kind}: '{text}' is not a finite number (e.g. {Example(kind)})");
            if (kind is "points" or "dims" && (v < 1 || v != Math.Floor(v) || v > int.MaxValue))
                throw new ConfigException($"--shift {kind}={text}: {kind} must be a positive integer (e.g. {Example(kind)})");
            shifts.Add(new DistributionShift(kind, v));
        }
        return shifts;
    }

    private static string Example(string kind) => kind switch
    {
        "cond" => "cond=1,10,100,1000",
        "scale" => "scale=0.1,1,10",
        "points" => "points=10,15",
        _ => "dims=3,4",
    };

    /// <summary>The shift kinds that apply to the run's task (by the data sampler it draws from).</summary>
    public static IReadOnlyList<string> AcceptedBy(RunConfig run)
    {
        var info = TaskInfo.Find(run.Training.Task);
        return info?.Data switch
        {
            "least_squares" => ["cond", "scale", "points", "dims"],
            "gaussian" => ["scale", "points", "dims"],
            _ => ["points"],            // ode_operator: no A to condition, no target scale, dims ignored
        };
    }

    /// <summary>
    /// The run's config under this shift, checked against the task and the model: the shift applies to the task,
    /// the shifted task builds, its prompts fit model.n_positions, and truncated dims are within model.n_dims.
    /// </summary>
    /// <exception cref="ConfigException">One line naming the shift, the task and what it accepts.</exception>
    public ShiftedConfig Apply(RunConfig run)
    {
        var t = run.Training;
        var accepted = AcceptedBy(run);
        if (!accepted.Contains(Kind))
            throw new ConfigException($"shift '{Kind}' does not apply to task '{t.Task}' (data '{t.Data}'{Why(t.Data)}); it accepts: {string.Join(", ", accepted)}");
        ShiftedConfig shifted;
        switch (Kind)
        {
            case "cond":
                shifted = new(WithDataKwarg(run, "scale_cond", Value), null);
                break;
            case "scale":
                shifted = new(WithDataKwarg(run, t.Data == "gaussian" ? "scale" : "scale_target", Value), null);
                break;
            case "points":
                shifted = new(run with { Training = t with { NPoints = (int)Value } }, null);
                break;
            default:
                if (Value > run.Model.NDims)
                    throw new ConfigException($"shift {Label}: task '{t.Task}' has model.n_dims = {run.Model.NDims}; accepted dims: 1..{run.Model.NDims}");
                shifted = new(run, (int)Value);
                break;
        }
        Check(shifted, run);
        return shifted;
    }

    private static string Why(string data) => data switch
    {
        "gaussian" => ": Gaussian tokens, no matrix to condition",
        "ode_operator" => ": no matrix to condition, and n_dims sets the token width",
        _ => "",
    };

    // Builds the shifted task once (cheap) so a bad value fails here, before any model runs.
    private void Check(ShiftedConfig shifted, RunConfig run)
    {
        ITask<double> task;
        try { task = TaskCatalog.Create<double>(shifted.Config); }
        catch (ConfigException e) { throw new ConfigException($"shift {Label}: {e.Message}"); }
        if (shifted.Dims is int dims)
        {
            try { task.SetSize(task.MaxPoints, dims); }
            catch (ArgumentException e) { throw new ConfigException($"shift {Label}: task '{task.Name}': {ConfigException.Reason(e)}"); }
        }
        int positions = run.Model.NPositions;
        if (task.MaxPromptLength > positions)
        {
            string fits = task is TaskBase<double> tb ? $"; points up to {MaxPointsWithin(tb, positions)} fit" : "";
            throw new ConfigException($"shift {Label}: task '{task.Name}' prompts would have {task.MaxPromptLength} tokens but the model has " +
                                      $"model.n_positions = {positions}{fits}");
        }
    }

    private static int MaxPointsWithin(TaskBase<double> task, int positions)
    {
        int p = 0;
        while (task.PromptLengthFor(p + 1) <= positions) p++;
        return p;
    }

    private static RunConfig WithDataKwarg(RunConfig run, string key, double value)
    {
        var kwargs = new Dictionary<string, object?>(run.Training.DataKwargs) { [key] = Format(value) };   // as YAML text, like every kwarg
        return run with { Training = run.Training with { DataKwargs = kwargs } };
    }
}
