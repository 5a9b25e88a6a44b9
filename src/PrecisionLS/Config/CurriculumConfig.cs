namespace PrecisionLS.Config;

/// <summary>
/// training.curriculum in the authors' layout (REFERENCE §1): the number of points and of live dimensions start
/// small and grow by <see cref="CurriculumAxis.Inc"/> every <see cref="CurriculumAxis.Interval"/> steps, capped at
/// <see cref="CurriculumAxis.End"/>. An axis left out stays at its full size (n_points, model.n_dims).
/// </summary>
public sealed record CurriculumConfig
{
    /// <summary>Points per prompt (equations, examples, tokens).</summary>
    public CurriculumAxis? Points { get; init; }
    /// <summary>Live problem dimensions; the rest are zeroed (the authors' n_dims_truncated).</summary>
    public CurriculumAxis? Dims { get; init; }
}

/// <summary>One growing quantity: value(step) = min(end, start + inc · floor(step / interval)).</summary>
public sealed record CurriculumAxis
{
    public int Start { get; init; }
    public int End { get; init; }
    public int Inc { get; init; } = 1;
    public long Interval { get; init; } = 1000;

    /// <summary>The value after <paramref name="step"/> completed steps.</summary>
    public int ValueAt(long step)
    {
        long grown = Start + (long)Inc * (step / Interval);
        return (int)Math.Min(End, grown);
    }

    /// <summary>Throws <see cref="ConfigException"/> naming the key when the axis cannot work.</summary>
    public void Validate(string key)
    {
        if (Start < 1) throw new ConfigException($"{key}.start = {Start}: must be at least 1");
        if (End < Start) throw new ConfigException($"{key}.end = {End}: must be at least start = {Start}");
        if (Inc < 0) throw new ConfigException($"{key}.inc = {Inc}: must be >= 0");
        if (Interval < 1) throw new ConfigException($"{key}.interval = {Interval}: must be at least 1 step");
    }
}
