using System.Numerics;

namespace PrecisionLS.Training;

/// <summary>
/// The adaptive scheduler's gradient metric (the authors' gradient_cosine_mean): the mean cosine similarity of
/// consecutive pairs among n minibatch gradients taken at the same parameters (n = 64: 63 pairs). Near 1 the
/// minibatch gradients agree (signal dominates); near 0 they are mostly noise.
/// </summary>
public static class GradientCosine
{
    /// <summary>Minibatch gradients per measurement (the authors' n_batches).</summary>
    public const int Batches = 64;
    /// <summary>torch.nn.functional.cosine_similarity's eps: each norm is clamped below at this.</summary>
    public const double Eps = 1e-8;

    /// <summary>a·b / (max(|a|, eps) · max(|b|, eps)) over the given slices of two flat arrays, accumulated in double
    /// in index order.</summary>
    public static double Cosine<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<(int Offset, int Length)> ranges)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double dot = 0, aa = 0, bb = 0;
        foreach (var (offset, length) in ranges)
            for (int i = offset; i < offset + length; i++)
            {
                double x = double.CreateChecked(a[i]), y = double.CreateChecked(b[i]);
                dot += x * y; aa += x * x; bb += y * y;
            }
        return dot / (Math.Max(Math.Sqrt(aa), Eps) * Math.Max(Math.Sqrt(bb), Eps));
    }
}
