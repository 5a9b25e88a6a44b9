using PrecisionLS.Config;

namespace PrecisionLS.Nn;

/// <summary>Rejects model configs that cannot be built, naming the key and what is accepted.</summary>
public static class ModelValidation
{
    private static readonly string[] SeqOps = ["base_conv", "attn", "m2"];
    private static readonly string[] ConvTypes = ["short", "long", "implicit"];

    public static void Validate(ModelConfig c)
    {
        Positive(c.NDims, "model.n_dims"); Positive(c.NPositions, "model.n_positions"); Positive(c.NEmbd, "model.n_embd");
        Positive(c.NLayer, "model.n_layer"); Positive(c.NHead, "model.n_head"); Positive(c.MlpUpfactor, "model.mlp_upfactor");
        if (c.Family != "gpt2") throw new ConfigException($"model.family '{c.Family}' is unknown; accepted: gpt2");
        if (!SeqOps.Contains(c.SeqOp)) throw new ConfigException($"model.seq_op '{c.SeqOp}' is unknown; accepted: {string.Join(", ", SeqOps)}");
        if (!ConvTypes.Contains(c.ConvType)) throw new ConfigException($"model.conv_type '{c.ConvType}' is unknown; accepted: {string.Join(", ", ConvTypes)}");
        if (!Mlp<double>.ActivationNames.Contains(c.MlpActiv))
            throw new ConfigException($"model.mlp_activ '{c.MlpActiv}' is unknown; accepted: {string.Join(", ", Mlp<double>.ActivationNames)}");
        if (!M2SequenceMixer<double>.FilterNames.Contains(c.M2Filter))
            throw new ConfigException($"model.m2_filter '{c.M2Filter}' is unknown; accepted: {string.Join(", ", M2SequenceMixer<double>.FilterNames)}");
        if (!M2SequenceMixer<double>.ConvNames.Contains(c.M2Conv))
            throw new ConfigException($"model.m2_conv '{c.M2Conv}' is unknown; accepted: {string.Join(", ", M2SequenceMixer<double>.ConvNames)}");
        if (c.SeqOp == "m2" && c.M2Conv == "causal_monarch" && !c.Causal)
            throw new ConfigException("model.m2_conv 'causal_monarch' is a causal map and needs model.causal: true; for a bidirectional M2 use m2_conv monarch_fft or fft");
        if (!Mlp<double>.TypeNames.Contains(c.MlpType) && c.MlpType != "m2_glu")
            throw new ConfigException($"model.mlp_type '{c.MlpType}' is unknown; accepted: {string.Join(", ", Mlp<double>.TypeNames)}, m2_glu");
        Positive(c.MlpNblocks, "model.mlp_nblocks");
        if (c.SeqOp == "attn" && c.NEmbd % c.NHead != 0)
            throw new ConfigException($"model.n_embd {c.NEmbd} is not divisible by model.n_head {c.NHead}");
        if (c.InDims < 0) throw new ConfigException($"model.in_dims {c.InDims} must be positive (or 0 for n_dims + 1)");
        if (c.OutDims < 0) throw new ConfigException($"model.out_dims {c.OutDims} must be positive (or 0 for n_dims)");
    }

    private static void Positive(int v, string key)
    {
        if (v < 1) throw new ConfigException($"{key} = {v} must be a positive integer");
    }
}
