using PrecisionLS.Monarch;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Monarch;

/// <summary>The Monarch (blockdiag-butterfly) multiply against the fly fixtures, central differences and its plain loops.</summary>
public class MonarchMultiplyTests
{
    private static double[] Random(long n, ulong seed) { var a = new double[n]; new Rng(seed).FillGaussian(a.AsSpan()); return a; }

    // y = Monarch(w1_bfly, w2_bfly) x with the factors as parameters named as in the fixtures.
    private static ModuleHarness Harness(MonarchShape shape, int rows)
    {
        var s = new ParameterStore<double>();
        var w1 = s.Add("w1_bfly", [shape.K, shape.Q, shape.P]);
        var w2 = s.Add("w2_bfly", [shape.L, shape.S, shape.R]);
        s.Allocate();
        double[] xKeep = [], hKeep = [];
        return new ModuleHarness(s,
            x =>
            {
                xKeep = x; hKeep = new double[rows * shape.Hidden];
                var y = new double[rows * shape.M];
                MonarchMultiply.Forward<double>(x, s.Value(w1), s.Value(w2), y, shape, rows, hKeep);
                return y;
            },
            dy =>
            {
                var dx = new double[rows * shape.N];
                MonarchMultiply.Backward<double>(xKeep, hKeep, s.Value(w1), s.Value(w2), dy, dx, s.Grad(w1), s.Grad(w2), shape, rows);
                return dx;
            });
    }

    private static MonarchShape ShapeOf(FixtureCase fx)
    {
        var w1 = fx.Params["w1_bfly"].Shape; var w2 = fx.Params["w2_bfly"].Shape;
        return new MonarchShape(w1[0], w1[1], w1[2], w2[0], w2[1], w2[2]);
    }

    [Theory]
    [InlineData("monarch_multiply_square16")]
    [InlineData("monarch_multiply_rect12to8")]
    [InlineData("monarch_multiply_rect12to6")]
    public void Matches_fixture_dense_matrix_and_finite_differences(string name)
    {
        var fx = FixtureCase.Load(name);
        var shape = ShapeOf(fx);
        Assert.Equal(fx.ConfigInt("n"), shape.N);
        Assert.Equal(fx.ConfigInt("m"), shape.M);
        int rows = fx.Inputs["x"].Size / shape.N;
        var h = Harness(shape, rows);
        h.MatchFixture(fx, "x");

        var dense = new double[shape.M * shape.N];
        MonarchMultiply.ToDense<double>(fx.Params["w1_bfly"].Data, fx.Params["w2_bfly"].Data, shape, dense);
        Compare.Close(fx.Outputs["dense"], dense, 1e-12, $"{name}: dense matrix");

        h.CheckGradients(fx.Inputs["x"].Data);
    }

