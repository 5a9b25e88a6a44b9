namespace PrecisionLS.Config;

/// <summary>A whole resolved config: model, training and the preset it came from.</summary>
public sealed record RunConfig(ModelConfig Model, TrainingConfig Training, string? Preset);
