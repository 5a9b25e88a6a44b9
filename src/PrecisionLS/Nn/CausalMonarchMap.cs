using System.Numerics;
using System.Numerics.Tensors;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// A learnable causal sequence map in Monarch form (the causal M2 sequence map, `m2_conv: causal_monarch`): positions
/// t = s·bs + j (block s of nb, lane j of bs; nb·bs ≥ l_max, bs = ⌈√l_max⌉), applied to every channel alike:
/// <code>
/// y = Pᵀ blockdiag(W2) P blockdiag(W1) u  +  blockdiag(tril W0) u
///   Z[k, j, :]  = Σ_i   W1[k, j, i] · u[k, i, :]        block-diagonal factor: mixes lanes within block k
///   y[s, j, :] += Σ_{k&lt;s} W2[j, s, k] · Z[k, j, :]    second factor after the transpose permutation P (blocks ↔ lanes):
///                                                     strictly lower triangular in (s, k)
///   y[s, j, :] += Σ_{i≤j} W0[s, j, i] · u[s, i, :]      within-block part: lower triangular blocks
/// </code>
/// The first term is exactly a Monarch matrix (REFERENCE §3, square-ish layout M[(s,j),(k,i)] = W2[j,s,k]·W1[k,j,i])
/// whose second factor is strictly block-lower-triangular; the second is a block-diagonal factor whose blocks are
/// lower-triangular. Together they reach every causal pair (k, i) → (s, j): an earlier block through the Monarch term
/// (any lanes), the same block through W0 (i ≤ j).
/// </summary>
/// <remarks>
/// <b>Causal by construction.</b> Output position t = (s, j) is computed from Z[k] for k &lt; s (each Z[k] from block k
/// only, whose positions are all below s·bs ≤ t) and from u[s, i] for i ≤ j. The kernels loop only over those index
/// ranges, so a later input never enters the arithmetic of an earlier output: not even as a product with a zero
/// weight (which could turn ±0 or propagate NaN). Changing inputs after t leaves output t unchanged to the last bit
/// (tested). The entries of W2 with k ≥ s and of W0 with i &gt; j are stored (simple layout) but never read; their
/// gradient is zero, so they stay at their initial zero.
/// Compared with an FFT convolution made causal by zero padding, this map is causal bit for bit (an FFT spreads every
/// input over every frequency, so future inputs cancel from past outputs only up to rounding), and it is not
/// shift-invariant: W1, W2, W0 are general (nb·bs² + bs·nb² + nb·bs² ≈ 3·l_max^1.5 parameters per layer). Cost per
/// entry and channel: bs (W1) + nb/2 (W2) + bs/2 (W0) multiply-adds per position, O(L^1.5).
/// Parameters "{name}.w1" [nb, bs, bs], "{name}.w2" [bs, nb, nb], "{name}.w0" [nb, bs, bs].
/// </remarks>
public sealed class CausalMonarchMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ParameterStore<T> _store;
    private T[] _u = [], _z = [], _dz = [], _du = [], _y = [];
    private int _batch, _length;

    public CausalMonarchMap(ParameterStore<T> store, string name, int channels, int lMax)
    {
        if (lMax < 1) throw new ArgumentOutOfRangeException(nameof(lMax), lMax, "l_max must be at least 1");
        _store = store; Channels = channels; LMax = lMax;
        BlockSize = (int)Math.Ceiling(Math.Sqrt(lMax));
        Blocks = (lMax + BlockSize - 1) / BlockSize;
        W1 = store.Add(name + ".w1", [Blocks, BlockSize, BlockSize]);
        W2 = store.Add(name + ".w2", [BlockSize, Blocks, Blocks]);
        W0 = store.Add(name + ".w0", [Blocks, BlockSize, BlockSize]);
    }

    public int Channels { get; }
    public int LMax { get; }
    /// <summary>bs: positions per block (lanes).</summary>
    public int BlockSize { get; }
    /// <summary>nb: blocks.</summary>
    public int Blocks { get; }
    public Parameter W1 { get; }
    public Parameter W2 { get; }
    public Parameter W0 { get; }

    /// <summary>
    /// The initialisation: W1 uniform(±1/√bs); W2 uniform(±1/√nb) strictly below the diagonal, 0 elsewhere; W0 the
    /// identity (so the map starts as y = u + a small causal mixing, like the long conv's delta init).
    /// </summary>
    public static void Initialize(Span<T> w1, Span<T> w2, Span<T> w0, int blocks, int bs, Rng rng)
    {
        for (int i = 0; i < w1.Length; i++) w1[i] = T.CreateChecked(rng.NextUniform(-1.0 / Math.Sqrt(bs), 1.0 / Math.Sqrt(bs)));
        for (int j = 0; j < bs; j++)
            for (int s = 0; s < blocks; s++)
                for (int k = 0; k < blocks; k++)
                    w2[(j * blocks + s) * blocks + k] = k < s ? T.CreateChecked(rng.NextUniform(-1.0 / Math.Sqrt(blocks), 1.0 / Math.Sqrt(blocks))) : T.Zero;
        w0.Clear();
        for (int s = 0; s < blocks; s++)
            for (int j = 0; j < bs; j++) w0[(s * bs + j) * bs + j] = T.One;
    }

    /// <summary>y = M u for u, y [batch, L, d] (L ≤ l_max); overwrites y (or adds when accumulate). Keeps u and Z for Backward.</summary>
    public void Forward(ReadOnlySpan<T> u, Span<T> y, int batch, int length, bool accumulate = false)
    {
        if (length < 1 || length > LMax) throw new ArgumentOutOfRangeException(nameof(length), length, $"length must be in [1, l_max = {LMax}]");
        int d = Channels, bs = BlockSize, nb = (length + bs - 1) / bs, lp = nb * bs;
        _batch = batch; _length = length;
        var up = Grow(ref _u, (long)batch * lp * d).AsSpan(0, batch * lp * d);
        var z = Grow(ref _z, (long)batch * lp * d).AsSpan(0, batch * lp * d);
        var yb = Grow(ref _y, (long)lp * d).AsSpan(0, lp * d);
        var w1 = _store.Value(W1); var w2 = _store.Value(W2); var w0 = _store.Value(W0);
        int NB = Blocks;
        for (int b = 0; b < batch; b++)
        {
            var ub = up.Slice(b * lp * d, lp * d); var zb = z.Slice(b * lp * d, lp * d);
            u.Slice(b * length * d, length * d).CopyTo(ub);
            ub[(length * d)..].Clear();                 // padding past L only feeds outputs past L (discarded)
            // Z_k = W1[k] U_k: block k alone
            for (int k = 0; k < nb; k++)
                Gemm.NN<T>(w1.Slice(k * bs * bs, bs * bs), ub.Slice(k * bs * d, bs * d), zb.Slice(k * bs * d, bs * d), bs, d, bs, accumulate: false);
            yb.Clear();
            for (int s = 0; s < nb; s++)
                for (int j = 0; j < bs; j++)
                {
                    var row = yb.Slice((s * bs + j) * d, d);
                    for (int i = 0; i <= j; i++)                             // same block, lanes i ≤ j
                        TensorPrimitives.MultiplyAdd(ub.Slice((s * bs + i) * d, d), w0[(s * bs + j) * bs + i], row, row);
                    for (int k = 0; k < s; k++)                              // earlier blocks only
                        TensorPrimitives.MultiplyAdd(zb.Slice((k * bs + j) * d, d), w2[(j * NB + s) * NB + k], row, row);
                }
            var dst = y.Slice(b * length * d, length * d);
            if (accumulate) TensorPrimitives.Add(dst, yb[..(length * d)], dst);
            else yb[..(length * d)].CopyTo(dst);
        }
    }

    /// <summary>Backward of <see cref="Forward"/>: du (+)= Mᵀ dy; adds dW1, dW2 (k &lt; s only), dW0 (i ≤ j only).</summary>
    public void Backward(ReadOnlySpan<T> dy, Span<T> du, bool accumulateDu)
    {
        int batch = _batch, length = _length, d = Channels, bs = BlockSize, nb = (length + bs - 1) / bs, lp = nb * bs, NB = Blocks;
        var up = _u.AsSpan(0, batch * lp * d); var z = _z.AsSpan(0, batch * lp * d);
        var dz = Grow(ref _dz, (long)lp * d).AsSpan(0, lp * d);
        var dub = Grow(ref _du, (long)lp * d).AsSpan(0, lp * d);
        var dyp = Grow(ref _y, (long)lp * d).AsSpan(0, lp * d);
        var w1 = _store.Value(W1); var w2 = _store.Value(W2); var w0 = _store.Value(W0);
        var g1 = _store.Grad(W1); var g2 = _store.Grad(W2); var g0 = _store.Grad(W0);
        for (int b = 0; b < batch; b++)
        {
            var ub = up.Slice(b * lp * d, lp * d); var zb = z.Slice(b * lp * d, lp * d);
            dy.Slice(b * length * d, length * d).CopyTo(dyp);
            dyp[(length * d)..].Clear();
            dz.Clear(); dub.Clear();
            for (int s = 0; s < nb; s++)
                for (int j = 0; j < bs; j++)
                {
                    var gy = dyp.Slice((s * bs + j) * d, d);
                    for (int i = 0; i <= j; i++)
                    {
                        var ui = ub.Slice((s * bs + i) * d, d);
                        int w = (s * bs + j) * bs + i;
                        if (W0.Trainable) g0[w] += Gemm.Dot<T>(gy, ui);                              // dW0 = Σ_c dy·u
                        var dui = dub.Slice((s * bs + i) * d, d);
                        TensorPrimitives.MultiplyAdd(gy, w0[w], dui, dui);                        // du += W0ᵀ dy
                    }
                    for (int k = 0; k < s; k++)
                    {
                        var zk = zb.Slice((k * bs + j) * d, d);
                        int w = (j * NB + s) * NB + k;
                        if (W2.Trainable) g2[w] += Gemm.Dot<T>(gy, zk);                              // dW2 = Σ_c dy·Z
                        var dzk = dz.Slice((k * bs + j) * d, d);
                        TensorPrimitives.MultiplyAdd(gy, w2[w], dzk, dzk);                        // dZ += W2ᵀ dy
                    }
                }
            for (int k = 0; k < nb; k++)
            {
                var dzk = dz.Slice(k * bs * d, bs * d); var uk = ub.Slice(k * bs * d, bs * d);
                if (W1.Trainable) Gemm.NT<T>(dzk, uk, g1.Slice(k * bs * bs, bs * bs), bs, bs, d, accumulate: true);   // dW1 += dZ Uᵀ
                Gemm.TN<T>(w1.Slice(k * bs * bs, bs * bs), dzk, dub.Slice(k * bs * d, bs * d), bs, d, bs, accumulate: true);   // du += W1ᵀ dZ
            }
            var dst = du.Slice(b * length * d, length * d);
            if (accumulateDu) TensorPrimitives.Add(dst, dub[..(length * d)], dst);
            else dub[..(length * d)].CopyTo(dst);
        }
    }

    /// <summary>Multiply-adds of one forward.</summary>
    public long ForwardMultiplyAdds(int batch, int length)
    {
        int bs = BlockSize, nb = (length + bs - 1) / bs;
        long perChannel = (long)nb * bs * bs + (long)bs * nb * (nb - 1) / 2 + (long)nb * bs * (bs + 1) / 2;
        return perChannel * batch * Channels;
    }

    private static T[] Grow(ref T[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer;
    }
}
