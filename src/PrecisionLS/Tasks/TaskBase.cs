using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// What every task shares: the current size and its range, the read positions, and the loss and metrics — mse
/// over the read positions and the channel window [ReadChannelStart, ReadChannelStart + ReadChannelCount)
/// (REFERENCE §1: the training metric is a plain mean over all target elements).
/// </summary>
/// <remarks>A concrete task states its prompt length and read positions for a number of points and draws its
/// examples; sums run in double in index order, so results do not depend on the element type beyond rounding of
/// the inputs.</remarks>
public abstract class TaskBase<T> : ITask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[]? _reads;       // of the current size; computed on first use (subclass fields are set by then)
    private int _maxReads = -1;

    /// <param name="name">Config name.</param>
    /// <param name="maxPoints">Points at the end of the curriculum (n_points).</param>
    /// <param name="maxDims">Dimensions at the end of the curriculum (n_dims).</param>
    /// <param name="tokenDims">Prompt token width.</param>
    /// <param name="outputDims">Model output width (out_dims); the read window must fit inside it.</param>
    /// <param name="readChannelStart">First output channel the loss reads.</param>
    /// <param name="readChannelCount">Output channels the loss reads.</param>
    /// <param name="minPoints">Smallest accepted number of points.</param>
    protected TaskBase(string name, int maxPoints, int maxDims, int tokenDims, int outputDims, int readChannelStart, int readChannelCount, int minPoints = 1)
    {
        Name = name;
        if (maxPoints < minPoints) throw new ArgumentException($"n_points = {maxPoints}: {name} needs at least {minPoints}", "n_points");
        if (maxDims < 1) throw new ArgumentException($"n_dims = {maxDims}: must be >= 1", "n_dims");
        if (readChannelCount < 1 || readChannelStart < 0 || readChannelStart + readChannelCount > outputDims)
            throw new ArgumentException(
                $"out_dims = {outputDims}: {name} reads output channels [{readChannelStart}, {readChannelStart + readChannelCount}), " +
                $"so out_dims must be at least {readChannelStart + readChannelCount}", "out_dims");
        MaxPoints = maxPoints; MaxDims = maxDims; MinPoints = minPoints;
        TokenDims = tokenDims; OutputDims = outputDims;
        ReadChannelStart = readChannelStart; ReadChannelCount = readChannelCount;
        Points = maxPoints; Dims = maxDims;
    }

    public string Name { get; }
    public int TokenDims { get; }
    public int OutputDims { get; }
    public int ReadChannelStart { get; }
    public int ReadChannelCount { get; }
    public int MaxPoints { get; }
    public int MaxDims { get; }
    /// <summary>Smallest accepted number of points.</summary>
    public int MinPoints { get; }
    public int Points { get; private set; }
    public int Dims { get; private set; }
    public int PromptLength => PromptLengthFor(Points);
    public int MaxPromptLength => PromptLengthFor(MaxPoints);
    public ReadOnlySpan<int> ReadPositions => Reads;
    public int MaxReadCount
    {
        get
        {
            if (_maxReads < 0)
                for (int p = MinPoints; p <= MaxPoints; p++) _maxReads = Math.Max(_maxReads, ReadPositionsFor(p).Length);
            return _maxReads;
        }
    }
    public int TargetSize => Reads.Length * ReadChannelCount;
    private int[] Reads => _reads ??= ReadPositionsFor(Points);

    /// <summary>Tokens of a prompt with <paramref name="points"/> points.</summary>
    public abstract int PromptLengthFor(int points);
    /// <summary>Read positions of a prompt with <paramref name="points"/> points, ascending (a new array).</summary>
    protected abstract int[] ReadPositionsFor(int points);

    public void SetSize(int points, int dims)
    {
        if (points < MinPoints || points > MaxPoints)
            throw new ArgumentException($"points = {points}: {Name} accepts {MinPoints}..{MaxPoints} (n_points)", nameof(points));
        if (dims < 1 || dims > MaxDims)
            throw new ArgumentException($"dims = {dims}: {Name} accepts 1..{MaxDims} (n_dims)", nameof(dims));
        if (points != Points) _reads = null;
        Points = points; Dims = dims;
    }

    public abstract void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target);

    /// <inheritdoc/>
    /// <remarks>mse = mean over the B·R·C read values of (out[:, :, window] - target)²;
    /// d mse / d out = 2 (out - target) / (B·R·C) inside the window, 0 outside.</remarks>
    public double Loss(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch, Span<T> gradReadOutput, int meanBatch = 0)
    {
        CheckRead(readOutput, target, batch);
        if (meanBatch < 0 || (meanBatch > 0 && meanBatch < batch))
            throw new ArgumentException($"meanBatch = {meanBatch}: must be 0 or at least batch = {batch}", nameof(meanBatch));
        int rows = batch * Reads.Length, o = OutputDims, c0 = ReadChannelStart, cc = ReadChannelCount;
        if (gradReadOutput.Length < rows * o)
            throw new ArgumentException($"gradReadOutput has {gradReadOutput.Length} elements, needs {rows * o}", nameof(gradReadOutput));
        double n = (double)(meanBatch > 0 ? meanBatch : batch) * Reads.Length * cc, se = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < o; c++)
            {
                int k = c - c0;
                if (k < 0 || k >= cc) { gradReadOutput[r * o + c] = T.Zero; continue; }
                double e = double.CreateChecked(readOutput[r * o + c]) - double.CreateChecked(target[r * cc + k]);
                se += e * e;
                gradReadOutput[r * o + c] = T.CreateChecked(2.0 * e / n);   // d/d out of mean((out - y)²)
            }
        return se / n;
    }

    /// <inheritdoc/>
    public TaskMetrics Evaluate(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch)
    {
        CheckRead(readOutput, target, batch);
        int rows = batch * Reads.Length, o = OutputDims, c0 = ReadChannelStart, cc = ReadChannelCount;
        if (c0 == 0 && cc == o) return Metrics.All(readOutput[..(rows * o)], target[..(rows * cc)]);
        // Gather the read window (evaluation is not on the hot path).
        var pred = new double[rows * cc]; var y = new double[rows * cc];
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cc; k++)
            {
                pred[r * cc + k] = double.CreateChecked(readOutput[r * o + c0 + k]);
                y[r * cc + k] = double.CreateChecked(target[r * cc + k]);
            }
        return Metrics.All<double>(pred, y);
    }

    /// <summary>Throws unless prompt and target hold <paramref name="batch"/> examples at the current size.</summary>
    protected void CheckSample(int batch, int promptLength, int targetLength)
    {
        if (batch < 0) throw new ArgumentException($"batch = {batch}: must be >= 0", nameof(batch));
        if (promptLength < batch * PromptLength * TokenDims)
            throw new ArgumentException($"prompt has {promptLength} elements, needs batch·{PromptLength}·{TokenDims} = {batch * PromptLength * TokenDims}", "prompt");
        if (targetLength < batch * TargetSize)
            throw new ArgumentException($"target has {targetLength} elements, needs batch·{TargetSize} = {batch * TargetSize}", "target");
    }

    private void CheckRead(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch)
    {
        if (batch < 0) throw new ArgumentException($"batch = {batch}: must be >= 0", nameof(batch));
        int need = batch * Reads.Length * OutputDims;
        if (readOutput.Length < need)
            throw new ArgumentException($"readOutput has {readOutput.Length} elements, needs batch·{Reads.Length}·{OutputDims} = {need}", nameof(readOutput));
        if (target.Length < batch * TargetSize)
            throw new ArgumentException($"target has {target.Length} elements, needs {batch * TargetSize}", nameof(target));
    }
}
