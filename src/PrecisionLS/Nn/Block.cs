using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Config;

namespace PrecisionLS.Nn;

/// <summary>
/// One backbone block (REFERENCE §2, the authors' gpt2.py Block):
/// <code>
/// h ← h + Mixer(LN1(h))            (without use_resid: h ← Mixer(LN1(h)))
/// h ← h + MLP(LN2(h))              (only with use_mlps; without use_resid: h ← MLP(LN2(h)))
/// </code>
/// LN1 exists with use_seqop_ln, LN2 with use_mlps and use_mlp_ln; otherwise they are the identity.
/// Parameters register in the authors' order: ln_1, seq_mixer, ln_2, mlp.
/// </summary>
public sealed class Block<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _d;
    private T[] _u = [];      // LN1(h), the mixer's input (when LN1 exists)
    private T[] _mid = [];    // h after the mixer stage (when an MLP follows)
    private T[] _v = [];      // LN2(mid), the MLP's input (when LN2 exists)
    private T[] _tU = [], _tMid = [], _tV = [];   // tangents of u, mid and v (ForwardTangent)

    public Block(ModelConfig config, ParameterStore<T> store, string prefix, int layer)
    {
        _d = config.NEmbd; Resid = config.UseResid;
        if (config.UseSeqopLn) Ln1 = new LayerNorm<T>(store, prefix + ".ln_1", _d);
        Mixer = MixerFactory.Create(config, store, prefix, layer);
        if (config.UseMlps)
        {
            if (config.UseMlpLn) Ln2 = new LayerNorm<T>(store, prefix + ".ln_2", _d);
            if (config.MlpType == "m2_glu") M2Glu = new M2Glu<T>(store, prefix + ".mlp", _d, config.MlpUpfactor, config.MlpNblocks);
            else Mlp = new Mlp<T>(store, prefix + ".mlp", _d, config.MlpUpfactor, config.MlpActiv, type: config.MlpType, nblocks: config.MlpNblocks);
        }
    }

    public LayerNorm<T>? Ln1 { get; }
    public ISequenceMixer<T> Mixer { get; }
    public LayerNorm<T>? Ln2 { get; }
    public Mlp<T>? Mlp { get; }
    /// <summary>The M2 dimension mixer (mlp_type m2_glu) in place of <see cref="Mlp"/>: it holds its own residual and post-LayerNorm.</summary>
    public M2Glu<T>? M2Glu { get; }
    public bool Resid { get; }

    /// <summary>hOut = Block(hIn); hIn is kept for Backward.</summary>
    public void Forward(ReadOnlySpan<T> hIn, Span<T> hOut, int batch, int length)
    {
        int rows = batch * length, n = rows * _d;
        hIn = hIn[..n];
        Span<T> m = Mlp is null && M2Glu is null ? hOut[..n] : Buffers.Ensure(ref _mid, n).AsSpan(0, n);
        if (Ln1 is null)
        {
            if (Resid) Mixer.ForwardResidual(hIn, m, batch, length);   // fused: the mixer adds hIn in its last pass
            else Mixer.Forward(hIn, m, batch, length);
        }
        else
        {
            var u = Buffers.Ensure(ref _u, n).AsSpan(0, n);
            Ln1.Forward(hIn, u, rows);
            Mixer.Forward(u, m, batch, length);
            if (Resid) TensorPrimitives.Add(m, hIn, m);
        }
        if (M2Glu is not null)
        {
            ReadOnlySpan<T> v2 = m;
            if (Ln2 is not null) { var vv = Buffers.Ensure(ref _v, n).AsSpan(0, n); Ln2.Forward(m, vv, rows); v2 = vv; }
            M2Glu.Forward(v2, hOut[..n], rows);   // its residual is inside (post-LayerNorm)
            return;
        }
        if (Mlp is null) return;

        ReadOnlySpan<T> v = m;
        if (Ln2 is not null)
        {
            var vv = Buffers.Ensure(ref _v, n).AsSpan(0, n);
            Ln2.Forward(m, vv, rows);
            v = vv;
        }
        Mlp.Forward(v, hOut[..n], rows);
        if (Resid) TensorPrimitives.Add(hOut[..n], m, hOut[..n]);
    }

    /// <summary>dhIn = d Block / d hIn applied to dhOut (overwrites dhIn); accumulates parameter gradients.</summary>
    public void Backward(ReadOnlySpan<T> hIn, ReadOnlySpan<T> dhOut, Span<T> dhIn, int batch, int length)
    {
        int rows = batch * length, n = rows * _d;
        hIn = hIn[..n]; dhOut = dhOut[..n];
        ReadOnlySpan<T> dm = dhOut;                         // gradient at the mixer stage's output
        if (M2Glu is not null)
        {
            var dmBuf = Workspace<T>.Get(13, n).AsSpan(0, n);
            if (Ln2 is null) M2Glu.Backward(_mid.AsSpan(0, n), dhOut, dmBuf, rows, accumulateDx: false);
            else
            {
                var dv = Workspace<T>.Get(14, n).AsSpan(0, n);
                M2Glu.Backward(_v.AsSpan(0, n), dhOut, dv, rows, accumulateDx: false);
                Ln2.Backward(_mid.AsSpan(0, n), dv, dmBuf, rows, accumulateDx: false);
            }
            dm = dmBuf;
        }
        if (Mlp is not null)
        {
            var dmBuf = Workspace<T>.Get(13, n).AsSpan(0, n);
            if (Resid) dhOut.CopyTo(dmBuf);
            if (Ln2 is null) Mlp.Backward(_mid.AsSpan(0, n), dhOut, dmBuf, rows, accumulateDx: Resid);
            else
            {
                var dv = Workspace<T>.Get(14, n).AsSpan(0, n);
                Mlp.Backward(_v.AsSpan(0, n), dhOut, dv, rows, accumulateDx: false);
                Ln2.Backward(_mid.AsSpan(0, n), dv, dmBuf, rows, accumulateDx: Resid);
            }
            dm = dmBuf;
        }
        if (Ln1 is null)
        {
            if (Resid) { Mixer.BackwardResidual(hIn, dm, dhIn, batch, length); return; }
            dhIn[..n].Clear();
            Mixer.Backward(hIn, dm, dhIn, batch, length);
            return;
        }
        var du = Workspace<T>.Get(15, n).AsSpan(0, n);
        du.Clear();                                         // mixers add into their input gradient
        Mixer.Backward(_u.AsSpan(0, n), dm, du, batch, length);
        if (Resid) dm.CopyTo(dhIn);
        Ln1.Backward(hIn, du, dhIn[..n], rows, accumulateDx: Resid);
    }

    /// <summary>
    /// Forward-mode tangent at Forward's point: dhOut = J_h dhIn + J_θ v, each stage's tangent in Forward's order
    /// (LN1, mixer, + dhIn, LN2, MLP, + dmid). v is a parameter direction in the store's layout (frozen entries
    /// ignored); dhIn may be empty (zero). Overwrites dhOut; leaves Backward's caches untouched.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> hIn, ReadOnlySpan<T> dhIn, ReadOnlySpan<T> v, Span<T> dhOut, int batch, int length)
    {
        int rows = batch * length, n = rows * _d;
        if (M2Glu is not null) throw new NotSupportedException("mlp_type m2_glu has no forward-mode tangent yet");
        hIn = hIn[..n];
        if (!dhIn.IsEmpty) dhIn = dhIn[..n];
        Span<T> dm = Mlp is null ? dhOut[..n] : Buffers.Ensure(ref _tMid, n).AsSpan(0, n);
        // h ← h + Mixer(LN1(h))
        ReadOnlySpan<T> u = hIn, du = dhIn;
        if (Ln1 is not null)
        {
            var duBuf = Buffers.Ensure(ref _tU, n).AsSpan(0, n);
            Ln1.ForwardTangent(hIn, dhIn, v, duBuf, rows);
            u = _u.AsSpan(0, n); du = duBuf;
        }
        Mixer.ForwardTangent(u, du, v, dm, batch, length);
        if (Resid && !dhIn.IsEmpty) TensorPrimitives.Add(dm, dhIn, dm);
        if (Mlp is null) return;
        // h ← h + MLP(LN2(h))
        ReadOnlySpan<T> mid = _mid.AsSpan(0, n), x = mid, dx = dm;
        if (Ln2 is not null)
        {
            var dvBuf = Buffers.Ensure(ref _tV, n).AsSpan(0, n);
            Ln2.ForwardTangent(mid, dm, v, dvBuf, rows);
            x = _v.AsSpan(0, n); dx = dvBuf;
        }
        Mlp.ForwardTangent(x, dx, v, dhOut[..n], rows);
        if (Resid) TensorPrimitives.Add(dhOut[..n], dm, dhOut[..n]);
    }

    public long ForwardMultiplyAdds(int batch, int length)
    {
        long rows = (long)batch * length;
        long ma = Mixer.ForwardMultiplyAdds(batch, length);
        if (Ln1 is not null) ma += Ln1.ForwardMultiplyAdds(rows);
        if (Ln2 is not null) ma += Ln2.ForwardMultiplyAdds(rows);
        if (Mlp is not null) ma += Mlp.ForwardMultiplyAdds(rows);
        if (M2Glu is not null) ma += M2Glu.ForwardMultiplyAdds(rows);
        return ma;
    }
}
