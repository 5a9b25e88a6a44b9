using System.Numerics;
using System.Numerics.Tensors;

namespace PrecisionLS.Nn;

/// <summary>
/// One backbone block (REFERENCE §2): h ← h + Mixer(LN1(h)), then with MLPs h ← h + MLP(LN2(h)).
/// Without the block residual: h ← Mixer(LN1(h)). This slice builds the mixer path; LayerNorm and MLP
/// arrive with the attention models.
/// </summary>
public sealed class Block<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _d;

    public Block(ISequenceMixer<T> mixer, int d, bool resid)
    {
        Mixer = mixer; _d = d; Resid = resid;
    }

    public ISequenceMixer<T> Mixer { get; }
    public bool Resid { get; }

    /// <summary>hOut = hIn + Mixer(hIn) (or Mixer(hIn) without residual). hIn is kept for Backward.</summary>
    public void Forward(ReadOnlySpan<T> hIn, Span<T> hOut, int batch, int length)
    {
        int n = batch * length * _d;
        if (Resid) Mixer.ForwardResidual(hIn[..n], hOut, batch, length);
        else Mixer.Forward(hIn, hOut, batch, length);
    }

    /// <summary>dhIn = dhOut (residual) + Mixer'ᵀ dhOut; overwrites dhIn.</summary>
    public void Backward(ReadOnlySpan<T> hIn, ReadOnlySpan<T> dhOut, Span<T> dhIn, int batch, int length)
    {
        int n = batch * length * _d;
        if (Resid) { Mixer.BackwardResidual(hIn[..n], dhOut, dhIn, batch, length); return; }
        dhIn[..n].Clear();
        Mixer.Backward(hIn, dhOut, dhIn, batch, length);
    }

    public long ForwardMultiplyAdds(int batch, int length) => Mixer.ForwardMultiplyAdds(batch, length);
}
