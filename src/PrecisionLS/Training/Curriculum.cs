using PrecisionLS.Config;

namespace PrecisionLS.Training;

/// <summary>
/// Size of the training prompts at each step (REFERENCE §1 curriculum): points and live dims grow from their
/// start values by inc every interval steps up to their end values; an axis without a curriculum stays at full
/// size. A pure function of the step, so a resumed run continues the schedule exactly.
/// </summary>
public sealed class Curriculum(CurriculumConfig? config, int fullPoints, int fullDims)
{
    /// <summary>Points and dims for the step that follows <paramref name="completedSteps"/> completed steps.</summary>
    public (int Points, int Dims) SizeAt(long completedSteps) =>
        (config?.Points?.ValueAt(completedSteps) ?? fullPoints, config?.Dims?.ValueAt(completedSteps) ?? fullDims);

    /// <summary>Size at the start of training.</summary>
    public (int Points, int Dims) First => SizeAt(0);

    /// <summary>Full size: where every axis ends (the held-out evaluation uses it).</summary>
    public (int Points, int Dims) Full => (fullPoints, fullDims);
}
