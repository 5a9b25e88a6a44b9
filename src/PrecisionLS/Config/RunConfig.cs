namespace PrecisionLS.Config;

/// <summary>A whole resolved config: model, training and the preset it came from.</summary>
public sealed record RunConfig(ModelConfig Model, TrainingConfig Training, string? Preset)
{
    /// <summary>The authors' top-level out_dir: where runs go when the command line gives no --out.</summary>
    public string? OutDir { get; init; }
    /// <summary>What loading noticed and accepted without effect (e.g. the authors' wandb: section), one line each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
