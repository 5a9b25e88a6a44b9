using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Numerics;
using PrecisionLS.Nn;

namespace PrecisionLS.Solvers;

/// <summary>
/// Exact weights with which the paper's explicit-gradient architectures compute one gradient of least squares,
/// g = (1/L) Aᵀ(A x - b), from the explicit_gradient prompt (token 0 = [x, 0], tokens 1..L = [a_i, b_i]), read at
/// the last token. The models keep the presets' architectures, so the result is a normal run that eval and iterate
/// treat like a trained one.
/// </summary>
/// <remarks>
/// <para><b>baseconv-gd</b> (preset explicit-gradient: BaseConv, 3 layers, causal short conv of kernel L+1,
/// residuals on). REFERENCE §5 states a 3-layer construction for prompts that carry x in every token; this prompt
/// has x only in token 0, so we use g = (1/L)(Σ_{i≥1} a_i a_iᵀ) x - (1/L) Σ_{i≥1} a_i b_i and the fact that the
/// causal kernel spans the whole prompt: at the last position L, lag L is token 0. Residual stream channels:
/// A (D: a_i, or x in token 0), B (1), P (D², products a_j a_k), Q (D, a_j b), X (D), G (D). With each layer adding
/// out_proj[conv(in_proj h) · projection(h)] (branch weights (1, 0); the conv's built-in +z cancelled by a -1 tap
/// where it is unwanted):
/// layer 1: P_jk = A_j A_k and Q_j = A_j B at every token (identity conv, gate A_k or B);
/// layer 2: at position L, P and Q become their sums over tokens 1..L (taps 1 at lags 0..L-1, 0 at lag L, so token
/// 0's x xᵀ is left out) and X = the value of A at lag L, i.e. x;
/// layer 3: G_j = (1/L)(Σ_k P_jk X_k - Q_j) (identity conv, gate X_k or 1), read out as g.
/// Needs n_embd ≥ D² + 4D + 1 (46 for D = 5; the preset has 64) and n_positions = L + 1.</para>
/// <para><b>linear-attention-gd</b> (preset explicit-gradient-linattn: linear attention, 3 layers, 16 heads).
/// Derived here. The position embedding marks token 0 in a channel E. Layer 1, head 1: query E_t·s, key E_s,
/// value A_s (s = √head_size undoes the score scaling), written with weight -1 into A: token 0's A becomes 0.
/// Head 2: query s (a bias), key E_s, value A_s, written into X: X = x at every token. Layer 2, head 1: query
/// s·[X_t, 1], key [A_s, -B_s], so the score is a_s·x - b_s = r_s (0 for token 0, now all zero), value A_s,
/// written with weight 1/L into G: G = (1/L) Σ_s r_s a_s = g at every position (causal or not). Layer 3 is zero.
/// Needs n_embd ≥ 3D + 2 and head size ≥ D + 1.</para>
/// In float64 one pass matches (1/L) Aᵀ(A x - b) to rounding (tests: 1e-14).
/// </remarks>
public static class GradientStepConstruction
{
    /// <summary>Constructions by name.</summary>
    public static readonly IReadOnlyList<string> Names = ["baseconv-gd", "linear-attention-gd"];

