namespace PrecisionLS.Config;

/// <summary>What a preset trains, in words (the `presets` listing).</summary>
public static class PresetCheck
{
    /// <summary>A short model summary, e.g. "base_conv/short 3x64" or "attn (softmax) 12x256, 8 heads, MLP x4 relu, LN".</summary>
    public static string DescribeModel(ModelConfig m)
    {
        string mixer = m.SeqOp switch
        {
            "attn" => $"attn ({(m.UseSoftmaxForAttn ? "softmax" : "linear")}{(m.Causal ? "" : ", non-causal")}) {m.NLayer}x{m.NEmbd}, {m.NHead} heads",
            "m2" => $"m2 ({m.M2Filter} filter, {m.M2Conv}{(m.Causal ? "" : ", bidirectional")}{(m.M2ResidualLongConv ? ", residual long conv" : "")}) {m.NLayer}x{m.NEmbd}",
            _ => $"{m.SeqOp}/{m.ConvType}{(m.Causal ? "" : " non-causal")} {m.NLayer}x{m.NEmbd}",
        };
        if (m.UseMlps) mixer += $", MLP x{m.MlpUpfactor} {m.MlpActiv}{(m.MlpType == "dense" ? "" : $" {m.MlpType} ({m.MlpNblocks} blocks)")}";
        if (m.UseMlps && m.MlpType == "m2_glu") mixer = mixer.Replace($"MLP x{m.MlpUpfactor} {m.MlpActiv} m2_glu", $"M2 GLU x{m.MlpUpfactor} gelu");
        if (m.UseSeqopLn || m.UseFinalLn || (m.UseMlps && m.UseMlpLn)) mixer += ", LN";
        return mixer;
    }
}
