using System.Text.Json;
using PrecisionLS.Bench;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Training;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>The precisionls command line: parses arguments, calls one library entry point per verb, prints.</summary>
public static class Program
{
    private const string Usage = """
        precisionls: learn numerical algorithms with sequence models to machine precision.

        usage:
          precisionls train --preset NAME [--steps N] [--out DIR] [--dtype float64|float32] [--seed S]
                            [--threads N] [--set section.key=value ...]
          precisionls train --config FILE [same options]
          precisionls train --resume DIR [--steps N] [--threads N]
                            (any train: --max-minutes M stops cleanly at a wall-clock budget)
          precisionls train --preset NAME|--config FILE --init-from FILE.safetensors [same options]
          precisionls export --run DIR --format safetensors [--out FILE] [--dtype float64|float32]
          precisionls eval --run DIR [--shift cond=1,10,100|scale=0.1,1,10|points=10,15|dims=3,4 ...] [--batches N]
                           [--batch-size B] [--seed S] [--threads N] [--json]
          precisionls solve --run DIR|--preset NAME|--config FILE [--method qr|normal|cg|gd|all] [--problems N]
                            [--iters K] [--seed S] [--set section.key=value ...] [--json]
          precisionls sweep --preset NAME|--config FILE --grid section.key=v1,v2 [--grid ...] [--steps N]
                            [--parallel N] [--threads N] [--out DIR] [--set ...]
          precisionls sweep --resume DIR [--parallel N] [--threads N]
          precisionls runs list [DIR] [--json]
          precisionls runs compare DIR... [--json]
          precisionls plot DIR... [--out FILE]
          precisionls construct baseconv-gd|linear-attention-gd [--dims D] [--points L] [--dtype T] [--out DIR]
          precisionls iterate --run DIR [--iters K] [--eta E] [--problems N] [--seed S] [--out PNG] [--json]
          precisionls reproduce precision|ood-gap|primitives|dtype|time-to-precision [--budget MINUTES] [--out DIR] [--seed S]
          precisionls bench train-step --preset NAME [--dtype ...] [--steps N] [--batch N] [--threads N] [--profile] [--json]
          precisionls bench gemm [--threads N] [--json]
          precisionls monarch project --input M.npy|M.csv [--nblocks K | --sizes A,B] [--out F.npz|F.npy]
                            [--dense-out P.npy|P.csv] [--json]
          precisionls monarch factor dft|hadamard --n N [--json]
          precisionls monarch sparsify --run DIR [--nblocks K] [--out NEW] [--steps N]
          precisionls bench monarch [--n 256,1024,4096] [--batch 1024] [--threads N] [--json]
          precisionls bench mixers [--lengths 256,1024,4096,16384] [--width 64] [--batch 1] [--threads N] [--json]
          precisionls presets
          precisionls tasks
          precisionls config show --preset NAME|--config FILE [--set section.key=value ...]
          precisionls tasks show TASK [--set section.key=value ...] [--seed S]

        Runs are written to runs/<preset>-<time>/ (config.yaml, metrics.jsonl/.csv, checkpoints/, plots/, summary.json).
        export writes the authors' PyTorch state dict (names, shapes, layouts) to DIR/model.safetensors;
        --init-from FILE (= --set training.init_from=FILE) starts a new run from such a file.
        monarch project finds the nearest Monarch matrix (MonarchLinear layout, nblocks sqrt(n) for a square n = m^2, else 4);
        monarch factor multiplies out a transform's exact Monarch factors.
        """;

    public static int Main(string[] args)
    {
        // MathNet only ever factors small matrices here (20x5 samples, Monarch blocks); its Parallel.For on each
        // one costs more than it saves, badly so on a busy machine (MathNetThreading). We parallelise over problems.
        MathNet.Numerics.Control.MaxDegreeOfParallelism = 1;
        return Run(args, Console.Error);
    }

