using System.Numerics;
using PrecisionLS.Numerics;

namespace PrecisionLS.Tasks;

/// <summary>
/// A synthetic numerical task: draws a batch of prompts and targets, and scores the model's output at the
/// positions it reads (REFERENCE §1). Prompts are [batch, PromptLength, TokenDims] row-major.
/// </summary>
public interface ITask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Task name as in configs (e.g. "explicit_gradient").</summary>
    string Name { get; }
    /// <summary>Tokens per prompt.</summary>
    int PromptLength { get; }
    /// <summary>Width of each prompt token (the model's in_dims).</summary>
    int TokenDims { get; }
    /// <summary>Channels of model output the task reads (the model's out_dims).</summary>
    int OutputDims { get; }
    /// <summary>Token positions whose output the loss reads, ascending.</summary>
    ReadOnlySpan<int> ReadPositions { get; }
    /// <summary>Target values per example.</summary>
    int TargetSize { get; }

    /// <summary>Draws <paramref name="batch"/> examples: prompt [batch, PromptLength, TokenDims], target [batch, TargetSize].</summary>
    void Sample(Rng rng, int batch, Span<T> prompt, Span<T> target);

    /// <summary>
    /// Training loss (the task metric, mse) of the model output at the read positions,
    /// readOutput [batch, ReadPositions.Length, OutputDims], and its gradient d loss / d readOutput (overwritten).
    /// meanBatch is the batch size the mean is taken over (0: batch): a slice of a larger batch passes the full
    /// batch size and gets its share of the batch loss and the exact gradient of the batch loss.
    /// </summary>
    double Loss(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch, Span<T> gradReadOutput, int meanBatch = 0);

    /// <summary>mse, rel and rel_l2 of the prediction at the read positions.</summary>
    TaskMetrics Evaluate(ReadOnlySpan<T> readOutput, ReadOnlySpan<T> target, int batch);
}

/// <summary>Metric values of one evaluation (REFERENCE §1: plain means over all target elements).</summary>
/// <param name="Mse">mean(err²)</param>
/// <param name="Rel">mean|err| / mean|y|</param>
/// <param name="RelL2">sqrt(mean err²) / mean|y|</param>
public readonly record struct TaskMetrics(double Mse, double Rel, double RelL2);