    [Theory]
    [InlineData(4, 4, 4, 4, 4, 4, 5)]            // square 16
    [InlineData(8, 8, 8, 8, 8, 8, 13)]           // square 64: one 512-bit vector of blocks
    [InlineData(32, 32, 32, 32, 32, 32, 70)]     // square 1024: several panels, both threads
    [InlineData(3, 4, 4, 4, 2, 3, 9)]            // 12 -> 8
    [InlineData(2, 6, 6, 3, 2, 4, 7)]            // 12 -> 6
    [InlineData(4, 16, 16, 4, 64, 16, 37)]       // MonarchLinear 64 -> 256, 4 blocks (l = 4: 256-bit)
    [InlineData(4, 64, 16, 4, 64, 64, 11)]       // MonarchLinear 64 -> 256 the other way round
    [InlineData(5, 12, 7, 12, 9, 5, 23)]         // l = 12: one vector and a scalar tail of blocks
    [InlineData(6, 10, 3, 20, 11, 3, 41)]        // l = 20: two vectors (256-bit tail) and odd counts everywhere
    [InlineData(1, 9, 9, 9, 1, 1, 6)]            // one block, then 9 blocks of 1x1
    public void Fast_paths_match_the_plain_loops(int k, int q, int p, int l, int s, int r, int rows)
    {
        var shape = new MonarchShape(k, q, p, l, s, r);
        var x = Random(rows * shape.N, 1); var w1 = Random(shape.W1Length, 2); var w2 = Random(shape.W2Length, 3);
        var dy = Random(rows * shape.M, 4);
        var y = new double[rows * shape.M]; var hh = new double[rows * shape.Hidden];
        var yRef = new double[rows * shape.M]; var hRef = new double[rows * shape.Hidden];
        MonarchMultiply.Forward<double>(x, w1, w2, y, shape, rows, hh);
        MonarchMultiply.ForwardReference<double>(x, w1, w2, yRef, shape, rows, hRef);
        Compare.Close(hRef, hh, 1e-13, $"{shape} h");
        Compare.Close(yRef, y, 1e-13, $"{shape} y");
        var yNoH = new double[rows * shape.M];
        MonarchMultiply.Forward<double>(x, w1, w2, yNoH, shape, rows);
        Assert.Equal(y, yNoH);

        var dx = Random(rows * shape.N, 5); var dw1 = Random(shape.W1Length, 6); var dw2 = Random(shape.W2Length, 7);
        var dxRef = (double[])dx.Clone(); var dw1Ref = (double[])dw1.Clone(); var dw2Ref = (double[])dw2.Clone();
        MonarchMultiply.Backward<double>(x, hh, w1, w2, dy, dx, dw1, dw2, shape, rows);
        MonarchMultiply.BackwardReference<double>(x, w1, w2, dy, dxRef, dw1Ref, dw2Ref, shape, rows);
        Compare.Close(dxRef, dx, 1e-12, $"{shape} dx");
        Compare.Close(dw1Ref, dw1, 1e-12, $"{shape} dw1");
        Compare.Close(dw2Ref, dw2, 1e-12, $"{shape} dw2");

        // Without h (recomputed), overwriting dx, and with frozen factors.
        var dx2 = Random(rows * shape.N, 8); var dw1b = new double[shape.W1Length]; var dw2b = new double[shape.W2Length];
        MonarchMultiply.Backward<double>(x, default, w1, w2, dy, dx2, dw1b, dw2b, shape, rows, accumulateDx: false);
        var dxOnly = new double[rows * shape.N];
        MonarchMultiply.BackwardReference<double>(x, w1, w2, dy, dxOnly, new double[shape.W1Length], new double[shape.W2Length], shape, rows);
        Compare.Close(dxOnly, dx2, 1e-12, $"{shape} dx overwritten");
        var dx3 = new double[rows * shape.N];
        MonarchMultiply.Backward<double>(x, default, w1, w2, dy, dx3, default, default, shape, rows);
        Assert.Equal(dx2, dx3);
        var dw2c = new double[shape.W2Length];
        MonarchMultiply.Backward<double>(x, default, w1, w2, dy, default, default, dw2c, shape, rows);
        Assert.Equal(dw2b, dw2c);
    }

    [Fact]
    public void Dense_matrix_applies_like_the_product_and_square_entries_follow_the_reference_formula()
    {
        var shape = MonarchShape.Square(64);
        int b = 8, n = 64, rows = 3;
        var w1 = Random(shape.W1Length, 11); var w2 = Random(shape.W2Length, 12); var x = Random(rows * n, 13);
        var dense = new double[n * n];
        MonarchMultiply.ToDense<double>(w1, w2, shape, dense);
        // REFERENCE §3: M[s m + j, k m + i] = w2[j, s, k] w1[k, j, i].
        for (int s = 0; s < b; s++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < b; k++)
                    for (int i = 0; i < b; i++)
                        Assert.Equal(w2[(j * b + s) * b + k] * w1[(k * b + j) * b + i], dense[(s * b + j) * n + k * b + i]);
        var y = new double[rows * n]; var yDense = new double[rows * n];
        MonarchMultiply.Forward<double>(x, w1, w2, y, shape, rows);
        Gemm.NTReference<double>(x, dense, yDense, rows, n, n, false);
        Compare.Close(yDense, y, 1e-13, "dense @ x");
    }

