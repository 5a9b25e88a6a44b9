using PrecisionLS.Interop;

namespace PrecisionLS.Cli;

/// <summary>
/// `export --run DIR --format safetensors [--out FILE] [--dtype float64|float32]`: writes a run's latest checkpoint
/// as the authors' PyTorch state dict (<see cref="StateDict.ExportRun"/>) and says what it wrote.
/// </summary>
public static class ExportCommand
{
    /// <summary>Formats export writes.</summary>
    public static readonly string[] Formats = ["safetensors"];

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "export", ["--run", "--format", "--out", "--dtype"], []);
        string run = cl.Get("--run") ?? throw new CommandLine.UsageException("export: give --run DIR (a run directory with checkpoints/latest.ckpt)");
        string format = cl.Get("--format") ?? throw new CommandLine.UsageException($"export: give --format, one of: {string.Join(", ", Formats)}");
        if (Array.IndexOf(Formats, format) < 0)
            throw new CommandLine.UsageException($"export: unknown --format '{format}'; accepted: {string.Join(", ", Formats)}");
        string? dtype = cl.Get("--dtype");
        if (dtype is not null && Safetensors.DtypeOf(dtype) is null)
            throw new CommandLine.UsageException($"export: unknown --dtype '{dtype}'; accepted: float64, float32");

        var r = StateDict.ExportRun(run, cl.Get("--out"), dtype);
        string buffers = r.Buffers > 0 ? $" and {r.Buffers} attention mask buffer{(r.Buffers == 1 ? "" : "s")}" : "";
        Console.WriteLine($"wrote {r.Path}: {r.Tensors} tensors ({r.Tensors - r.Buffers} parameter tensors{buffers}), " +
                          $"{r.Parameters:N0} parameter values, {r.Dtype}, {r.Bytes:N0} bytes, step {r.Step}");
        Console.WriteLine("load it in PyTorch with: model.load_state_dict(safetensors.torch.load_file(path))");
        return 0;
    }
}