    /// <summary>Runs one command; errors go to <paramref name="errors"/> as one line, with a non-zero exit code.</summary>
    public static int Run(string[] args, TextWriter errors)
    {
        int Fail(string message, int code = 2)
        {
            errors.WriteLine("error: " + message);
            return code;
        }

        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
            var rest = args.Skip(1).ToArray();
            return args[0] switch
            {
                "train" => Train(rest),
                "bench" => Bench(rest),
                "presets" => ListPresets(rest),
                "tasks" => TasksCommand.Run(rest),
                "config" => ShowConfig(rest),
                "sweep" => SweepCommand.Run(rest),
                "runs" => RunsCommand.Run(rest),
                "plot" => PlotCommand.Run(rest),
                "export" => ExportCommand.Run(rest),
                "construct" => ConstructCommand.Run(rest),
                "iterate" => IterateCommand.Run(rest),
                "reproduce" => ReproduceCommand.Run(rest),
                "monarch" => MonarchCommand.Run(rest),
                "eval" => EvalCommand.Run(rest),
                "solve" => SolveCommand.Run(rest),
                _ => throw new CommandLine.UsageException($"unknown verb '{args[0]}'; accepted: train, sweep, runs, plot, export, eval, solve, construct, iterate, reproduce, monarch, bench, presets, tasks, config (see --help)"),
            };
        }
        catch (CommandLine.UsageException e) { return Fail(e.Message); }
        catch (ConfigException e) { return Fail(e.Message); }
        catch (TrainingDivergedException e) { return Fail(e.Message, 3); }
        catch (InvalidDataException e) { return Fail(e.Message); }
        catch (FileNotFoundException e) { return Fail(e.Message); }
        catch (IOException e) { return Fail("I/O error: " + e.Message); }
        catch (UnauthorizedAccessException e) { return Fail("permission denied: " + e.Message); }
        catch (Exception e) when (Environment.GetEnvironmentVariable("PRECISIONLS_TRACE") != "1" && e is not OutOfMemoryException)
        {
            // A bug, not a user error: one line, and how to get the stack trace for a report.
            return Fail($"internal error ({e.GetType().Name}: {e.Message}); please report it, with the stack trace from PRECISIONLS_TRACE=1", 70);
        }
    }

    /// <summary>"1 thread", "2 threads".</summary>
    internal static string Plural(long n, string noun) => n == 1 ? $"{n} {noun}" : $"{n} {noun}s";

    private static void ConfigureThreads(CommandLine cl)
    {
        long? threads = cl.GetLong("--threads", 1);
        if (threads is not null) WorkerPool.Configure((int)threads);
    }

    private static RunConfig ConfigFrom(CommandLine cl, string verb, bool stepsAreTrainingSteps = true)
    {
        var overrides = new List<string>(cl.GetAll("--set"));
        if (stepsAreTrainingSteps && cl.Get("--steps") is { } steps) { cl.GetLong("--steps", 1); overrides.Add($"training.train_steps={steps}"); }
        if (cl.Get("--dtype") is { } dtype) overrides.Add($"training.dtype={dtype}");
        if (cl.Get("--seed") is { } seed) overrides.Add($"training.seed={seed}");
        if (cl.Get("--batch") is { } batch) overrides.Add($"training.batch_size={batch}");
        if (cl.Get("--init-from") is { } init) overrides.Add($"training.init_from={init}");
        string? preset = cl.Get("--preset"), file = cl.Get("--config");
        if (preset is not null && file is not null) throw new CommandLine.UsageException($"{verb}: give --preset or --config, not both");
        if (preset is null && file is null) throw new CommandLine.UsageException($"{verb}: give --preset NAME (one of: {string.Join(", ", Presets.Names)}) or --config FILE");
        return preset is not null ? ConfigLoader.FromPreset(preset, overrides) : ConfigLoader.FromFile(file!, overrides);
    }

    private static int Train(string[] args)
    {
        var cl = new CommandLine(args, "train", ["--preset", "--config", "--steps", "--out", "--dtype", "--seed", "--threads", "--resume", "--set", "--max-minutes", "--init-from"], []);
        ConfigureThreads(cl);
        SessionOptions options;
        if (cl.Get("--resume") is { } resumeDir)
        {
            foreach (var f in new[] { "--preset", "--config", "--out", "--dtype", "--seed", "--set", "--init-from" })
                if (cl.Has(f)) throw new CommandLine.UsageException($"train --resume takes the run's own config; {f} cannot change it (only --steps and --threads)");
            var cfg = TrainingSession.LoadRunConfig(resumeDir);
            if (cl.GetLong("--steps", 1) is long steps) cfg = cfg with { Training = cfg.Training with { TrainSteps = steps } };
            options = new SessionOptions(cfg, resumeDir, Resume: true);
        }
        else
        {
            var cfg = ConfigFrom(cl, "train");
            string name = cfg.Preset ?? Path.GetFileNameWithoutExtension(cl.Get("--config")!);
            string dir = cl.Get("--out") ?? Path.Combine(cfg.OutDir ?? "runs", $"{name}-{DateTime.Now:yyyyMMdd-HHmmss}");
            foreach (var note in cfg.Notes) Console.WriteLine("note: " + note);
            options = new SessionOptions(cfg, dir, Resume: false);
        }
        if (cl.Get("--max-minutes") is { } mm)
        {
            if (!double.TryParse(mm, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double minutes) || !(minutes > 0) || !double.IsFinite(minutes))
                throw new CommandLine.UsageException($"--max-minutes '{mm}' must be a positive number of minutes, e.g. 10 or 0.5");
            options = options with { MaxWallSeconds = minutes * 60 };
        }

        using var cancel = new StopSignals();   // Ctrl+C, SIGTERM, SIGHUP: stop after the step, checkpoint
        var t = options.Config.Training;
        var m = options.Config.Model;
        Console.WriteLine($"run {options.RunDirectory}: task {t.Task}, {m.SeqOp} ({m.NLayer} layers, width {m.NEmbd}), " +
                          $"batch {t.BatchSize}, {t.Dtype}, {t.TrainSteps} steps, {Plural(WorkerPool.Shared.Threads, "thread")}");
        RunSummary summary;
        using (var observer = new ConsoleObserver(options.RunDirectory, options.MaxWallSeconds))
            summary = TrainingSession.Run(options, observer, cancel.Token);

        var records = MetricsLog.ReadJsonl(Path.Combine(options.RunDirectory, MetricsLog.JsonlFileName));
        var plots = PlotWriter.WriteAll(records, Path.Combine(options.RunDirectory, "plots"), Path.GetFileName(options.RunDirectory));
        PrecisionTable.Print(records, summary);
        Console.WriteLine($"plots: {string.Join(", ", plots)}");
        Console.WriteLine($"summary: {Path.Combine(options.RunDirectory, RunSummary.FileName)}  (param_checksum {summary.ParamChecksum[..16]}...)");
        return 0;
    }

    private static int Bench(string[] args)
    {
        if (args.Length == 0) throw new CommandLine.UsageException("bench needs a target: train-step, gemm, monarch or mixers");
        var rest = args.Skip(1).ToArray();
        var json = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = false };
        switch (args[0])
        {
            case "train-step":
            {
                var cl = new CommandLine(rest, "bench train-step", ["--preset", "--config", "--dtype", "--steps", "--batch", "--threads", "--warmup", "--set"], ["--json", "--profile"]);
                ConfigureThreads(cl);
                int steps = (int)(cl.GetLong("--steps", 1) ?? 50);
                int warmup = (int)(cl.GetLong("--warmup", 0) ?? 20);
                // Here --steps counts measured steps, not training steps.
                var report = TrainStepBenchmark.Run(ConfigFrom(cl, "bench train-step", stepsAreTrainingSteps: false), steps, warmup, cl.Has("--profile"));
                if (cl.Has("--json")) Console.WriteLine(JsonSerializer.Serialize(report, json));
                else Console.WriteLine($"{report.Preset} {report.Dtype} batch {report.Batch}: median {report.MsPerStepMedian:F2} ms/step " +
                                       $"(min {report.MsPerStepMin:F2}), {report.GflopsAtMedian:F1} GFLOP/s, {report.Threads} threads, " +
                                       $"{report.AllocatedBytesPerStep} B allocated/step, {report.Simd}");
                if (!cl.Has("--json") && report.ProfileMsPerStep is { } phases)
                    foreach (var (phase, ms) in phases) Console.WriteLine($"  {ms,8:F2} ms/step  {phase}");
                return 0;
            }
            case "gemm":
            {
                var cl = new CommandLine(rest, "bench gemm", ["--threads"], ["--json"]);
                ConfigureThreads(cl);
                var reports = GemmBenchmark.Run();
                foreach (var r in reports)
                    Console.WriteLine(cl.Has("--json") ? JsonSerializer.Serialize(r, json)
                        : $"{r.Kind} m={r.M} n={r.N} k={r.K}: {r.MsMedian:F3} ms, {r.Gflops:F1} GFLOP/s ({r.Threads} threads)");
                return 0;
            }
            case "mixers": return MixersBenchCommand.Run(rest);
            case "monarch":
            {
                var cl = new CommandLine(rest, "bench monarch", ["--n", "--batch", "--threads"], ["--json"]);
                ConfigureThreads(cl);
                var sizes = new List<int>();
                foreach (var item in (cl.Get("--n") ?? "256,1024,4096").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    sizes.Add(int.TryParse(item, out int v) && v > 0 ? v : throw new CommandLine.UsageException($"--n '{item}' is not a positive integer; give a comma-separated list, e.g. --n 256,1024,4096"));
                var reports = MonarchBenchmark.Run(sizes, cl.GetLong("--batch", 1) ?? 1024);
                if (cl.Has("--json")) Console.WriteLine(JsonSerializer.Serialize(reports, json));
                else foreach (var r in reports)
                        Console.WriteLine($"n={r.N} batch={r.Batch} nblocks={r.Nblocks}: dense {r.DenseMs:F3} ms ({r.DenseGflops:F1} GFLOP/s), " +
                                          $"monarch {r.MonarchMs:F3} ms ({r.MonarchGflops:F1} GFLOP/s), speedup {r.Speedup:F2}x of flop ratio {r.FlopRatio:F1} " +
                                          $"({r.SpeedupOverFlopRatio:P0}), {r.Threads} threads");
                return 0;
            }
            default:
                throw new CommandLine.UsageException($"unknown bench target '{args[0]}'; accepted: train-step, gemm, monarch, mixers");
        }
    }

    // config show: the fully resolved config as YAML (every key, defaults included); errors exit non-zero.
    private static int ShowConfig(string[] args)
    {
        if (args.Length == 0 || args[0] != "show") throw new CommandLine.UsageException("config: accepted action: show --preset NAME|--config FILE [--set section.key=value ...]");
        var cl = new CommandLine(args.Skip(1).ToArray(), "config show", ["--preset", "--config", "--set"], []);
        var cfg = ConfigFrom(cl, "config show");
        foreach (var note in cfg.Notes) Console.Error.WriteLine("note: " + note);
        Console.Write(ConfigLoader.ToYaml(cfg));
        return 0;
    }

    private static int ListPresets(string[] args)
    {
        if (args.Length > 0) throw new CommandLine.UsageException($"presets takes no arguments, got '{args[0]}'");
        var table = new Table().AddColumns("preset", "task", "model");
        foreach (var name in Presets.Names)
        {
            var c = ConfigLoader.FromPreset(name);
            table.AddRow(Markup.Escape(name), Markup.Escape(c.Training.Task), Markup.Escape(PresetCheck.DescribeModel(c.Model)));
        }
        TasksCommand.Out().Write(table);
        foreach (var name in Presets.Names) Console.WriteLine($"{name}: {Presets.Description(name)}");
        Console.WriteLine("Train one with: precisionls train --preset NAME [--steps N]; see its recipe with the YAML in src/PrecisionLS/Presets/.");
        return 0;
    }
}
