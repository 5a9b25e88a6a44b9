using System.Numerics;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

/// <summary>
/// The Monarch factorisation of the FFT and the long convolution on it: the transform against the DFT sum, and the
/// causal convolution (forward, input gradient, kernel gradient) against the direct sums to 1e-13 in float64.
/// </summary>
public class MonarchFftTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(21)]
    [InlineData(64)]
    [InlineData(257)]
    [InlineData(1000)]
    public void Forward_transform_is_the_dft(int length)
    {
        var fft = new MonarchFft<double>(length);
        Assert.True(fft.N >= 2 * length && fft.N == fft.N1 * fft.N2 && fft.N2 % 2 == 0);
        const int d = 3, batch = 2;
        var rng = new Rng((ulong)length);
        foreach (int rows in new[] { length, fft.N })
        {
            var x = new double[batch * rows * d]; rng.FillGaussian(x.AsSpan());
            var spec = new double[fft.SpectrumLength(batch, d)];
            fft.Forward(x, rows, batch, d, spec);
            int n = fft.N;
            double worst = 0, scale = 0;
            for (int k2 = 0; k2 < fft.N2; k2++)
                for (int k1 = 0; k1 < fft.N1; k1++)
                {
                    int k = fft.FrequencyOf(k2, k1);   // the stored order [k2, row]
                    for (int b = 0; b < batch; b++)
                        for (int c = 0; c < d; c++)
                        {
                            Complex acc = 0;
                            for (int t = 0; t < rows; t++)
                                acc += x[(b * rows + t) * d + c] * Complex.FromPolarCoordinates(1, -2 * Math.PI * ((long)t * k % n) / n);
                            int o = (fft.StorageRow(k2, k1) * batch + b) * 2 * d;
                            worst = Math.Max(worst, Complex.Abs(acc - new Complex(spec[o + c], spec[o + d + c])));
                            scale = Math.Max(scale, Complex.Abs(acc));
                        }
                }
            Assert.True(worst <= 1e-13 * Math.Max(1, scale), $"L={length}, rows={rows}: worst |error| {worst:E2} (scale {scale:E2})");
            // Inverse(Forward(x)) = N x
            var back = new double[batch * rows * d];
            fft.Inverse(spec, rows, batch, d, back, accumulate: false);
            for (int i = 0; i < back.Length; i++) back[i] /= n;
            Compare.Close(x, back, 1e-13, $"inverse L={length}");
        }
    }

    public static TheoryData<int, int, int, int, bool> ConvShapes() => new()
    {
        { 1, 1, 1, 1, false }, { 2, 3, 2, 2, false }, { 5, 4, 2, 5, false }, { 21, 8, 3, 21, false }, { 21, 5, 2, 13, false },
        { 100, 7, 2, 100, false }, { 256, 4, 1, 256, false }, { 1000, 3, 1, 1000, false }, { 37, 6, 2, 37, true },
        // chunk by chunk (the test sets MonarchFft.ChunkChannels to 8): d = 20, 37 pack into 10 and 19 complex channels,
        // 8 + 2 and 8 + 8 + 3
        { 300, 20, 2, 300, false }, { 150, 37, 1, 150, false },
    };

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void Causal_convolution_on_the_monarch_fft_matches_the_direct_sum_to_1e13(int length, int d, int batch, int taps, bool plain)
    {
        int saved = MonarchFft<double>.ChunkChannels;
        MonarchFft<double>.ChunkChannels = 8;   // the wide shapes run chunk by chunk
        try
        {
            var rng = new Rng((ulong)(length * 31 + d));
            var k = new double[taps * d]; rng.FillGaussian(k.AsSpan());
            var x = new double[batch * length * d]; rng.FillGaussian(x.AsSpan());
            var dy = new double[x.Length]; rng.FillGaussian(dy.AsSpan());
            var conv = new SpectralConvolution<double>(plainFft: plain);
            conv.SetKernel(k, taps, d, length);
            var y = new double[x.Length];
            conv.Forward(x, y, batch, accumulate: false);
            var yRef = new double[x.Length];
            LongConv.ForwardReference<double>(x, k, taps, yRef, batch, length, d, causal: true, resid: false);
            Compare.Close(yRef, y, 1e-13, "forward");

            var dx = new double[x.Length]; var dk = new double[taps * d];
            var dxRef = new double[x.Length]; var dkRef = new double[taps * d];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < length; t++)
                    for (int c = 0; c < d; c++)
                        for (int j = 0; j < Math.Min(taps, t + 1); j++)
                        {
                            double g = dy[(b * length + t) * d + c];
                            dxRef[(b * length + t - j) * d + c] += k[j * d + c] * g;
                            dkRef[j * d + c] += x[(b * length + t - j) * d + c] * g;
                        }
            conv.Backward(dy, dx, accumulateDx: false, dk, taps);
            Compare.Close(dxRef, dx, 1e-13, "dx");
            Compare.Close(dkRef, dk, 1e-13, "dk");
        }
        finally { MonarchFft<double>.ChunkChannels = saved; }
    }

    [Fact]
    public void Float32_path_runs_and_matches_float64_to_float_precision()
    {
        const int length = 40, d = 4;
        var rng = new Rng(2);
        var k = new double[length * d]; rng.FillGaussian(k.AsSpan());
        var x = new double[length * d]; rng.FillGaussian(x.AsSpan());
        var c64 = new SpectralConvolution<double>(); c64.SetKernel(k, length, d, length);
        var c32 = new SpectralConvolution<float>(); c32.SetKernel(k.Select(v => (float)v).ToArray(), length, d, length);
        var y64 = new double[x.Length]; var y32 = new float[x.Length];
        c64.Forward(x, y64, 1, false); c32.Forward(x.Select(v => (float)v).ToArray(), y32, 1, false);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(y64[i] - y32[i]) < 1e-4 * 10, $"{i}: {y64[i]} vs {y32[i]}");
    }

    [Fact]
    public void Chunked_transforms_give_the_same_spectrum_and_output_as_one_pass()
    {
        const int length = 200, d = 37, batch = 2;
        var x = new double[batch * length * d]; new Rng(9).FillGaussian(x.AsSpan());
        (double[] Spec, double[] Y) Run(int chunkChannels)
        {
            int saved = MonarchFft<double>.ChunkChannels;
            try
            {
                MonarchFft<double>.ChunkChannels = chunkChannels;
                var fft = new MonarchFft<double>(length);
                var spec = new double[fft.SpectrumLength(batch, d)];
                fft.Forward(x, length, batch, d, spec);
                var kept = (double[])spec.Clone();
                var y = new double[x.Length];
                fft.Inverse(spec, length, batch, d, y, accumulate: false);
                return (kept, y);
            }
            finally { MonarchFft<double>.ChunkChannels = saved; }
        }
        var whole = Run(1000);
        var chunked = Run(8);            // 5 chunks, the last of 5 channels
        Compare.Close(whole.Spec, chunked.Spec, 1e-15, "spectrum");
        Compare.Close(whole.Y, chunked.Y, 1e-15, "inverse");
        var fft1 = new MonarchFft<double>(length);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i], chunked.Y[i] / fft1.N, 1e-12);   // Inverse(Forward(x)) = N·x
    }
}
