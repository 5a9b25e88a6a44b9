using System.Numerics;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>
/// Two real channels per complex transform: the packed Monarch transform (z_c = x_c + i·x_{m+c}) against the DFT sum,
/// its mirror rows, and the long convolution on packed spectra (forward, dx, dk, tangent; causal and bidirectional
/// kernels, odd and even d, batches, chunked transforms) against the direct sums on the circle in float64: to 1e-13
/// entry by entry, or, where that is tighter, 1e-14 of the largest entry (at L = 1000 the outputs reach about 80 and
/// the direct float64 sum of 1000 terms is itself off by about 1e-13 against an exact one, as is the unpacked path).
/// </summary>
public class PackedSpectralConvolutionTests
{
    public static TheoryData<int, int, int> TransformShapes() => new()
    {
        { 1, 1, 1 }, { 1, 2, 2 }, { 5, 3, 2 }, { 21, 1, 1 }, { 21, 4, 2 }, { 64, 5, 1 }, { 257, 2, 3 }, { 1000, 3, 1 },
        // chunk by chunk (the tests set MonarchFft.ChunkChannels to 16): 16 + 3; 16 + 16 + 1, odd d
        { 150, 38, 1 }, { 130, 65, 2 },
    };

    [Theory]
    [MemberData(nameof(TransformShapes))]
    public void Packed_forward_is_the_dft_of_the_complex_pairs_and_the_inverse_gives_both_parts_back(int length, int d, int batch)
    {
        int saved = MonarchFft<double>.ChunkChannels;
        MonarchFft<double>.ChunkChannels = 16;   // the wide shapes run chunk by chunk
        try
        {
            var fft = new MonarchFft<double>(length);
            int m = MonarchFft<double>.PackedChannels(d), n = fft.N;
            Assert.Equal((d + 1) / 2, m);
            var rng = new Rng((ulong)(length * 7 + d));
            foreach (int rows in new[] { length, n })
            {
                var x = new double[batch * rows * d]; rng.FillGaussian(x.AsSpan());
                var spec = new double[fft.SpectrumLength(batch, m)];
                fft.ForwardPacked(x, rows, batch, d, spec);
                double worst = 0, scale = 0;
                var zs = new Complex[rows];
                for (int b = 0; b < batch; b++)
                    for (int c = 0; c < m; c++)
                    {
                        for (int t = 0; t < rows; t++)
                            zs[t] = new Complex(x[(b * rows + t) * d + c], m + c < d ? x[(b * rows + t) * d + m + c] : 0);
                        // a sample of frequencies keeps the O(N·rows) reference sum short
                        for (int r = 0; r < fft.N1; r++)
                            for (int k2 = 0; k2 < fft.N2; k2 += Math.Max(1, fft.N2 / 8))
                            {
                                int k = fft.FrequencyOf(k2, r);
                                Complex acc = 0;
                                for (int t = 0; t < rows; t++) acc += zs[t] * Complex.FromPolarCoordinates(1, -2 * Math.PI * ((long)t * k % n) / n);
                                int o = (fft.StorageRow(k2, r) * batch + b) * 2 * m;
                                worst = Math.Max(worst, Complex.Abs(acc - new Complex(spec[o + c], spec[o + m + c])));
                                scale = Math.Max(scale, Complex.Abs(acc));
                            }
                    }
                Assert.True(worst <= 1e-13 * Math.Max(1, scale), $"L={length}, d={d}, rows={rows}: worst |error| {worst:E2} (scale {scale:E2})");
                // InversePacked(ForwardPacked(x)) = N·x: real parts into channels c, imaginary parts into m + c
                var back = new double[x.Length];
                fft.InversePacked(spec, rows, batch, d, back, accumulate: false);
                for (int i = 0; i < back.Length; i++) back[i] /= n;
                Compare.Close(x, back, 1e-13, $"inverse L={length}, d={d}");
            }
        }
        finally { MonarchFft<double>.ChunkChannels = saved; }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void Mirror_rows_hold_the_negated_frequency(int length)
    {
        var fft = new MonarchFft<double>(length);
        var mirror = fft.MirrorRows;
        var freq = new int[fft.N];
        for (int r = 0; r < fft.N1; r++)
            for (int k2 = 0; k2 < fft.N2; k2++) freq[fft.StorageRow(k2, r)] = fft.FrequencyOf(k2, r);
        for (int row = 0; row < fft.N; row++)
        {
            Assert.Equal((fft.N - freq[row]) % fft.N, freq[mirror[row]]);
            Assert.Equal(row, mirror[mirror[row]]);
        }
        var pairs = PackedSpectra<double>.PairRows(mirror);
        Assert.Equal(fft.N / 2 + 1, pairs.Length);   // N even: 0 and N/2 on their own, the rest in pairs
    }

    public static TheoryData<int, int, int, bool> ConvShapes() => new()
    {
        { 1, 1, 1, false }, { 1, 2, 2, true }, { 2, 1, 1, true }, { 5, 2, 3, false }, { 5, 3, 2, true }, { 21, 5, 2, true },
        { 100, 4, 1, false }, { 257, 1, 2, true }, { 1000, 3, 1, false }, { 1000, 2, 1, true },
        // chunk by chunk (more than 16 complex channels), odd d
        { 120, 35, 2, true }, { 200, 34, 1, false },
    };

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void Packed_convolution_forward_backward_and_tangent_match_the_direct_sums_to_1e13(int length, int d, int batch, bool bidirectional)
    {
        int saved = MonarchFft<double>.ChunkChannels;
        MonarchFft<double>.ChunkChannels = 16;   // the wide shapes run chunk by chunk
        try
        {
            var rng = new Rng((ulong)(length * 13 + d * 3 + batch));
            var conv = new SpectralConvolution<double>();
            int n = conv.SizeFor(length);
            // causal: taps 0..L-1; bidirectional: the whole circle (rows N−m carry the reverse taps, the middle is zero)
            int kRows = bidirectional ? n : length;
            double[] Kernel()
            {
                var k = new double[kRows * d];
                for (int j = 0; j < kRows; j++)
                    if (j < length || j > n - length)
                        for (int c = 0; c < d; c++) k[j * d + c] = rng.NextGaussian();
                return k;
            }
            var k = Kernel();
            var x = new double[batch * length * d]; rng.FillGaussian(x.AsSpan());
            var dy = new double[x.Length]; rng.FillGaussian(dy.AsSpan());
            var y0 = new double[x.Length]; rng.FillGaussian(y0.AsSpan());
            conv.SetKernel(k, kRows, d, length);
            var y = (double[])y0.Clone();
            conv.Forward(x, y, batch, accumulate: true);

            var yRef = (double[])y0.Clone(); var dxRef = new double[x.Length]; var dkRef = new double[kRows * d];
            Direct(k, x, yRef, dy, dxRef, dkRef);
            Close(yRef, y, "forward");

            var dx = (double[])y0.Clone(); var dk = new double[kRows * d];
            conv.Backward(dy, dx, accumulateDx: true, dk, kRows);
            for (int i = 0; i < dx.Length; i++) dxRef[i] += y0[i];
            Close(dxRef, dx, "dx");
            Close(dkRef, dk, "dk");

            // tangent: k ∗ tx + tk ∗ x, and each term alone
            var tx = new double[x.Length]; rng.FillGaussian(tx.AsSpan());
            var tk = Kernel();
            var tRef = new double[x.Length]; var txOnly = new double[x.Length]; var tkOnly = new double[x.Length];
            Direct(k, tx, txOnly, null, null, null);
            Direct(tk, x, tkOnly, null, null, null);
            for (int i = 0; i < tRef.Length; i++) tRef[i] = txOnly[i] + tkOnly[i];
            var t = new double[x.Length];
            conv.ForwardTangent(tx, tk, kRows, t, accumulate: false);
            Close(tRef, t, "tangent");
            conv.ForwardTangent(tx, default, 0, t, accumulate: false);
            Close(txOnly, t, "tangent (dx only)");
            conv.ForwardTangent(default, tk, kRows, t, accumulate: false);
            Close(tkOnly, t, "tangent (dk only)");

            // y += Σ_s k[(t − s) mod N]·x[s]; with dy: dx[s] += k[(t − s) mod N]·dy[t], dk[j] += dy[t]·x[s]
            void Direct(double[] kk, double[] xx, double[] yy, double[]? g, double[]? gx, double[]? gk)
            {
                for (int b = 0; b < batch; b++)
                    for (int tt = 0; tt < length; tt++)
                        for (int s = 0; s < length; s++)
                        {
                            int j = ((tt - s) % n + n) % n;
                            if (j >= kRows) continue;
                            for (int c = 0; c < d; c++)
                            {
                                int it = (b * length + tt) * d + c, ist = (b * length + s) * d + c;
                                yy[it] += kk[j * d + c] * xx[ist];
                                if (g is null) continue;
                                gx![ist] += kk[j * d + c] * g[it];
                                gk![j * d + c] += g[it] * xx[ist];
                            }
                        }
            }
        }
        finally { MonarchFft<double>.ChunkChannels = saved; }
    }

    // |actual − expected| ≤ 1e-13·max(1, |expected|) or ≤ 1e-14·max(1, max |expected|), entry by entry
    private static void Close(double[] expected, double[] actual, string what)
    {
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            Assert.True(err <= 1e-13 * Math.Max(1, Math.Abs(expected[i])) || err <= 1e-14 * scale,
                $"{what}: {actual[i]:R} at {i}, expected {expected[i]:R} (largest {scale:E2})");
        }
    }

    [Fact]
    public void Packed_and_unpacked_paths_agree()
    {
        const int length = 300, d = 37, batch = 2;
        var rng = new Rng(5);
        var k = new double[length * d]; rng.FillGaussian(k.AsSpan());
        var x = new double[batch * length * d]; rng.FillGaussian(x.AsSpan());
        var dy = new double[x.Length]; rng.FillGaussian(dy.AsSpan());
        (double[] Y, double[] Dx, double[] Dk) Run(bool packed)
        {
            var conv = new SpectralConvolution<double>(plainFft: false, packPairs: packed);
            conv.SetKernel(k, length, d, length);
            var y = new double[x.Length]; var dx = new double[x.Length]; var dk = new double[k.Length];
            conv.Forward(x, y, batch, accumulate: false);
            conv.Backward(dy, dx, accumulateDx: false, dk, length);
            return (y, dx, dk);
        }
        var a = Run(false); var p = Run(true);
        Compare.Close(a.Y, p.Y, 1e-13, "y");
        Compare.Close(a.Dx, p.Dx, 1e-13, "dx");
        Compare.Close(a.Dk, p.Dk, 1e-13, "dk");
    }
}