    [Fact]
    public void Float32_agrees_with_float64()
    {
        var shape = new MonarchShape(4, 16, 16, 4, 64, 16);
        int rows = 19;
        var x = Random(rows * shape.N, 21); var w1 = Random(shape.W1Length, 22); var w2 = Random(shape.W2Length, 23); var dy = Random(rows * shape.M, 24);
        float[] F(double[] a) => a.Select(v => (float)v).ToArray();
        var y = new double[rows * shape.M]; var yf = new float[rows * shape.M];
        MonarchMultiply.Forward<double>(x, w1, w2, y, shape, rows);
        MonarchMultiply.Forward<float>(F(x), F(w1), F(w2), yf, shape, rows);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - yf[i]) <= 1e-4 * (1 + Math.Abs(y[i])), $"y[{i}]: {y[i]} vs {yf[i]}");
        var dx = new double[rows * shape.N]; var dw1 = new double[shape.W1Length]; var dw2 = new double[shape.W2Length];
        var dxf = new float[rows * shape.N]; var dw1f = new float[shape.W1Length]; var dw2f = new float[shape.W2Length];
        MonarchMultiply.Backward<double>(x, default, w1, w2, dy, dx, dw1, dw2, shape, rows);
        MonarchMultiply.Backward<float>(F(x), default, F(w1), F(w2), F(dy), dxf, dw1f, dw2f, shape, rows);
        for (int i = 0; i < dx.Length; i++) Assert.True(Math.Abs(dx[i] - dxf[i]) <= 1e-4 * (1 + Math.Abs(dx[i])), $"dx[{i}]");
        for (int i = 0; i < dw2.Length; i++) Assert.True(Math.Abs(dw2[i] - dw2f[i]) <= 1e-4 * (1 + Math.Abs(dw2[i])), $"dw2[{i}]");
        for (int i = 0; i < dw1.Length; i++) Assert.True(Math.Abs(dw1[i] - dw1f[i]) <= 1e-4 * (1 + Math.Abs(dw1[i])), $"dw1[{i}]");
    }

    [Fact]
    public void Block_diagonal_multiply_matches_its_plain_loops()
    {
        foreach (var (k, q, p, rows) in new[] { (4, 16, 16, 37), (3, 5, 7, 70), (1, 9, 9, 2), (4, 64, 16, 33) })
        {
            var x = Random(rows * k * p, 31); var w = Random(k * q * p, 32); var dy = Random(rows * k * q, 33);
            var y = new double[rows * k * q]; var yRef = new double[rows * k * q];
            BlockDiagonalMultiply.Forward<double>(x, w, y, k, q, p, rows);
            BlockDiagonalMultiply.ForwardReference<double>(x, w, yRef, k, q, p, rows);
            Compare.Close(yRef, y, 1e-13, $"({k},{q},{p}) y");
            var dx = Random(rows * k * p, 34); var dw = Random(k * q * p, 35);
            var dxRef = (double[])dx.Clone(); var dwRef = (double[])dw.Clone();
            BlockDiagonalMultiply.Backward<double>(x, w, dy, dx, dw, k, q, p, rows);
            BlockDiagonalMultiply.BackwardReference<double>(x, w, dy, dxRef, dwRef, k, q, p, rows);
            Compare.Close(dxRef, dx, 1e-12, $"({k},{q},{p}) dx");
            Compare.Close(dwRef, dw, 1e-12, $"({k},{q},{p}) dw");
        }
    }

    [Fact]
    public void Rejects_shapes_that_do_not_chain_and_short_buffers()
    {
        var bad = new MonarchShape(4, 4, 4, 3, 4, 4);
        var e = Assert.Throws<ArgumentException>(() => MonarchMultiply.Forward<double>(new double[16], new double[64], new double[48], new double[12], bad, 1));
        Assert.Contains("do not chain", e.Message);
        var shape = MonarchShape.Square(16);
        var e2 = Assert.Throws<ArgumentException>(() => MonarchMultiply.Forward<double>(new double[15], new double[64], new double[64], new double[16], shape, 1));
        Assert.Contains("x holds 15", e2.Message);
        Assert.Throws<ArgumentException>(() => MonarchShape.Square(15));
    }

    [Fact]
    public void Steady_state_calls_do_not_allocate()
    {
        var shape = MonarchShape.Square(256);
        int rows = 64;
        var x = Random(rows * shape.N, 41); var w1 = Random(shape.W1Length, 42); var w2 = Random(shape.W2Length, 43);
        var y = new double[rows * shape.M]; var hh = new double[rows * shape.Hidden];
        var dx = new double[rows * shape.N]; var dw1 = new double[shape.W1Length]; var dw2 = new double[shape.W2Length];
        void Step()
        {
            MonarchMultiply.Forward<double>(x, w1, w2, y, shape, rows, hh);
            MonarchMultiply.Backward<double>(x, hh, w1, w2, y, dx, dw1, dw2, shape, rows);
        }
        Step(); Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>The Monarch kernels sum every value in a fixed order: 1 and 2 threads give bit-identical results.</summary>
[Collection(nameof(SharedPoolCollection))]
public class MonarchThreadCountTests
{
    [Theory]
    [InlineData(1024, 200)]
    [InlineData(64, 301)]
    public void Results_do_not_depend_on_the_thread_count(int n, int rows)
    {
        var shape = MonarchShape.Square(n);
        var rng = new Rng(3);
        double[] R(long len) { var a = new double[len]; rng.FillGaussian(a.AsSpan()); return a; }
        var x = R(rows * shape.N); var w1 = R(shape.W1Length); var w2 = R(shape.W2Length); var dy = R(rows * shape.M);
        (double[] y, double[] dx, double[] dw1, double[] dw2) Run(int threads)
        {
            WorkerPool.Configure(threads);
            var y = new double[rows * shape.M]; var h = new double[rows * shape.Hidden];
            var dx = new double[rows * shape.N]; var dw1 = new double[shape.W1Length]; var dw2 = new double[shape.W2Length];
            MonarchMultiply.Forward<double>(x, w1, w2, y, shape, rows, h);
            MonarchMultiply.Backward<double>(x, h, w1, w2, dy, dx, dw1, dw2, shape, rows);
            var yScratch = new double[rows * shape.M];
            MonarchMultiply.Forward<double>(x, w1, w2, yScratch, shape, rows);
            Assert.Equal(y, yScratch);   // keeping h or not: the same arithmetic
            return (y, dx, dw1, dw2);
        }
        try
        {
            var one = Run(1);
            var two = Run(2);
            Assert.Equal(one.y, two.y);
            Assert.Equal(one.dx, two.dx);
            Assert.Equal(one.dw1, two.dw1);
            Assert.Equal(one.dw2, two.dw2);
        }
        finally { WorkerPool.Configure(Environment.ProcessorCount); }
    }

    [Fact]
    public unsafe void Streamed_output_stores_write_the_same_values_as_cached_ones()
    {
        var shape = MonarchShape.Square(1024);
        int rows = 70, len = rows * shape.M;
        var rng = new Rng(5);
        double[] R(long n) { var a = new double[n]; rng.FillGaussian(a.AsSpan()); return a; }
        var x = R(rows * shape.N); var w1 = R(shape.W1Length); var w2 = R(shape.W2Length);
        var buffer = GC.AllocateArray<double>(len + 9, pinned: true);
        int aligned;
        fixed (double* p = buffer) aligned = (int)((64 - (nint)p % 64) % 64 / sizeof(double));
        int width = MonarchKernels.VectorWidth<double>(shape.L);
        long saved = MonarchMultiply.StreamingBytes;
        try
        {
            MonarchMultiply.StreamingBytes = 0;
            fixed (double* p = buffer)
            {
                Assert.True(width == 1 || MonarchMultiply.StreamsOutput(p + aligned, shape, rows, width));   // the streamed path is taken
                Assert.False(MonarchMultiply.StreamsOutput(p + aligned + 1, shape, rows, width));         // misaligned: cached
            }
            MonarchMultiply.Forward<double>(x, w1, w2, buffer.AsSpan(aligned, len), shape, rows);
            var streamed = buffer.AsSpan(aligned, len).ToArray();
            MonarchMultiply.StreamingBytes = long.MaxValue;
            var cached = new double[len];
            MonarchMultiply.Forward<double>(x, w1, w2, cached, shape, rows);
            Assert.Equal(cached, streamed);
            var reference = new double[len];
            MonarchMultiply.ForwardReference<double>(x, w1, w2, reference, shape, rows);
            Compare.Close(reference, streamed, 1e-13, "streamed y");
        }
        finally { MonarchMultiply.StreamingBytes = saved; }
    }
}
