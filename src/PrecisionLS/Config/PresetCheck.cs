using PrecisionLS.Nn;
using PrecisionLS.Tasks;

namespace PrecisionLS.Config;

/// <summary>What a preset trains, in words, and whether everything it needs is built.</summary>
public static class PresetCheck
{
    /// <summary>A short model summary, e.g. "base_conv/short 3x64" or "attn (softmax) 12x256, 8 heads, MLP x4 relu, LN".</summary>
    public static string DescribeModel(ModelConfig m)
    {
        string mixer = m.SeqOp == "attn"
            ? $"attn ({(m.UseSoftmaxForAttn ? "softmax" : "linear")}{(m.Causal ? "" : ", non-causal")}) {m.NLayer}x{m.NEmbd}, {m.NHead} heads"
            : $"{m.SeqOp}/{m.ConvType}{(m.Causal ? "" : " non-causal")} {m.NLayer}x{m.NEmbd}";
        if (m.UseMlps) mixer += $", MLP x{m.MlpUpfactor} {m.MlpActiv}";
        if (m.UseSeqopLn || m.UseFinalLn || (m.UseMlps && m.UseMlpLn)) mixer += ", LN";
        return mixer;
    }

    /// <summary>Short names of what the config needs that is not built yet ("attn", "MLP", ...); empty when it trains now.</summary>
    public static IReadOnlyList<string> Missing(RunConfig config)
    {
        var missing = new List<string>();
        if (!TaskCatalog.IsBuilt(config.Training.Task)) missing.Add("task " + config.Training.Task);
        return missing;
    }

    /// <summary>Null when the config's model and task can be trained now; otherwise the reason, in one line.</summary>
    public static string? WhyNotTrainable(RunConfig config)
    {
        try
        {
            ModelValidation.Validate(config.Model);
            TaskCatalog.Create<double>(config);
            return null;
        }
        catch (ConfigException e) { return e.Message; }
    }
}
