namespace PrecisionLS.Tests.Tasks;

/// <summary>
/// Moves rows between a full model output [batch, promptLength, outDims] and the rows a task reads
/// [batch, reads.Length, outDims]: the fixtures store the full output, the tasks score the read rows.
/// </summary>
internal static class ReadRows
{
    /// <summary>The rows of <paramref name="full"/> at <paramref name="reads"/>, per example.</summary>
    public static double[] Gather(ReadOnlySpan<double> full, int batch, int promptLength, int outDims, ReadOnlySpan<int> reads)
    {
        var read = new double[batch * reads.Length * outDims];
        for (int e = 0; e < batch; e++)
            for (int r = 0; r < reads.Length; r++)
                full.Slice((e * promptLength + reads[r]) * outDims, outDims).CopyTo(read.AsSpan((e * reads.Length + r) * outDims, outDims));
        return read;
    }

    /// <summary>A full-size array, zero except <paramref name="read"/> times <paramref name="factor"/> at the read rows.</summary>
    public static double[] Scatter(ReadOnlySpan<double> read, int batch, int promptLength, int outDims, ReadOnlySpan<int> reads, double factor = 1.0)
    {
        var full = new double[batch * promptLength * outDims];
        for (int e = 0; e < batch; e++)
            for (int r = 0; r < reads.Length; r++)
                for (int c = 0; c < outDims; c++)
                    full[(e * promptLength + reads[r]) * outDims + c] = factor * read[(e * reads.Length + r) * outDims + c];
        return full;
    }
}
