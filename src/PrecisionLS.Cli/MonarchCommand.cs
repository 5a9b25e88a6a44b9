using System.Globalization;
using System.Numerics;
using System.Text.Json;
using PrecisionLS.Interop;
using PrecisionLS.Monarch;

namespace PrecisionLS.Cli;

/// <summary>
/// <c>monarch project --input M.npy|M.csv [--nblocks K | --sizes A,B] [--out F.npz|F.npy] [--dense-out P.npy|P.csv] [--json]</c>:
/// the nearest Monarch matrix (<see cref="MonarchProjection"/>), its error and parameter saving, optionally written out.
/// <c>monarch factor dft|hadamard --n N [--json]</c>: a transform's closed-form Monarch factors
/// (<see cref="MonarchTransforms"/>) multiplied out and compared with the dense transform.
/// </summary>
/// <remarks>
/// Layout: MonarchLinear's (<see cref="MonarchLayout.ForLinear"/>, rows = outputs, columns = inputs) with
/// <c>--nblocks</c>, by default √n for an n × n matrix with n a perfect square (fly's reference layout) and 4 otherwise;
/// <c>--sizes A,B</c> picks fly's <c>blockdiag_butterfly_project(M, sizes=[A, B])</c> layout for a square matrix instead.
/// <c>--out F.npz</c> writes one archive with arrays "w1" and "w2" (<c>np.load(F)["w1"]</c>); <c>--out F.npy</c>
/// writes two files, F.w1.npy and F.w2.npy. Real input gives float64 factors, complex input complex128 ones.
/// </remarks>
public static class MonarchCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new CommandLine.UsageException("monarch: give an action: project --input FILE, factor dft|hadamard --n N, or sparsify --run DIR");
        var rest = args.Skip(1).ToArray();
        return args[0] switch
        {
            "project" => Project(rest),
            "factor" => Factor(rest),
            "sparsify" => MonarchSparsifyCommand.Run(rest),
            _ => throw new CommandLine.UsageException($"monarch: unknown action '{args[0]}'; accepted: project, factor, sparsify"),
        };
    }

    private static int Project(string[] args)
    {
        var cl = new CommandLine(args, "monarch project", ["--input", "--nblocks", "--sizes", "--out", "--dense-out"], ["--json"]);
        string input = cl.Get("--input") ?? throw new CommandLine.UsageException("monarch project: give --input M.npy|M.csv (a 2-D matrix; rows are outputs, columns inputs)");
        string? outPath = cl.Get("--out"), denseOut = cl.Get("--dense-out");
        string outExt = Path.GetExtension(outPath ?? "").ToLowerInvariant();
        if (outPath is not null && outExt is not (".npz" or ".npy"))
            throw new CommandLine.UsageException($"monarch project: --out '{outPath}' must end in .npz (one archive with w1 and w2) or .npy (two files NAME.w1.npy, NAME.w2.npy)");
        if (denseOut is not null && Array.IndexOf(MatrixFile.Extensions, Path.GetExtension(denseOut).ToLowerInvariant()) < 0)
            throw new CommandLine.UsageException($"monarch project: --dense-out '{denseOut}' must end in one of {string.Join(", ", MatrixFile.Extensions)}");
        if (cl.Has("--nblocks") && cl.Has("--sizes")) throw new CommandLine.UsageException("monarch project: give --nblocks or --sizes, not both");

        var a = MatrixFile.Read(input);
        int rows = a.Shape[0], cols = a.Shape[1];
        if (denseOut is not null && a.IsComplex && !denseOut.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new CommandLine.UsageException($"monarch project: '{input}' is complex; --dense-out must be .npy");
        var layout = LayoutFor(cl, rows, cols);

        // One report shape for real and complex input.
        double error, relative, norm;
        if (a.IsComplex)
        {
            var r = MonarchProjection.Project(a.ComplexValues!, rows, cols, layout);
            (error, relative, norm) = (r.FrobeniusError, r.RelativeError, r.Norm);
            WriteOutputs(outPath, denseOut, rows, cols,
                () => Npy.Encode(r.Factors.W1, layout.W1Shape), () => Npy.Encode(r.Factors.W2, layout.W2Shape),
                path => MatrixFile.Write(path, r.Projected, rows, cols));
        }
        else
        {
            var r = MonarchProjection.Project(a.Values!, rows, cols, layout);
            (error, relative, norm) = (r.FrobeniusError, r.RelativeError, r.Norm);
            WriteOutputs(outPath, denseOut, rows, cols,
                () => Npy.Encode(r.Factors.W1, layout.W1Shape), () => Npy.Encode(r.Factors.W2, layout.W2Shape),
                path => MatrixFile.Write(path, r.Projected, rows, cols));
        }

        long dense = (long)rows * cols, parameters = layout.ParameterCount;
        var written = WrittenFiles(outPath, denseOut);
        if (cl.Has("--json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                Input = input, Rows = rows, Cols = cols, Complex = a.IsComplex, Nblocks = layout.K,
                W1Shape = layout.W1Shape, W2Shape = layout.W2Shape, PaddedInputs = layout.InExtended, PaddedOutputs = layout.OutExtended,
                RelativeError = relative, FrobeniusError = error, Norm = norm,
                Parameters = parameters, DenseParameters = dense, Saving = 1 - (double)parameters / dense, Written = written,
            }, Json));
            return 0;
        }
        Console.WriteLine($"{input}: {rows} x {cols} {(a.IsComplex ? "complex" : "real")} matrix, nblocks {layout.K}: {layout.ShapeText}" +
                          (layout.InExtended != cols || layout.OutExtended != rows
                              ? $" (inputs padded {cols} -> {layout.InExtended}, outputs {rows} of {layout.OutExtended})" : ""));
        Console.WriteLine($"relative error {G(relative)}  (||M - monarch(M)||_F = {G(error)}, ||M||_F = {G(norm)})");
        Console.WriteLine($"parameters: {parameters:N0} Monarch vs {dense:N0} dense ({Saving(parameters, dense)})");
        foreach (var f in written) Console.WriteLine($"wrote {f}");
        return 0;
    }

    private static MonarchLayout LayoutFor(CommandLine cl, int rows, int cols)
    {
        if (cl.Get("--sizes") is { } sizes)
        {
            var parts = sizes.Split(',');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int sa)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int sb) || sa < 1 || sb < 1)
                throw new CommandLine.UsageException($"monarch project: --sizes '{sizes}' must be two positive integers A,B");
            if (rows != cols || (long)sa * sb != rows)
                throw new CommandLine.UsageException($"monarch project: --sizes {sa},{sb} needs a square n x n matrix with n = {sa}*{sb} = {(long)sa * sb}; the input is {rows} x {cols}");
            return MonarchLayout.Square(rows, sa, sb);
        }
        int max = Math.Max(rows, cols);
        long nblocks = cl.GetLong("--nblocks", 1) ?? MonarchLayout.DefaultBlocks(rows, cols);
        if (nblocks > max) throw new CommandLine.UsageException($"monarch project: --nblocks {nblocks} exceeds the matrix size ({rows} x {cols}); accepted: 1..{max}");
        return MonarchLayout.ForLinear(cols, rows, (int)nblocks);
    }

    private static void WriteOutputs(string? outPath, string? denseOut, int rows, int cols, Func<byte[]> w1, Func<byte[]> w2, Action<string> writeDense)
    {
        if (outPath is not null)
        {
            if (outPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) Npz.Write(outPath, [("w1", w1()), ("w2", w2())]);
            else
            {
                var (p1, p2) = FactorPaths(outPath);
                Training.AtomicFile.WriteAllBytes(p1, w1());
                Training.AtomicFile.WriteAllBytes(p2, w2());
            }
        }
        if (denseOut is not null) writeDense(denseOut);
    }

    // F.npy -> F.w1.npy, F.w2.npy.
    private static (string W1, string W2) FactorPaths(string outPath)
    {
        string stem = outPath[..^4];
        return (stem + ".w1.npy", stem + ".w2.npy");
    }

    private static string[] WrittenFiles(string? outPath, string? denseOut)
    {
        var files = new List<string>();
        if (outPath is not null)
        {
            if (outPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) files.Add(outPath);
            else { var (p1, p2) = FactorPaths(outPath); files.Add(p1); files.Add(p2); }
        }
        if (denseOut is not null) files.Add(denseOut);
        return [.. files];
    }

    private static int Factor(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
            throw new CommandLine.UsageException($"monarch factor: give a transform, one of: {string.Join(", ", MonarchTransforms.Names)} (then --n N)");
        string transform = args[0];
        if (Array.IndexOf(MonarchTransforms.Names, transform) < 0)
            throw new CommandLine.UsageException($"monarch factor: unknown transform '{transform}'; accepted: {string.Join(", ", MonarchTransforms.Names)}");
        var cl = new CommandLine(args.Skip(1).ToArray(), "monarch factor", ["--n"], ["--json"]);
        long n = cl.GetLong("--n") ?? throw new CommandLine.UsageException($"monarch factor {transform}: give --n N");
        if (MonarchTransforms.SizeProblem(transform, (int)Math.Clamp(n, int.MinValue, int.MaxValue)) is { } problem)
            throw new CommandLine.UsageException($"monarch factor {transform}: {problem}");

        var c = MonarchTransforms.Check(transform, (int)n);
        var g = c.Layout;
        if (cl.Has("--json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                c.Transform, c.N, Nblocks = g.K, W1Shape = g.W1Shape, W2Shape = g.W2Shape, Complex = transform == "dft",
                c.RelativeError, c.MaxAbsError, c.Parameters, c.DenseParameters,
            }, Json));
            return 0;
        }
        int m = MonarchLayout.IntegerSqrt((int)n);
        string what = transform == "dft"
            ? $"unitary DFT_{n} with inputs permuted perm[c] = (c mod {m})*{m} + c div {m}, complex factors"
            : $"Sylvester-Hadamard H_{n} (entries +-1) = H_{g.K} (x) H_{g.L}, real factors";
        Console.WriteLine($"{transform} n={n}: {what}: {g.ShapeText}");
        Console.WriteLine($"factors vs dense transform: max |error| {G(c.MaxAbsError)}, relative Frobenius error {G(c.RelativeError)}");
        Console.WriteLine($"parameters: {c.Parameters:N0} Monarch vs {c.DenseParameters:N0} dense ({Saving(c.Parameters, c.DenseParameters)})");
        return 0;
    }

    private static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Saving(long parameters, long dense)
    {
        double saving = 1 - (double)parameters / dense;
        if (parameters == dense) return "no saving";
        return saving > 0
            ? $"saving {(100 * saving).ToString("F1", CultureInfo.InvariantCulture)}%, {((double)dense / parameters).ToString("F2", CultureInfo.InvariantCulture)}x fewer"
            : $"{(100 * -saving).ToString("F1", CultureInfo.InvariantCulture)}% more than dense";
    }
}
