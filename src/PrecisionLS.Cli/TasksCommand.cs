using System.Globalization;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using Spectre.Console;

namespace PrecisionLS.Cli;

/// <summary>`tasks` lists the tasks; `tasks show TASK` prints one small sample prompt and its target.</summary>
public static class TasksCommand
{
    // Writes through Console.Out as it is now (so redirected output, tests included, receives the tables).
    internal static IAnsiConsole Out()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) console.Profile.Width = 200;   // a file or pipe: do not wrap cells at 80 columns
        return console;
    }

    public static int Run(string[] args)
    {
        if (args.Length == 0) return List();
        if (args[0] != "show") throw new CommandLine.UsageException($"tasks: unknown action '{args[0]}'; accepted: show (or no action to list the tasks)");
        if (args.Length < 2 || args[1].StartsWith("--", StringComparison.Ordinal))
            throw new CommandLine.UsageException($"tasks show: name a task, one of: {string.Join(", ", TaskInfo.All.Select(t => t.Name))}");
        var cl = new CommandLine(args.Skip(2).ToArray(), "tasks show", ["--set", "--seed"], []);
        return Show(args[1], cl);
    }

    private static int List()
    {
        var table = new Table().AddColumns("task", "data", "what", "task_kwargs");
        foreach (var t in TaskInfo.All)
            table.AddRow(t.Name, t.Data, Markup.Escape(t.Summary), string.Join(", ", t.Kwargs));
        Out().Write(table);
        Console.WriteLine("See one example: precisionls tasks show TASK [--set training.n_points=4 --set model.n_dims=3 ...] [--seed S]");
        return 0;
    }

    private static int Show(string name, CommandLine cl)
    {
        var info = TaskInfo.Find(name)
            ?? throw new CommandLine.UsageException($"tasks show: unknown task '{name}'; accepted: {string.Join(", ", TaskInfo.All.Select(t => t.Name))}");
        int d = info.SmallDims;
        // A small, readable problem; --set overrides any of it (model.n_dims, training.n_points, task_kwargs...).
        string yaml = $"""
            model: {"{"}n_dims: {d}, out_dims: {info.OutDims(d)}{"}"}
            training: {"{"}task: {info.Name}, data: {info.Data}, n_points: 4{"}"}
            """;
        var config = ConfigLoader.FromYaml(yaml, $"tasks show {info.Name}", cl.GetAll("--set"));
        var task = TaskCatalog.Create<double>(config);
        ulong seed = (ulong)(cl.GetLong("--seed", 0) ?? 0);
        var prompt = new double[task.PromptLength * task.TokenDims];
        var target = new double[task.TargetSize];
        task.Sample(Rng.Derive(seed, "tasks-show"), 1, prompt, target);

        Console.WriteLine($"task {task.Name}: {info.Summary}");
        Console.WriteLine($"n_dims {task.MaxDims}, n_points {task.Points}, {task.PromptLength} tokens of width {task.TokenDims}, " +
                          $"loss reads positions [{string.Join(", ", task.ReadPositions.ToArray())}] in output channels " +
                          $"{task.ReadChannelStart}..{task.ReadChannelStart + task.ReadChannelCount - 1} of out_dims {task.OutputDims}");
        if (task is PrimitiveTask<double> { ReadSource: { } i, ReadDestination: { } j })
            Console.WriteLine($"read: the target's token {j} copies token {i} (drawn once per run from task_kwargs.seed)");
        if (task is PrimitiveTask<double> { LinearCoefficients: { } coef })
            Console.WriteLine($"linear: c = [{string.Join(", ", coef.ToArray().Select(Format))}] (drawn once per run from task_kwargs.seed)");
        var reads = task.ReadPositions.ToArray();
        Console.WriteLine("prompt (one example), * marks the read positions:");
        var p = new Table().AddColumn("token");
        for (int c = 0; c < task.TokenDims; c++) p.AddColumn(new TableColumn($"c{c}").RightAligned());
        for (int t = 0; t < task.PromptLength; t++)
            p.AddRow([(reads.Contains(t) ? $"{t} *" : $"{t}"), .. Enumerable.Range(0, task.TokenDims).Select(c => Format(prompt[t * task.TokenDims + c]))]);
        Out().Write(p);
        Console.WriteLine("target at the read positions:");
        var y = new Table().AddColumn("token");
        for (int c = 0; c < task.ReadChannelCount; c++) y.AddColumn(new TableColumn($"out{task.ReadChannelStart + c}").RightAligned());
        for (int r = 0; r < reads.Length; r++)
            y.AddRow([$"{reads[r]}", .. Enumerable.Range(0, task.ReadChannelCount).Select(c => Format(target[r * task.ReadChannelCount + c]))]);
        Out().Write(y);
        return 0;
    }

    private static string Format(double v) => v == 0 ? "0" : v.ToString("0.0000;-0.0000", CultureInfo.InvariantCulture);
}