    /// <summary>The preset whose architecture a construction fills.</summary>
    public static string PresetOf(string name) => name switch
    {
        "baseconv-gd" => "explicit-gradient",
        "linear-attention-gd" => "explicit-gradient-linattn",
        _ => throw new ConfigException($"unknown construction '{name}'; accepted: {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// The run config of a construction: its preset, with n_dims and n_points as given (n_positions = L + 1 and the
    /// width raised where the construction needs more channels), plus <paramref name="overrides"/>.
    /// </summary>
    public static RunConfig Config(string name, int nDims, int nPoints, IEnumerable<string>? overrides = null)
    {
        if (nDims < 1 || nPoints < 1) throw new ConfigException($"construct: n_dims = {nDims} and n_points = {nPoints} must be positive");
        var cfg = ConfigLoader.FromPreset(PresetOf(name), [
            $"model.n_dims={nDims}", $"model.in_dims={nDims + 1}", $"model.out_dims={nDims}", $"model.n_positions={nPoints + 1}",
            $"training.n_points={nPoints}", .. overrides ?? []]);
        int need = name == "baseconv-gd" ? nDims * nDims + 4 * nDims + 1 : 3 * nDims + 2;
        if (cfg.Model.NEmbd < need)
        {
            int width = name == "baseconv-gd" ? need : ((need + cfg.Model.NHead - 1) / cfg.Model.NHead) * cfg.Model.NHead;
            cfg = cfg with { Model = cfg.Model with { NEmbd = width } };
        }
        return cfg;
    }

    /// <summary>
    /// Adds eps·z, z ~ N(0, 1) from a stream of <paramref name="seed"/>, to the trainable parameters of a constructed
    /// model: all of them, or with <paramref name="supportOnly"/> only the nonzero ones (the construction's own
    /// weights; the unused channels stay exactly zero). A start near an exact solution for training experiments:
    /// how fast an optimiser returns to machine precision, and whether idle channels slow it (issue 9). Returns the
    /// number of entries changed.
    /// </summary>
    public static long Perturb<T>(SequenceModel<T> model, double eps, bool supportOnly, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "the perturbation size must be finite and >= 0");
        var rng = Rng.Derive(seed, "construct-perturb");
        long changed = 0;
        foreach (var p in model.Store.Parameters.Where(p => p.Trainable))
        {
            var v = model.Store.Value(p);
            for (int i = 0; i < v.Length; i++)
            {
                double z = rng.NextGaussian();                 // drawn for every entry: the same z whatever supportOnly
                if (supportOnly && v[i] == T.Zero) continue;
                v[i] += T.CreateChecked(eps * z);
                changed++;
            }
        }
        return changed;
    }

    /// <summary>Sets every parameter of <paramref name="model"/> for construction <paramref name="name"/>.</summary>
    /// <exception cref="ConfigException">The model is not the architecture the construction needs; the message says which key.</exception>
    public static void Apply<T>(string name, SequenceModel<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = model.Config;
        int d = m.NDims, l = m.NPositions - 1, w = m.NEmbd;
        Require(m.InDims == d + 1 && m.OutDims == d, "model.in_dims/out_dims", $"in_dims = n_dims + 1 = {d + 1} and out_dims = n_dims = {d}");
        Require(!m.UseSeqopLn && !m.UseMlpLn && !m.UseFinalLn && !m.UseMlps, "model.use_*_ln/use_mlps", "no LayerNorms and no MLPs (they are not polynomial)");
        Require(m.UseResid, "model.use_resid", "true");
        Require(m.TrainProj && m.TrainPos, "model.train_proj/train_pos", "true (the construction sets read-in, read-out and position embedding)");
        var store = model.Store;
        Array.Clear(store.Values);
        var readIn = store.Value(store.Get("_read_in.weight"));            // [w, d+1]
        for (int c = 0; c <= d; c++) readIn[c * (d + 1) + c] = T.One;
        var readOut = store.Value(store.Get("_read_out.weight"));          // [d, w]
        switch (name)
        {
            case "baseconv-gd":
            {
                Require(m.SeqOp == "base_conv" && m.ConvType == "short" && m.Causal, "model.seq_op/conv_type/causal", "base_conv, short, causal");
                Require(m.NLayer == 3, "model.n_layer", "3");
                Require(w >= d * d + 4 * d + 1, "model.n_embd", $">= D^2 + 4D + 1 = {d * d + 4 * d + 1}");
                int cA = 0, cB = d, cP = d + 1, cQ = cP + d * d, cX = cQ + d, cG = cX + d;
                for (int j = 0; j < d; j++) readOut[j * w + cG + j] = T.One;
                var L = new BaseConvLayer<T>(store, 0, w, l + 1);
                // Layer 1: P_jk = A_j A_k, Q_j = A_j B (identity conv: the built-in +z with all taps zero).
                for (int j = 0; j < d; j++)
                    for (int k = 0; k < d; k++)
                    {
                        int p = j * d + k;
                        L.InProj(p, cA + j, 1); L.Gate(p, cA + k, 1); L.OutProj(cP + p, p, 1);
                    }
                for (int j = 0; j < d; j++) { int p = d * d + j; L.InProj(p, cA + j, 1); L.Gate(p, cB, 1); L.OutProj(cQ + j, p, 1); }

                // Layer 2: sums over tokens 1..L at position L (lags 0..L-1; lag 0 comes from +z), X = A at lag L.
                L = new BaseConvLayer<T>(store, 1, w, l + 1);
                for (int p = 0; p < d * d + d; p++)
                {
                    int channel = p < d * d ? cP + p : cQ + (p - d * d);
                    L.InProj(p, channel, 1); L.GateBias(p, 1); L.OutProj(channel, p, 1);
                    L.Tap(p, 0, -1);                                   // cancel +z: the layer adds the other tokens' sum
                    for (int lag = 1; lag < l; lag++) L.Tap(p, lag, 1);
                }
                for (int k = 0; k < d; k++)
                {
                    int p = d * d + d + k;
                    L.InProj(p, cA + k, 1); L.GateBias(p, 1); L.OutProj(cX + k, p, 1);
                    L.Tap(p, 0, -1); L.Tap(p, l, 1);                   // only token 0 (lag L at position L)
                }

                // Layer 3: G_j = (1/L)(Σ_k P_jk X_k - Q_j).
                L = new BaseConvLayer<T>(store, 2, w, l + 1);
                double invL = 1.0 / l;
                for (int j = 0; j < d; j++)
                    for (int k = 0; k < d; k++)
                    {
                        int p = j * d + k;
                        L.InProj(p, cP + p, 1); L.Gate(p, cX + k, 1); L.OutProj(cG + j, p, invL);
                    }
                for (int j = 0; j < d; j++) { int p = d * d + j; L.InProj(p, cQ + j, 1); L.GateBias(p, 1); L.OutProj(cG + j, p, -invL); }
                break;
            }
            case "linear-attention-gd":
            {
                Require(m.SeqOp == "attn" && !m.UseSoftmaxForAttn, "model.seq_op/use_softmax_for_attn", "attn, false (linear attention)");
                Require(m.NLayer >= 2, "model.n_layer", ">= 2");
                int hs = w / m.NHead;
                Require(m.NHead >= 2 && hs >= d + 1, "model.n_head", $">= 2 heads of size >= D + 1 = {d + 1}");
                Require(w >= 3 * d + 2, "model.n_embd", $">= 3D + 2 = {3 * d + 2}");
                int cA = 0, cB = d, cE = d + 1, cX = d + 2, cG = 2 * d + 2;
                for (int j = 0; j < d; j++) readOut[j * w + cG + j] = T.One;
                store.Value(store.Get("_backbone.transformer.wpe.weight"))[cE] = T.One;   // wpe[0][E] = 1
                double s = Math.Sqrt(hs);
                // Layer 1. Head 0 (dims 0..): q = s E_t, k = E_s, v = A_s, written -1 into A. Head 1 (dims hs..): q = s, k = E_s, v = A_s into X.
                var a = new AttentionLayer<T>(store, 0, w);
                a.Q(0, cE, s); a.K(0, cE, 1);
                a.QBias(hs, s); a.K(hs, cE, 1);
                for (int j = 0; j < d; j++)
                {
                    a.V(j, cA + j, 1); a.Proj(cA + j, j, -1);
                    a.V(hs + j, cA + j, 1); a.Proj(cX + j, hs + j, 1);
                }
                // Layer 2. Head 0: q = s [X_t, 1], k = [A_s, -B_s] (score r_s), v = A_s, written 1/L into G.
                a = new AttentionLayer<T>(store, 1, w);
                for (int j = 0; j < d; j++) { a.Q(j, cX + j, s); a.K(j, cA + j, 1); a.V(j, cA + j, 1); a.Proj(cG + j, j, 1.0 / l); }
                a.QBias(d, s); a.K(d, cB, -1);
                break;
            }
            default:
                throw new ConfigException($"unknown construction '{name}'; accepted: {string.Join(", ", Names)}");
        }
    }

    private static void Require(bool ok, string key, string accepted)
    {
        if (!ok) throw new ConfigException($"this construction needs {key} = {accepted}");
    }

    // Writes one BaseConv layer's weights by role (row = inner channel, column = residual channel).
    private sealed class BaseConvLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ParameterStore<T> _s; private readonly string _p; private readonly int _w, _k;

        public BaseConvLayer(ParameterStore<T> store, int layer, int width, int kernel)
        {
            _s = store; _w = width; _k = kernel;
            _p = $"_backbone.transformer.h.{layer}.seq_mixer.base_conv.";
            _s.Value(_s.Get(_p + "branch_weights"))[0] = T.One;   // out = 1·y + 0·u (the block adds u)
        }

        private Span<T> V(string name) => _s.Value(_s.Get(_p + name));
        public void InProj(int inner, int channel, double v) => V("in_proj.weight")[inner * _w + channel] = T.CreateChecked(v);
        public void Gate(int inner, int channel, double v) => V("projection.weight")[inner * _w + channel] = T.CreateChecked(v);
        public void GateBias(int inner, double v) => V("projection.bias")[inner] = T.CreateChecked(v);
        public void OutProj(int channel, int inner, double v) => V("out_proj.weight")[channel * _w + inner] = T.CreateChecked(v);
        /// <summary>Causal tap for <paramref name="lag"/>: y_t += v · z_{t-lag}; stored at index kernel-1-lag.</summary>
        public void Tap(int inner, int lag, double v) => V("conv.conv.weight")[inner * _k + _k - 1 - lag] = T.CreateChecked(v);
    }

    // Writes one attention layer's c_attn ([q; k; v] rows of width d) and c_proj weights.
    private sealed class AttentionLayer<T>(ParameterStore<T> store, int layer, int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly string _p = $"_backbone.transformer.h.{layer}.seq_mixer.";
        private Span<T> P(string name) => store.Value(store.Get(_p + name));
        public void Q(int dim, int channel, double v) => P("c_attn.weight")[dim * width + channel] = T.CreateChecked(v);
        public void K(int dim, int channel, double v) => P("c_attn.weight")[(width + dim) * width + channel] = T.CreateChecked(v);
        public void V(int dim, int channel, double v) => P("c_attn.weight")[(2 * width + dim) * width + channel] = T.CreateChecked(v);
        public void QBias(int dim, double v) => P("c_attn.bias")[dim] = T.CreateChecked(v);
        public void Proj(int channel, int dim, double v) => P("c_proj.weight")[channel * width + dim] = T.CreateChecked(v);
    }
}
