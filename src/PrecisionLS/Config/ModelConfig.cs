namespace PrecisionLS.Config;

/// <summary>
/// The model: section of a config, under the authors' key names (REFERENCE §2). Defaults are the
/// explicit-gradient BaseConv recipe's values where that recipe sets them.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Model family; only "gpt2" (the authors' TransformerModel backbone) exists.</summary>
    public string Family { get; init; } = "gpt2";
    public int NDims { get; init; } = 5;
    /// <summary>Token width fed to the read-in; defaults to n_dims + 1 when 0.</summary>
    public int InDims { get; init; }
    /// <summary>Output channels of the read-out; defaults to n_dims when 0.</summary>
    public int OutDims { get; init; }
    public int NPositions { get; init; } = 21;
    public int NEmbd { get; init; } = 64;
    public int NLayer { get; init; } = 3;
    public int NHead { get; init; } = 1;
    /// <summary>"base_conv", "attn" or "m2" (the Monarch Mixer sequence mixer).</summary>
    public string SeqOp { get; init; } = "base_conv";
    /// <summary>"short" (built), "long" or "implicit" (issue 4).</summary>
    public string ConvType { get; init; } = "short";
    public bool Causal { get; init; } = true;
    public bool UseMlps { get; init; }
    public string MlpActiv { get; init; } = "relu";
    public int MlpUpfactor { get; init; } = 4;
    /// <summary>Structure of the MLP's c_fc and c_proj: "dense" (nn.Linear), "monarch" (MonarchLinear) or "blockdiag" (BlockdiagLinear);
    /// "m2_glu" is the M2 dimension mixer instead (block-diagonal GLU with gelu, post-LayerNorm with its own residual).</summary>
    public string MlpType { get; init; } = "dense";
    /// <summary>Blocks per factor of a monarch or blockdiag MLP (the fly code's nblocks, 4 by default).</summary>
    public int MlpNblocks { get; init; } = 4;
    /// <summary>seq_op m2: the long filter, "explicit" ([d, l_max] taps) or "hyena" (implicit: sine MLP of positional features, decay).</summary>
    public string M2Filter { get; init; } = "explicit";
    /// <summary>seq_op m2: how the long convolution runs: "monarch_fft" (the Monarch factorisation of the FFT), "fft" (MathNet's
    /// FFT, for comparison) or "causal_monarch" (a learnable causal Monarch map instead of the convolution; causal only).</summary>
    public string M2Conv { get; init; } = "monarch_fft";
    /// <summary>seq_op m2: add a second long convolution of the mixer's raw input after the gate (m2's residual_long_conv).</summary>
    public bool M2ResidualLongConv { get; init; }
    public bool UseResid { get; init; } = true;
    public bool UseSeqopLn { get; init; }
    public bool UseMlpLn { get; init; }
    public bool UseFinalLn { get; init; }
    public bool UseSoftmaxForAttn { get; init; } = true;
    public bool TrainProj { get; init; } = true;
    public bool TrainPos { get; init; } = true;

    public int ResolvedInDims => InDims > 0 ? InDims : NDims + 1;
    public int ResolvedOutDims => OutDims > 0 ? OutDims : NDims;
}
