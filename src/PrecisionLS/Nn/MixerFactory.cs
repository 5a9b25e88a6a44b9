using System.Numerics;
using PrecisionLS.Config;

namespace PrecisionLS.Nn;

/// <summary>Builds the sequence mixer a config asks for (seq_op, conv_type): the one place that branches on it.</summary>
public static class MixerFactory
{
    public static ISequenceMixer<T> Create<T>(ModelConfig c, ParameterStore<T> store, string blockPrefix, int layer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        return (c.SeqOp, c.ConvType) switch
        {
            ("attn", _) => new Attention<T>(store, blockPrefix + ".seq_mixer", c.NEmbd, c.NHead, c.Causal, c.UseSoftmaxForAttn),
            ("base_conv", _) => new BaseConv<T>(store, blockPrefix + ".seq_mixer.base_conv", c.NEmbd, c.NPositions, c.Causal, c.UseResid, c.ConvType),
            ("m2", _) => new M2SequenceMixer<T>(store, blockPrefix + ".seq_mixer", c.NEmbd, c.NPositions, c.Causal, c.M2Filter, c.M2Conv, c.M2ResidualLongConv),
            _ => throw new ConfigException($"model.seq_op '{c.SeqOp}' is unknown; accepted: attn, base_conv, m2"),
        };
    }
}
