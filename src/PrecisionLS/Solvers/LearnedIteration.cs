using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Tasks;

namespace PrecisionLS.Solvers;

/// <summary>What <see cref="LearnedIteration.Run{T}"/> measured.</summary>
/// <param name="Task">explicit_gradient or multistep_gd.</param>
/// <param name="Problems">Problems iterated at once.</param>
/// <param name="Iters">Model applications.</param>
/// <param name="Eta">The fixed step given, or null for each problem's optimal step 2/(λmin+λmax) (explicit_gradient).</param>
/// <param name="StepsPerIter">Gradient steps one application stands for (k for multistep_gd, else 1).</param>
/// <param name="ModelMse">MSE to x* before iteration 1 (index 0) and after each iteration.</param>
/// <param name="GdMse">The same for exact gradient descent with the same steps, in float64.</param>
/// <param name="X">The model's last iterates [Problems, D].</param>
/// <param name="XGd">Exact GD's last iterates [Problems, D].</param>
public sealed record IterationReport(string Task, int Problems, int Iters, double? Eta, int StepsPerIter, double[] ModelMse, double[] GdMse,
    double[] X, double[] XGd)
{
    /// <summary>MSE after the last iteration.</summary>
    public double FinalMse => ModelMse[^1];
    /// <summary>Exact GD's MSE after the same number of steps.</summary>
    public double GdFinalMse => GdMse[^1];
}

/// <summary>
/// A trained (or constructed) model used as a solver (REFERENCE §5): for explicit_gradient models,
/// x ← x - η · model(prompt(A, b, x)), rebuilding the prompt from the current x each iteration; for multistep_gd
/// models, x ← model(prompt(A, b, x)), the model's own k-step map. Exact gradient descent with the same steps runs
/// alongside in float64 on the same problems.
/// </summary>
public static class LearnedIteration
{
    /// <summary>Tasks whose models can be iterated.</summary>
    public static readonly IReadOnlyList<string> Tasks = ["explicit_gradient", "multistep_gd"];

    /// <summary>Iterates a model on a set of problems.</summary>
    /// <param name="model">The model, its parameters loaded.</param>
    /// <param name="config">The model's run config (its task says how to iterate).</param>
    /// <param name="problems">Problems of the run's size (n_points, n_dims).</param>
    /// <param name="iters">Model applications.</param>
    /// <param name="eta">Fixed step; null: each problem's optimal fixed step (explicit_gradient). Must be null for multistep_gd,
    /// whose step is its task's step_size.</param>
    /// <param name="progress">Called after each iteration with (iteration, model mse).</param>
    public static IterationReport Run<T>(SequenceModel<T> model, RunConfig config, ProblemSet problems, int iters, double? eta,
        Action<int, double>? progress = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (iters < 1) throw new ConfigException($"--iters {iters} must be at least 1");
        var task = TaskCatalog.Create<T>(config);
        string name = TaskInfo.Canonical(config.Training.Task);
        int n = problems.Count, d = problems.Dims, l = problems.Points;
        if (task.Points != l) task.SetSize(l, task.Dims);
        bool multistep = name == "multistep_gd";
        if (!multistep && name != "explicit_gradient")
            throw new ConfigException($"iterate needs a model of task explicit_gradient or multistep_gd; this run's training.task is '{config.Training.Task}'");
        if (multistep && eta is not null)
            throw new ConfigException("--eta does not apply to a multistep_gd model: its step is the task's task_kwargs.step_size");
        if (eta is double e && !(e > 0 && double.IsFinite(e))) throw new ConfigException($"--eta {e} must be a positive number");

        var ms = task as MultistepGdTask<T>;
        int k = ms?.NumIters ?? 1;
        var steps = new double[n];
        for (int i = 0; i < n; i++) steps[i] = multistep ? ms!.StepSize : eta ?? OptimalStep(problems, i);

        var a = Convert<T>(problems.A); var b = Convert<T>(problems.B);
        var x = (double[])problems.XInit.Clone();
        var gd = (double[])problems.XInit.Clone();
        var xT = new T[x.Length];
        var prompt = new T[n * task.PromptLength * task.TokenDims];
        var target = new T[n * task.TargetSize];
        var output = new T[n * task.ReadPositions.Length * model.OutDims];
        var g = new double[d];
        var modelMse = new double[iters + 1];
        var gdMse = new double[iters + 1];
        modelMse[0] = gdMse[0] = problems.Mse(x);
        for (int it = 1; it <= iters; it++)
        {
            for (int i = 0; i < x.Length; i++) xT[i] = T.CreateChecked(x[i]);
            if (multistep) ms!.BuildPrompt(a, xT, b, n, prompt, target);
            else ((ExplicitGradientTask<T>)task).BuildPrompt(a, xT, b, n, prompt, target);
            model.Forward(prompt, n, task.PromptLength, task.ReadPositions, output);
            for (int i = 0; i < n; i++)
                for (int c = 0; c < d; c++)
                {
                    double y = double.CreateChecked(output[i * model.OutDims + c]);
                    x[i * d + c] = multistep ? y : x[i * d + c] - steps[i] * y;
                }
            for (int i = 0; i < n; i++)
                for (int s = 0; s < k; s++)
                {
                    var xi = gd.AsSpan(i * d, d);
                    problems.Gradient(i, xi, g);
                    for (int c = 0; c < d; c++) xi[c] -= steps[i] * g[c];
                }
            modelMse[it] = problems.Mse(x);
            gdMse[it] = problems.Mse(gd);
            progress?.Invoke(it, modelMse[it]);
        }
        return new IterationReport(name, n, iters, multistep ? ms!.StepSize : eta, k, modelMse, gdMse, x, gd);
    }

    /// <summary>The fastest fixed step for problem <paramref name="i"/>: 2/(λmin+λmax) of (1/L) AᵀA.</summary>
    public static double OptimalStep(ProblemSet problems, int i)
    {
        int d = problems.Dims, l = problems.Points;
        var a = problems.AOf(i);
        var h = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(d, d);
        for (int r = 0; r < l; r++)
            for (int p = 0; p < d; p++)
                for (int q = 0; q < d; q++)
                    h[p, q] += a[r * d + p] * a[r * d + q] / l;
        var eig = h.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric).EigenValues;
        double lo = eig.Min(z => z.Real), hi = eig.Max(z => z.Real);
        return 2 / (lo + hi);
    }

    private static T[] Convert<T>(double[] v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = T.CreateChecked(v[i]);
        return r;
    }
}
