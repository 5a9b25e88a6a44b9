using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// A synthetic numerical task: draws a batch of prompts and targets, and scores the model's output at the
/// positions and channels it reads (REFERENCE §1). Prompts are [batch, PromptLength, TokenDims] row-major.
/// </summary>
/// <remarks>
/// A task has a current size (points, dims) that a curriculum may grow up to (MaxPoints, MaxDims);
/// PromptLength, ReadPositions and TargetSize follow the current size. Buffers sized with the Max* members hold
/// any size. An instance keeps scratch buffers: use one instance per thread.
/// </remarks>
public interface ITask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Task name as in configs (e.g. "explicit_gradient").</summary>
    string Name { get; }
    /// <summary>Width of each prompt token (the model's in_dims).</summary>
    int TokenDims { get; }
    /// <summary>Channels of model output the task reads from (the model's out_dims).</summary>
    int OutputDims { get; }
    /// <summary>First channel of the model output the loss reads.</summary>
    int ReadChannelStart { get; }
    /// <summary>Number of consecutive output channels the loss reads (the target's last dimension).</summary>
    int ReadChannelCount { get; }

    /// <summary>Points (examples, equations, ...) per prompt at the end of the curriculum.</summary>
    int MaxPoints { get; }
    /// <summary>Problem dimensions at the end of the curriculum (n_dims).</summary>
    int MaxDims { get; }
    /// <summary>Current number of points.</summary>
    int Points { get; }
    /// <summary>Current number of live dimensions (the rest are zero, REFERENCE §1 truncated dims).</summary>
    int Dims { get; }
    /// <summary>Sets the current size (a curriculum step); throws ArgumentException outside the accepted range.</summary>
    void SetSize(int points, int dims);

    /// <summary>Tokens per prompt at the current size.</summary>
    int PromptLength { get; }
    /// <summary>Tokens per prompt at the largest size.</summary>
    int MaxPromptLength { get; }
    /// <summary>Token positions whose output the loss reads, ascending (current size).</summary>
    ReadOnlySpan<int> ReadPositions { get; }
    /// <summary>Largest ReadPositions.Length over all sizes.</summary>
    int MaxReadCount { get; }
    /// <summary>Target values per example: ReadPositions.Length · ReadChannelCount.</summary>
    int TargetSize { get; }

    /// <summary>Draws <paramref name="batch"/> examples at the current size: prompt [batch, PromptLength, TokenDims],
    /// target [batch, ReadPositions.Length, ReadChannelCount]. Overwrites both.</summary>
    void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target);

    /// <summary>
    /// Training loss (the task metric, mse over the read positions and channels) of readOutput
    /// [batch, ReadPositions.Length, OutputDims], and its gradient d loss / d readOutput (overwritten; zero on
    /// channels the loss does not read).
    /// meanBatch is the batch size the mean is taken over (0: batch): a slice of a larger batch passes the full
    /// batch size and gets its share of the batch loss and the exact gradient of the batch loss.
    /// </summary>
    double Loss(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch, Span<T> gradReadOutput, int meanBatch = 0);

    /// <summary>mse, rel and rel_l2 of the prediction at the read positions and channels.</summary>
    TaskMetrics Evaluate(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch);
}

/// <summary>Metric values of one evaluation (REFERENCE §1: plain means over all target elements).</summary>
/// <param name="Mse">mean(err²)</param>
/// <param name="Rel">mean|err| / mean|y|</param>
/// <param name="RelL2">sqrt(mean err²) / mean|y|</param>
public readonly record struct TaskMetrics(double Mse, double Rel, double RelL2);
