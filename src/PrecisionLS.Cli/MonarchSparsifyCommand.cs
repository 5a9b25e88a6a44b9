using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Monarch;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Solvers;
using PrecisionLS.Training;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>
/// `monarch sparsify --run DIR [--nblocks K] [--out NEW] [--steps N] [--threads N]`: the dense-to-Monarch path of the
/// Monarch paper. Projects a trained run's dense MLP weights onto Monarch, reports each layer's error and the
/// parameters before and after, evaluates both models, writes the Monarch model as a new run and, with --steps,
/// continues training it.
/// </summary>
public static class MonarchSparsifyCommand
{
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "monarch sparsify", ["--run", "--nblocks", "--out", "--steps", "--threads"], []);
        string dir = cl.Get("--run") ?? throw new CommandLine.UsageException("monarch sparsify: give --run DIR (a trained run whose model has dense MLPs)");
        if (cl.GetLong("--threads", 1) is long threads) WorkerPool.Configure((int)threads);
        int nblocks = (int)(cl.GetLong("--nblocks", 1) ?? 4);
        long? steps = cl.GetLong("--steps", 1);
        var dense = TrainingSession.LoadRunConfig(dir);
        var sparseCfg = MonarchSparsifier.MonarchConfig(dense, nblocks);
        if (steps is long s) sparseCfg = sparseCfg with { Training = sparseCfg.Training with { TrainSteps = s } };
        string outDir = cl.Get("--out") ?? Path.TrimEndingDirectorySeparator(dir) + $"-monarch{nblocks}";
        var summary = dense.Training.Dtype == "float32" ? Sparsify<float>(dir, sparseCfg, outDir) : Sparsify<double>(dir, sparseCfg, outDir);
        Console.WriteLine($"Monarch run: {outDir} (step 0, status {summary.Status})");
        if (steps is null)
        {
            Console.WriteLine($"continue training it: precisionls train --resume {outDir} --steps N   (or run this with --steps N)");
            return 0;
        }
        using var cancel = new StopSignals();   // Ctrl+C, SIGTERM, SIGHUP: stop after the step, checkpoint
        RunSummary trained;
        using (var observer = new ConsoleObserver(outDir))
            trained = TrainingSession.Run(new SessionOptions(sparseCfg, outDir, Resume: true), observer, cancel.Token);
        PlotCommand.WriteRunPlots(outDir);
        Console.WriteLine($"after {trained.Steps} steps of training: final eval mse {trained.FinalEvalMse:0.000e+00}, best {trained.BestEvalMse:0.000e+00} ({RunsTable.Duration(trained.WallSeconds)})");
        return 0;
    }

    private static RunSummary Sparsify<T>(string dir, RunConfig sparseCfg, string outDir) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (denseCfg, denseModel) = RunModel.Load<T>(dir);
        var trainer = new Trainer<T>(sparseCfg);
        var layers = MonarchSparsifier.Project(denseModel, trainer.Model);

        var table = new Table().Title($"dense MLP weights projected onto Monarch ({sparseCfg.Model.MlpNblocks} blocks)")
            .AddColumns("layer", "shape", "relative error", "dense params", "Monarch params");
        foreach (var l in layers)
            table.AddRow(Markup.Escape(l.Name), $"{l.Out} x {l.In}", l.RelativeError.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture),
                $"{l.DenseParameters:N0}", $"{l.MonarchParameters:N0}");
        TasksCommand.Out().Write(table);
        long mlpDense = layers.Sum(l => l.DenseParameters), mlpMonarch = layers.Sum(l => l.MonarchParameters);
        long before = denseModel.Store.TrainableCount, after = trainer.Model.Store.TrainableCount;
        Console.WriteLine($"MLP weights: {mlpDense:N0} -> {mlpMonarch:N0} ({(double)mlpMonarch / mlpDense:0.000} of dense); " +
                          $"whole model: {before:N0} -> {after:N0} trainable parameters ({(double)after / before:0.000})");

        // Both models on the same held-out batch (the run's evaluation stream).
        var denseEval = new Trainer<T>(denseCfg);
        denseModel.Store.Values.CopyTo(denseEval.Model.Store.Values, 0);
        var m0 = denseEval.Evaluate();
        var summary = RunModel.Save(trainer, sparseCfg, outDir, RunSummary.Projected);
        Console.WriteLine($"held-out mse: dense {m0.Mse:0.000e+00}, Monarch projection (no training) {summary.FinalEvalMse:0.000e+00}");
        return summary;
    }
}
