using System.Numerics;
using PrecisionLS.Bench;
using PrecisionLS.Numerics;

namespace PrecisionLS.Nn;

/// <summary>
/// The authors' MLP (REFERENCE §2, fixtures mlp_relu, mlp_gelu, mlp_glu; gpt2.py with nlayer = 2, so no
/// intermediate Linears, dropout 0):
/// <code>
/// a = c_fc(x)                          x [rows, d] -> a [rows, h], h = mlp_upfactor·d
/// g = relu(a) | gelu(a) | glu(a)       gelu exact: a·Φ(a), Φ(a) = 0.5·(1 + erf(a/√2))
///                                      glu: sigmoid(activ.proj1 a) · (activ.proj2 a), square h×h, bias-free
/// y = c_proj(g)                        g [rows, h] -> y [rows, d]
/// </code>
/// The GLU replaces the activation (no relu/gelu besides it). c_fc and c_proj carry biases when the authors'
/// bias flag is on (the default). Parameters are registered in the authors' state-dict order: c_fc.weight
/// [h, d], c_fc.bias [h], (activ.proj1.weight [h, h], activ.proj2.weight [h, h]), c_proj.weight [d, h],
/// c_proj.bias [d].
/// model.mlp_type swaps c_fc and c_proj (not the GLU's square projections) for structured layers with
/// model.mlp_nblocks blocks, under the fly modules' names: monarch → <see cref="MonarchLinear{T}"/> (c_fc.bias,
/// c_fc.blkdiag1, c_fc.blkdiag2, ...), blockdiag → <see cref="BlockdiagLinear{T}"/> (c_fc.bias, c_fc.weight
/// [nblocks, h/nblocks, d/nblocks], ...).
/// </summary>
/// <remarks>
/// Forward keeps a, g and what the activation's backward needs (gelu: Φ(a); glu: s = sigmoid(proj1 a) and
/// proj2 a) in buffers that grow to the largest row count seen. Backward uses <see cref="Workspace{T}"/>
/// slots 4 to 6 for its [rows, h] gradient temporaries.
/// </remarks>
public sealed class Mlp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The accepted values of model.mlp_activ.</summary>
    public static readonly IReadOnlyList<string> ActivationNames = ["relu", "gelu", "glu"];
    /// <summary>The accepted values of model.mlp_type: the structure of c_fc and c_proj.</summary>
    public static readonly IReadOnlyList<string> TypeNames = ["dense", "monarch", "blockdiag"];

    private const int SlotDg = 4, SlotDz1 = 5, SlotDz2 = 6;

    private readonly int _d, _h;
    private readonly Kind _kind;
    // Forward caches, [rows, h] each: a = c_fc x, g = act(a); gelu: cdf = Φ(a); glu: s = sigmoid(proj1 a), q = proj2 a.
    private T[] _a = [], _g = [], _cdf = [], _s = [], _q = [];
    // Tangent scratch, [rows, h] each: da, dg and (glu) dz1, dz2.
    private T[] _ta = [], _tg = [], _tz1 = [], _tz2 = [];

    private enum Kind { Relu, Gelu, Glu }

    /// <summary>
    /// An MLP of width <paramref name="d"/> with hidden width <paramref name="upfactor"/>·d; registers its parameters
    /// under "{name}.c_fc", ["{name}.activ.proj1", "{name}.activ.proj2",] "{name}.c_proj".
    /// </summary>
    /// <param name="store">Where the parameters are registered.</param>
    /// <param name="name">Module prefix, e.g. "_backbone.transformer.h.0.mlp".</param>
    /// <param name="d">model.n_embd.</param>
    /// <param name="upfactor">model.mlp_upfactor.</param>
    /// <param name="activation">model.mlp_activ: "relu", "gelu" (exact, erf) or "glu".</param>
    /// <param name="bias">The authors' bias flag: biases on c_fc and c_proj (the GLU projections never have one).</param>
    /// <param name="type">model.mlp_type: "dense" (nn.Linear), "monarch" or "blockdiag" c_fc and c_proj.</param>
    /// <param name="nblocks">model.mlp_nblocks: blocks per structured factor (ignored for dense).</param>
    public Mlp(ParameterStore<T> store, string name, int d, int upfactor, string activation, bool bias = true, string type = "dense", int nblocks = 4)
    {
        if (!TypeNames.Contains(type))
            throw new ArgumentException($"MLP '{name}': model.mlp_type '{type}' is unknown; accepted: {string.Join(", ", TypeNames)}", nameof(type));
        if (type != "dense" && nblocks < 1)
            throw new ArgumentOutOfRangeException(nameof(nblocks), nblocks, $"MLP '{name}': model.mlp_nblocks = {nblocks} must be a positive integer");
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, $"MLP '{name}': model.n_embd = {d} must be a positive integer");
        if (upfactor < 1) throw new ArgumentOutOfRangeException(nameof(upfactor), upfactor, $"MLP '{name}': model.mlp_upfactor = {upfactor} must be a positive integer");
        _kind = activation switch
        {
            "relu" => Kind.Relu,
            "gelu" => Kind.Gelu,
            "glu" => Kind.Glu,
            _ => throw new ArgumentException($"MLP '{name}': model.mlp_activ '{activation}' is unknown; accepted: {string.Join(", ", ActivationNames)}", nameof(activation)),
        };
        long h = (long)upfactor * d;
        long largest = _kind == Kind.Glu ? h * h : h * d;   // the largest weight: proj1/proj2 [h, h] or c_fc [h, d]
        if (largest > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(upfactor), upfactor, $"MLP '{name}': hidden width model.mlp_upfactor·model.n_embd = {h} is too large");
        _d = d; _h = (int)h; Activation = activation; Type = type;
        CFc = CreateLinear(store, name + ".c_fc", d, _h, bias, type, nblocks);
        if (_kind == Kind.Glu)
        {
            Proj1 = new Linear<T>(store, name + ".activ.proj1", _h, _h, bias: false);
            Proj2 = new Linear<T>(store, name + ".activ.proj2", _h, _h, bias: false);
        }
        CProj = CreateLinear(store, name + ".c_proj", _h, d, bias, type, nblocks);
    }

    // model.mlp_type: the one place that picks the structure of c_fc and c_proj.
    private static ILinearLayer<T> CreateLinear(ParameterStore<T> store, string name, int inF, int outF, bool bias, string type, int nblocks) => type switch
    {
        "monarch" => new MonarchLinear<T>(store, name, inF, outF, nblocks, bias),
        "blockdiag" => new BlockdiagLinear<T>(store, name, inF, outF, nblocks, bias),
        _ => new Linear<T>(store, name, inF, outF, bias),
    };

    /// <summary>Model width d (input and output).</summary>
    public int D => _d;
    /// <summary>Hidden width h = mlp_upfactor·d.</summary>
    public int Hidden => _h;
    /// <summary>model.mlp_activ: relu, gelu or glu.</summary>
    public string Activation { get; }
    /// <summary>model.mlp_type: dense, monarch or blockdiag.</summary>
    public string Type { get; }
    /// <summary>The up projection d → h (dense, Monarch or block-diagonal).</summary>
    public ILinearLayer<T> CFc { get; }
    /// <summary>GLU gate projection (sigmoid side), h×h, no bias; null unless activation is glu.</summary>
    public Linear<T>? Proj1 { get; }
    /// <summary>GLU value projection, h×h, no bias; null unless activation is glu.</summary>
    public Linear<T>? Proj2 { get; }
    /// <summary>The down projection h → d (dense, Monarch or block-diagonal).</summary>
    public ILinearLayer<T> CProj { get; }

    /// <summary>y = c_proj(act(c_fc x)); x [rows, d], y [rows, d]; overwrites y (y must not alias x).</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int rows)
    {
        int d = _d, h = _h;
        long nh = (long)rows * h;
        CheckLength(x.Length, (long)rows * d, "x"); CheckLength(y.Length, (long)rows * d, "y");
        Buffers.Ensure(ref _a, nh); Buffers.Ensure(ref _g, nh);
        var a = _a.AsSpan(0, (int)nh); var g = _g.AsSpan(0, (int)nh);
        // REFERENCE §2 MLP: a = c_fc x
        CFc.Forward(x, a, rows);
        long t0 = StepProfiler.Start();
        switch (_kind)
        {
            case Kind.Relu:
                Activations.ReluForward<T>(a, g);
                break;
            case Kind.Gelu:
                Buffers.Ensure(ref _cdf, nh);
                Activations.GeluForward<T>(a, g, _cdf.AsSpan(0, (int)nh));   // g = a·Φ(a)
                break;
            case Kind.Glu:
                Buffers.Ensure(ref _s, nh); Buffers.Ensure(ref _q, nh);
                var s = _s.AsSpan(0, (int)nh); var q = _q.AsSpan(0, (int)nh);
                StepProfiler.Stop("mlp.fwd.act", t0);
                Proj1!.Forward(a, s, rows);                                  // z1 = proj1 a (s holds z1 until the sigmoid)
                Proj2!.Forward(a, q, rows);                                  // q = proj2 a
                t0 = StepProfiler.Start();
                Activations.GluForward<T>(s, q, s, g);                        // s = sigmoid(z1), g = s·q
                break;
        }
        StepProfiler.Stop("mlp.fwd.act", t0);
        // y = c_proj g
        CProj.Forward(g, y, rows);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/> on the same x (its caches must still hold): adds every parameter gradient
    /// and dx += d loss/dx when dx is not empty.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows) => Backward(x, dy, dx, rows, accumulateDx: true);

    /// <summary>As <see cref="Backward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int)"/>; with accumulateDx false, dx is overwritten.</summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, int rows, bool accumulateDx)
    {
        int d = _d, h = _h;
        long nh = (long)rows * h;
        CheckLength(x.Length, (long)rows * d, "x"); CheckLength(dy.Length, (long)rows * d, "dy");
        if (!dx.IsEmpty) CheckLength(dx.Length, (long)rows * d, "dx");
        if (_a.Length < nh) throw new InvalidOperationException($"MLP backward over {rows} rows, but the last forward kept fewer");
        var a = _a.AsSpan(0, (int)nh); var g = _g.AsSpan(0, (int)nh);
        var dg = Workspace<T>.Get(SlotDg, nh).AsSpan(0, (int)nh);
        // y = c_proj g:  dW_proj += dyᵀ g,  db_proj += Σ dy,  dg = dy W_proj
        CProj.Backward(g, dy, dg, rows, accumulateDx: false);
        long t0 = StepProfiler.Start();
        var da = dg;   // the activation's input gradient overwrites dg
        switch (_kind)
        {
            case Kind.Relu:
                Activations.ReluBackward<T>(a, dg, da);                       // da = dg·[a > 0]
                break;
            case Kind.Gelu:
                Activations.GeluBackward<T>(a, _cdf.AsSpan(0, (int)nh), dg, da);   // da = dg·(Φ(a) + a·φ(a))
                break;
            case Kind.Glu:
                var dz1 = Workspace<T>.Get(SlotDz1, nh).AsSpan(0, (int)nh);
                var dz2 = Workspace<T>.Get(SlotDz2, nh).AsSpan(0, (int)nh);
                // g = s·q, s = sigmoid(z1):  dz2 = dg·s,  dz1 = dg·q·s·(1 − s)
                Activations.GluBackward<T>(_s.AsSpan(0, (int)nh), _q.AsSpan(0, (int)nh), dg, dz1, dz2);
                StepProfiler.Stop("mlp.bwd.act", t0);
                // z1 = proj1 a, q = proj2 a:  da = dz1 P1 + dz2 P2 (overwrites dg, no longer needed)
                Proj1!.Backward(a, dz1, da, rows, accumulateDx: false);
                Proj2!.Backward(a, dz2, da, rows, accumulateDx: true);
                t0 = StepProfiler.Start();
                break;
        }
        StepProfiler.Stop("mlp.bwd.act", t0);
        // a = c_fc x:  dW_fc += daᵀ x,  db_fc += Σ da,  dx (+)= da W_fc
        CFc.Backward(x, da, dx, rows, accumulateDx);
    }

    /// <summary>
    /// Forward-mode tangent on Forward's x (its caches must still hold): da = c_fc'(x; dx, v); relu: dg = da·[a &gt; 0];
    /// gelu: dg = da·(Φ(a) + a·φ(a)); glu: dz1, dz2 the projections' tangents, dg = s(1 − s)·q·dz1 + s·dz2;
    /// dy = c_proj'(g; dg, v). v is a parameter direction in the store's layout (frozen entries ignored); dx may be
    /// empty (zero). Overwrites dy.
    /// </summary>
    public void ForwardTangent(ReadOnlySpan<T> x, ReadOnlySpan<T> dx, ReadOnlySpan<T> v, Span<T> dy, int rows)
    {
        int d = _d, h = _h;
        long nh = (long)rows * h;
        CheckLength(x.Length, (long)rows * d, "x"); CheckLength(dy.Length, (long)rows * d, "dy");
        if (_a.Length < nh) throw new InvalidOperationException($"MLP tangent over {rows} rows, but the last forward kept fewer");
        var a = _a.AsSpan(0, (int)nh); var g = _g.AsSpan(0, (int)nh);
        var da = Buffers.Ensure(ref _ta, nh).AsSpan(0, (int)nh);
        var dg = Buffers.Ensure(ref _tg, nh).AsSpan(0, (int)nh);
        // a = c_fc x
        CFc.ForwardTangent(x, dx, v, da, rows);
        long t0 = StepProfiler.Start();
        switch (_kind)
        {
            case Kind.Relu:
                Activations.ReluBackward<T>(a, da, dg);                            // dg = da·[a > 0] (the same diagonal)
                break;
            case Kind.Gelu:
                Activations.GeluBackward<T>(a, _cdf.AsSpan(0, (int)nh), da, dg);   // dg = da·(Φ(a) + a·φ(a))
                break;
            case Kind.Glu:
                var dz1 = Buffers.Ensure(ref _tz1, nh).AsSpan(0, (int)nh);
                var dz2 = Buffers.Ensure(ref _tz2, nh).AsSpan(0, (int)nh);
                StepProfiler.Stop("mlp.tangent.act", t0);
                Proj1!.ForwardTangent(a, da, v, dz1, rows);                        // z1 = proj1 a
                Proj2!.ForwardTangent(a, da, v, dz2, rows);                        // q = proj2 a
                t0 = StepProfiler.Start();
                // g = s·q, s = sigmoid(z1):  dg = s·(1 − s)·q·dz1 + s·dz2
                var s = _s.AsSpan(0, (int)nh); var q = _q.AsSpan(0, (int)nh);
                for (int i = 0; i < dg.Length; i++)
                {
                    T si = s[i];
                    dg[i] = si * (T.One - si) * q[i] * dz1[i] + si * dz2[i];
                }
                break;
        }
        StepProfiler.Stop("mlp.tangent.act", t0);
        // y = c_proj g
        CProj.ForwardTangent(g, dg, v, dy, rows);
    }

    /// <summary>
    /// Multiply-adds of one forward over <paramref name="rows"/> rows: the Linears (c_fc, c_proj and, for glu,
    /// proj1 and proj2) plus the GLU's gate product (relu and gelu count as zero); backward is about 2x.
    /// </summary>
    public long ForwardMultiplyAdds(long rows)
    {
        long ma = CFc.MultiplyAdds(rows) + CProj.MultiplyAdds(rows);
        if (_kind == Kind.Glu) ma += Proj1!.MultiplyAdds(rows) + Proj2!.MultiplyAdds(rows) + rows * _h;
        return ma;
    }

    private static void CheckLength(int have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"{name} holds {have} values, the MLP needs {need}", name);
    }
}
