using System.Numerics;
using System.Text.Json;
using PrecisionLS.Cli;
using PrecisionLS.Interop;
using PrecisionLS.Monarch;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>`monarch project` on .npy and CSV input (text and JSON output, factors and dense matrix written out) and
/// `monarch factor`; errors are one line with exit code 2.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut is process-wide
public class MonarchCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pls-monarch-" + Guid.NewGuid().ToString("N"));

    public MonarchCliTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    private static JsonElement RunJson(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

    [Fact]
    public void Project_an_npy_and_a_csv_matrix_and_write_factors_and_the_projection()
    {
        var c = FixtureCase.Load("monarch_project_random16");
        var m = c.Inputs["M"].Data;
        Npy.Write(P("M.npy"), m, [16, 16]);
        MatrixFile.Write(P("M.csv"), m, 16, 16);

        var j = RunJson("monarch", "project", "--input", P("M.npy"), "--json", "--out", P("f.npz"), "--dense-out", P("proj.csv"));
        Assert.Equal(16, j.GetProperty("rows").GetInt32());
        Assert.Equal(16, j.GetProperty("cols").GetInt32());
        Assert.Equal(4, j.GetProperty("nblocks").GetInt32());   // sqrt(16): the reference layout
        Assert.False(j.GetProperty("complex").GetBoolean());
        Assert.Equal(c.Outputs["relative_error"].Data[0], j.GetProperty("relative_error").GetDouble(), 1e-12);
        Assert.Equal(c.Outputs["frobenius_error"].Data[0], j.GetProperty("frobenius_error").GetDouble(), 1e-12);
        Assert.Equal(128, j.GetProperty("parameters").GetInt64());
        Assert.Equal(256, j.GetProperty("dense_parameters").GetInt64());
        Assert.Equal(0.5, j.GetProperty("saving").GetDouble());
        Assert.Equal([P("f.npz"), P("proj.csv")], j.GetProperty("written").EnumerateArray().Select(e => e.GetString()));

        // The factors read back and multiplied out give the fixture's projection; so does the dense file.
        var npz = Npz.Read(P("f.npz"));
        Assert.Equal(new[] { 4, 4, 4 }, npz["w1"].Shape);
        var factors = new MonarchFactors<double>(MonarchLayout.FromShapes(npz["w1"].Shape, npz["w2"].Shape), npz["w1"].Values!, npz["w2"].Values!);
        Compare.Close(c.Outputs["projected"], factors.ToDense(), 1e-12, "factors from f.npz");
        Compare.Close(c.Outputs["projected"], CsvMatrix.Read(P("proj.csv")).Values!, 1e-12, "proj.csv");

        // The CSV copy gives the same numbers; the text report says them.
        var k = RunJson("monarch", "project", "--input", P("M.csv"), "--json");
        Assert.Equal(j.GetProperty("relative_error").GetDouble(), k.GetProperty("relative_error").GetDouble());
        var (code, output, error) = Run("monarch", "project", "--input", P("M.csv"));
        Assert.True(code == 0, error);
        Assert.Contains($"{P("M.csv")}: 16 x 16 real matrix, nblocks 4: w1 [4, 4, 4], w2 [4, 4, 4]", output);
        Assert.Contains("relative error 0.607686  (||M - monarch(M)||_F = 10.7026, ||M||_F = 17.612)", output);
        Assert.Contains("parameters: 128 Monarch vs 256 dense (saving 50.0%, 2.00x fewer)", output);
    }

    [Fact]
    public void Rectangular_input_uses_the_MonarchLinear_layout_and_writes_two_npy_files()
    {
        var m = Enumerable.Range(0, 20 * 30).Select(i => Math.Sin(i * 0.37) + (i % 7)).ToArray();
        Npy.Write(P("R.npy"), m, [20, 30]);
        var j = RunJson("monarch", "project", "--input", P("R.npy"), "--nblocks", "3", "--out", P("fac.npy"), "--dense-out", P("proj.npy"), "--json");
        var g = MonarchLayout.ForLinear(30, 20, 3);   // in_blksz 10 > out_blksz 7: w1 (3, 7, 10), w2 (3, 7, 7)
        Assert.Equal(g.W1Shape, j.GetProperty("w1_shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(21, j.GetProperty("padded_outputs").GetInt32());
        var w1 = Npy.Read(P("fac.w1.npy")); var w2 = Npy.Read(P("fac.w2.npy"));
        Assert.Equal(g.W1Shape, w1.Shape);
        Assert.Equal(g.W2Shape, w2.Shape);
        var expected = MonarchProjection.Project(m, 20, 30, g);
        Assert.Equal(expected.RelativeError, j.GetProperty("relative_error").GetDouble(), 1e-14);
        Assert.Equal(expected.Projected, Npy.Read(P("proj.npy")).Values);
        Assert.Equal(expected.Projected, new MonarchFactors<double>(g, w1.Values!, w2.Values!).ToDense());

        var (code, output, _) = Run("monarch", "project", "--input", P("R.npy"), "--nblocks", "3");
        Assert.Equal(0, code);
        Assert.Contains("nblocks 3: w1 [3, 7, 10], w2 [3, 7, 7] (inputs padded 30 -> 30, outputs 20 of 21)", output);
    }

    [Fact]
    public void A_complex_DFT_matrix_projects_exactly_and_factor_reports_machine_precision()
    {
        var f = MonarchTransforms.DftMatrix(16); var perm = MonarchTransforms.DftPermutation(16);
        var m = new Complex[256];
        for (int r = 0; r < 16; r++) for (int col = 0; col < 16; col++) m[r * 16 + col] = f[r * 16 + perm[col]];
        Npy.Write(P("F.npy"), m, [16, 16]);
        var j = RunJson("monarch", "project", "--input", P("F.npy"), "--json", "--out", P("F.npz"));
        Assert.True(j.GetProperty("complex").GetBoolean());
        Assert.True(j.GetProperty("relative_error").GetDouble() <= 1e-13);
        Assert.Equal("<c16", Npz.Read(P("F.npz"))["w1"].Descr);

        var d = RunJson("monarch", "factor", "dft", "--n", "16", "--json");
        Assert.Equal("dft", d.GetProperty("transform").GetString());
        Assert.Equal(16, d.GetProperty("n").GetInt32());
        Assert.Equal(4, d.GetProperty("nblocks").GetInt32());
        Assert.Equal(128, d.GetProperty("parameters").GetInt64());
        Assert.True(d.GetProperty("relative_error").GetDouble() <= 1e-13);
        Assert.True(d.GetProperty("max_abs_error").GetDouble() <= 1e-13);

        var h = RunJson("monarch", "factor", "hadamard", "--n", "32", "--json");
        Assert.Equal(0.0, h.GetProperty("relative_error").GetDouble());
        Assert.Equal(new[] { 4, 8, 8 }, h.GetProperty("w1_shape").EnumerateArray().Select(e => e.GetInt32()));
        var (code, output, _) = Run("monarch", "factor", "hadamard", "--n", "64");
        Assert.Equal(0, code);
        Assert.Contains("hadamard n=64: Sylvester-Hadamard H_64 (entries +-1) = H_8 (x) H_8, real factors: w1 [8, 8, 8], w2 [8, 8, 8]", output);
        Assert.Contains("max |error| 0, relative Frobenius error 0", output);
    }

    [Fact]
    public void Errors_are_one_line_with_exit_code_2()
    {
        Npy.Write(P("cube.npy"), new double[8], [2, 2, 2]);
        Npy.Write(P("nan.npy"), [1, double.NaN, 3, 4], [2, 2]);
        Npy.Write(P("ok.npy"), new double[36], [6, 6]);
        File.WriteAllText(P("ragged.csv"), "1,2\n3\n");
        var cases = new (string[] Args, string Expected)[]
        {
            (["monarch"], "monarch: give an action: project --input FILE, factor dft|hadamard --n N, or sparsify --run DIR"),
            (["monarch", "multiply"], "monarch: unknown action 'multiply'; accepted: project, factor, sparsify"),
            (["monarch", "project"], "monarch project: give --input M.npy|M.csv"),
            (["monarch", "project", "--input", P("missing.npy")], $"npy file '{P("missing.npy")}' does not exist"),
            (["monarch", "project", "--input", P("M.mat")], $"matrix file '{P("M.mat")}': unsupported extension '.mat'; accepted: .npy, .csv, .txt"),
            (["monarch", "project", "--input", P("cube.npy")], "needs a 2-D array, got shape (2, 2, 2)"),
            (["monarch", "project", "--input", P("nan.npy")], "entry (0, 1) is NaN; values must be finite"),
            (["monarch", "project", "--input", P("ragged.csv")], "line 2 has 1 values, but line 1 (the first row) has 2"),
            (["monarch", "project", "--input", P("ok.npy"), "--out", P("f.mat")], "--out '" + P("f.mat") + "' must end in .npz (one archive with w1 and w2) or .npy"),
            (["monarch", "project", "--input", P("ok.npy"), "--nblocks", "0"], "--nblocks 0 must be at least 1"),
            (["monarch", "project", "--input", P("ok.npy"), "--nblocks", "7"], "--nblocks 7 exceeds the matrix size (6 x 6); accepted: 1..6"),
            (["monarch", "project", "--input", P("ok.npy"), "--sizes", "4,2"], "--sizes 4,2 needs a square n x n matrix with n = 4*2 = 8; the input is 6 x 6"),
            (["monarch", "project", "--input", P("ok.npy"), "--sizes", "3"], "--sizes '3' must be two positive integers A,B"),
            (["monarch", "project", "--input", P("ok.npy"), "--sizes", "2,3", "--nblocks", "2"], "give --nblocks or --sizes, not both"),
            (["monarch", "factor", "dft", "--n", "12"], "monarch factor dft: the DFT factors as Monarch for a perfect square n = m^2 (4, 9, 16, 25, ...), not n = 12"),
            (["monarch", "factor", "hadamard", "--n", "48"], "monarch factor hadamard: the Hadamard matrix needs a power of two n = 2^t (2, 4, 8, 16, ...), not n = 48"),
            (["monarch", "factor", "hadamard", "--n", "1000000"], "n = 1000000 is out of range; accepted: 1..4096"),
            (["monarch", "factor", "dft"], "monarch factor dft: give --n N"),
            (["monarch", "factor", "fourier", "--n", "4"], "monarch factor: unknown transform 'fourier'; accepted: dft, hadamard"),
            (["monarch", "factor", "--n", "4"], "monarch factor: give a transform, one of: dft, hadamard"),
            (["frobnicate"], "accepted: train, sweep, runs, plot, export, eval, solve, construct, iterate, reproduce, monarch,"),
        };
        foreach (var (args, expected) in cases)
        {
            var (code, _, error) = Run(args);
            Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}, {error}");
            Assert.Contains(expected, error);
            Assert.Single(error.Trim().Split('\n'));
        }
    }
}
