namespace PrecisionLS.Config;

/// <summary>What a preset trains, in words (the `presets` listing).</summary>
public static class PresetCheck
{
    /// <summary>A short model summary, e.g. "base_conv/short 3x64" or "attn (softmax) 12x256, 8 heads, MLP x4 relu, LN".</summary>
    public static string DescribeModel(ModelConfig m)
    {
        string mixer = m.SeqOp == "attn"
            ? $"attn ({(m.UseSoftmaxForAttn ? "softmax" : "linear")}{(m.Causal ? "" : ", non-causal")}) {m.NLayer}x{m.NEmbd}, {m.NHead} heads"
            : $"{m.SeqOp}/{m.ConvType}{(m.Causal ? "" : " non-causal")} {m.NLayer}x{m.NEmbd}";
        if (m.UseMlps) mixer += $", MLP x{m.MlpUpfactor} {m.MlpActiv}{(m.MlpType == "dense" ? "" : $" {m.MlpType} ({m.MlpNblocks} blocks)")}";
        if (m.UseSeqopLn || m.UseFinalLn || (m.UseMlps && m.UseMlpLn)) mixer += ", LN";
        return mixer;
    }
}
