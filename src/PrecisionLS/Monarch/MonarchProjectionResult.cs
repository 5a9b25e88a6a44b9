using System.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>
/// The SVD of one observed sub-matrix of a projection: rows of output block <paramref name="OutBlock"/> (l) against
/// columns of input block <paramref name="InBlock"/> (k), <paramref name="Rows"/> × <paramref name="Columns"/> after
/// dropping padded inputs and cut outputs; <paramref name="Rank"/> is the number of intermediate nodes linking the
/// two blocks (the rank the Monarch set allows there), <paramref name="SingularValues"/> all min(Rows, Columns) of
/// them, descending.
/// </summary>
public sealed record MonarchBlockSvd(int OutBlock, int InBlock, int Rows, int Columns, int Rank, double[] SingularValues)
{
    /// <summary>Σ σ_i² over i ≥ Rank: this block's share of the squared projection error.</summary>
    public double DiscardedSquared
    {
        get
        {
            double sum = 0;
            for (int i = Rank; i < SingularValues.Length; i++) sum += SingularValues[i] * SingularValues[i];
            return sum;
        }
    }
}

/// <summary>
/// The nearest Monarch matrix to a dense one in Frobenius norm (over the observed entries): its factors, its dense
/// form, the error, and the per-block singular values the error is made of.
/// </summary>
public sealed class MonarchProjectionResult<T> where T : struct, INumberBase<T>
{
    internal MonarchProjectionResult(MonarchFactors<T> factors, T[] projected, double norm, double error, MonarchBlockSvd[] blocks)
    {
        Factors = factors; Projected = projected; Norm = norm; FrobeniusError = error; Blocks = blocks;
    }

    /// <summary>The optimal factors (entries that only touch padded inputs or cut outputs are zero).</summary>
    public MonarchFactors<T> Factors { get; }
    /// <summary>The projected matrix (Out × In, row-major), the dense form of <see cref="Factors"/>.</summary>
    public T[] Projected { get; }
    /// <summary>‖M‖_F.</summary>
    public double Norm { get; }
    /// <summary>‖Projected − M‖_F, summed over the entries of M.</summary>
    public double FrobeniusError { get; }
    /// <summary>‖Projected − M‖_F / ‖M‖_F (0 for M = 0).</summary>
    public double RelativeError => Norm > 0 ? FrobeniusError / Norm : FrobeniusError;
    /// <summary>One entry per (output block l, input block k), l-major (fly's 'k r' block order).</summary>
    public IReadOnlyList<MonarchBlockSvd> Blocks { get; }
    /// <summary>√(Σ discarded σ²): the error the block SVDs predict; equals <see cref="FrobeniusError"/> up to rounding.</summary>
    public double DiscardedError => Math.Sqrt(Blocks.Sum(b => b.DiscardedSquared));
}
