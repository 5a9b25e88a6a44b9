using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;

namespace PrecisionLS.Solvers;

/// <summary>
/// A seeded batch of consistent least-squares problems A x* = b (with a starting point x_init), drawn in float64
/// by the run's own sampler and data_kwargs, so models, learned solvers and classical baselines are compared on
/// the very same problems (<c>eval</c>, <c>solve</c>, <c>iterate</c>, <c>reproduce</c>).
/// </summary>
/// <remarks>Row-major: A [count, L, D], b [count, L], x* and x_init [count, D].</remarks>
public sealed class ProblemSet
{
    /// <summary>Seed label of problem sets (independent of the training and held-out streams).</summary>
    public const string SeedLabel = "problems";

    private ProblemSet(int count, int points, int dims, double[] a, double[] b, double[] xStar, double[] xInit)
    {
        Count = count; Points = points; Dims = dims; A = a; B = b; XStar = xStar; XInit = xInit;
    }

    /// <summary>Number of problems.</summary>
    public int Count { get; }
    /// <summary>L, equations per problem.</summary>
    public int Points { get; }
    /// <summary>D, unknowns per problem.</summary>
    public int Dims { get; }
    /// <summary>[Count, L, D].</summary>
    public double[] A { get; }
    /// <summary>[Count, L].</summary>
    public double[] B { get; }
    /// <summary>[Count, D], the exact solutions.</summary>
    public double[] XStar { get; }
    /// <summary>[Count, D], starting points.</summary>
    public double[] XInit { get; }

    /// <summary>Problem <paramref name="i"/>'s A [L, D].</summary>
    public ReadOnlySpan<double> AOf(int i) => A.AsSpan(i * Points * Dims, Points * Dims);
    /// <summary>Problem <paramref name="i"/>'s b [L].</summary>
    public ReadOnlySpan<double> BOf(int i) => B.AsSpan(i * Points, Points);
    /// <summary>Problem <paramref name="i"/>'s x* [D].</summary>
    public ReadOnlySpan<double> XStarOf(int i) => XStar.AsSpan(i * Dims, Dims);
    /// <summary>Problem <paramref name="i"/>'s x_init [D].</summary>
    public ReadOnlySpan<double> XInitOf(int i) => XInit.AsSpan(i * Dims, Dims);

    /// <summary>Draws <paramref name="count"/> problems of size (L, D) with the given sampler options.</summary>
    public static ProblemSet Draw(int count, int points, int dims, LeastSquaresOptions options, ulong seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "the number of problems must be at least 1");
        var sampler = new LeastSquaresSampler<double>(dims, points, options);
        var a = new double[count * points * dims];
        var b = new double[count * points];
        var xs = new double[count * dims];
        var x0 = new double[count * dims];
        sampler.Sample(Rng.Derive(seed, SeedLabel), count, a, xs, x0, b);
        return new ProblemSet(count, points, dims, a, b, xs, x0);
    }

    /// <summary>
    /// Draws problems shaped like a run's task (n_dims, n_points after the curriculum, training.data_kwargs);
    /// a distribution shift is a config with other data_kwargs (e.g. scale_cond = 100).
    /// </summary>
    public static ProblemSet ForRun(RunConfig config, int count, ulong seed)
    {
        var t = config.Training;
        var info = TaskInfo.Find(t.Task);
        if (info is null || info.Data != "least_squares")
            throw new ConfigException($"training.task '{t.Task}' does not draw least-squares problems; accepted: least_squares, least_squares_icl, explicit_gradient, multistep_gd");
        int points = t.ResolvedNPoints, dims = config.Model.NDims;
        return Draw(count, points, dims, TaskCatalog.LeastSquaresOptionsFrom(t.DataKwargs), seed);
    }

    /// <summary>Mean over problems and coordinates of (x - x*)², for iterates x [Count, D].</summary>
    public double Mse(ReadOnlySpan<double> x)
    {
        if (x.Length != XStar.Length) throw new ArgumentException($"x has {x.Length} values; expected {XStar.Length} (problems x D)", nameof(x));
        double s = 0;
        for (int i = 0; i < x.Length; i++) { double e = x[i] - XStar[i]; s += e * e; }
        return s / x.Length;
    }

    /// <summary>The gradient (1/L) Aᵀ(A x - b) of problem <paramref name="i"/> at <paramref name="x"/>, in float64.</summary>
    public void Gradient(int i, ReadOnlySpan<double> x, Span<double> g)
    {
        var a = AOf(i); var b = BOf(i);
        g[..Dims].Clear();
        for (int r = 0; r < Points; r++)
        {
            double res = -b[r];
            for (int c = 0; c < Dims; c++) res += a[r * Dims + c] * x[c];
            for (int c = 0; c < Dims; c++) g[c] += a[r * Dims + c] * res;
        }
        for (int c = 0; c < Dims; c++) g[c] /= Points;
    }
}
