using PrecisionLS.Config;
using System.Numerics;

namespace PrecisionLS.Training;

/// <summary>L-BFGS settings (training.lbfgs_history, training.line_search_c1, _c2, _max_evals).</summary>
/// <param name="History">Curvature pairs (s, y) kept: m in Nocedal and Wright §7.2.</param>
/// <param name="C1">Sufficient decrease: f(x + αd) ≤ f(x) + c1 α ∇f·d.</param>
/// <param name="C2">Curvature (strong Wolfe): |∇f(x + αd)·d| ≤ c2 |∇f·d|.</param>
/// <param name="MaxEvaluations">Function and gradient evaluations one line search may take.</param>
public readonly record struct LbfgsOptions(int History = 20, double C1 = 1e-4, double C2 = 0.9, int MaxEvaluations = 20)
{
    /// <summary>Throws naming the training key of the first bad setting.</summary>
    public void Validate()
    {
        if (History < 1 || History > 1000) throw new ConfigException($"training.lbfgs_history = {History} must be in 1..1000");
        if (!(C1 > 0 && C1 < C2 && C2 < 1))
            throw new ConfigException($"training.line_search_c1 = {C1} and line_search_c2 = {C2} must satisfy 0 < c1 < c2 < 1");
        if (MaxEvaluations < 2) throw new ConfigException($"training.line_search_max_evals = {MaxEvaluations} must be at least 2");
    }
}

/// <summary>What one L-BFGS iteration did.</summary>
/// <param name="Value">f at the (new) current point.</param>
/// <param name="StepLength">α of the accepted step (0 when none was accepted).</param>
/// <param name="GradNorm">‖∇f‖ at the point the iteration started from.</param>
/// <param name="Evaluations">Function and gradient evaluations spent.</param>
/// <param name="Accepted">False when the line search found no decrease (the point is unchanged; history was reset).</param>
public readonly record struct LbfgsIteration(double Value, double StepLength, double GradNorm, int Evaluations, bool Accepted);

/// <summary>
/// Limited-memory BFGS with a strong-Wolfe line search (Nocedal and Wright, Numerical Optimization, 2nd ed.:
/// two-loop recursion Algorithm 7.4 with H0 = (sᵀy / yᵀy) I, line search Algorithms 3.5 and 3.6 with safeguarded
/// cubic interpolation). The state between iterations is the point <see cref="X"/>, the last m pairs
/// s = x_{k+1} - x_k, y = ∇f_{k+1} - ∇f_k in a ring, and whether f and ∇f at X are known; a changed objective
/// (training refreshes its fixed batch) only forgets the latter, so curvature carries over from batch to batch.
/// </summary>
/// <remarks>
/// Made for zero-residual problems solved to the last bits: s is stored as α·d (the step meant, not the rounded
/// difference of two points), every dot product is summed in double, and a line search that finds no decrease
/// (the rounding floor of f) leaves the point where it was and restarts from steepest descent.
/// </remarks>
public sealed class Lbfgs<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _rho, _alpha;
    private T[] _g, _xTrial, _gTrial, _xLo, _gLo;
    private readonly T[] _d;
    private T[] _x;
    private int _evals;

    public Lbfgs(int dimension, LbfgsOptions options)
    {
        options.Validate();
        Options = options;
        int m = options.History;
        S = new T[m][]; Y = new T[m][];
        for (int i = 0; i < m; i++) { S[i] = new T[dimension]; Y[i] = new T[dimension]; }
        _rho = new double[m]; _alpha = new double[m];
        _x = new T[dimension]; _g = new T[dimension]; _d = new T[dimension];
        _xTrial = new T[dimension]; _gTrial = new T[dimension]; _xLo = new T[dimension]; _gLo = new T[dimension];
    }

    public LbfgsOptions Options { get; }
    /// <summary>The current point (write it, then call <see cref="Restart"/>, to start elsewhere).</summary>
    public T[] X => _x;
    /// <summary>∇f at X, valid when <see cref="HasPoint"/>.</summary>
    public ReadOnlySpan<T> Gradient => _g;
    /// <summary>f at X, valid when <see cref="HasPoint"/>.</summary>
    public double Value { get; private set; } = double.NaN;
    /// <summary>Whether f and ∇f at X are known for the current objective.</summary>
    public bool HasPoint { get; private set; }
    /// <summary>The ring of steps s (checkpointed; only the newest <see cref="Count"/> are live).</summary>
    public T[][] S { get; }
    /// <summary>The ring of gradient changes y.</summary>
    public T[][] Y { get; }
    /// <summary>Live pairs, at most m.</summary>
    public int Count { get; private set; }
    /// <summary>Ring index of the newest pair.</summary>
    public int Newest { get; private set; } = -1;

    /// <summary>Forgets f and ∇f at X (a new objective, or a moved X); with <paramref name="keepHistory"/> false also the pairs.</summary>
    public void Restart(bool keepHistory)
    {
        HasPoint = false; Value = double.NaN;
        if (!keepHistory) ResetHistory();
    }

    /// <summary>Drops every curvature pair.</summary>
    public void ResetHistory() { Count = 0; Newest = -1; }

    /// <summary>Restores the ring from a checkpoint (the arrays S and Y are loaded in place); ρ is recomputed.</summary>
    public void RestoreHistory(int count, int newest)
    {
        int m = Options.History;
        if (count < 0 || count > m || (count > 0 && (newest < 0 || newest >= m)))
            throw new InvalidDataException($"L-BFGS history count {count}, newest {newest} do not fit a ring of {m}");
        Count = count; Newest = count == 0 ? -1 : newest;
        for (int i = 0; i < Count; i++)
        {
            int k = Ring(i);
            _rho[k] = 1.0 / Vec.Dot<T>(Y[k], S[k]);
        }
    }

    private int Ring(int age) => (Newest - age + Options.History) % Options.History;

    /// <summary>One iteration: direction d = -H∇f, strong-Wolfe line search along d, curvature pair update.</summary>
    public LbfgsIteration Iterate(IObjective<T> f)
    {
        if (f.Dimension != _x.Length) throw new ArgumentException($"objective has dimension {f.Dimension}, L-BFGS was built for {_x.Length}", nameof(f));
        _evals = 0;
        if (!HasPoint)
        {
            Value = f.Evaluate(_x, _g); _evals++;
            HasPoint = double.IsFinite(Value);
            if (!HasPoint) return new LbfgsIteration(Value, 0, double.NaN, _evals, false);
        }
        double gnorm = Vec.Norm<T>(_g);
        if (!double.IsFinite(gnorm)) { HasPoint = false; return new LbfgsIteration(Value, 0, gnorm, _evals, false); }
        if (gnorm == 0) return new LbfgsIteration(Value, 0, 0, _evals, false);

        Direction();
        double dg = Vec.Dot<T>(_d, _g);
        if (!(dg < 0))
        {
            ResetHistory();
            Direction();
            dg = Vec.Dot<T>(_d, _g);
        }
        // With curvature pairs the quasi-Newton step α = 1 is the natural first trial; without them, a unit-length step.
        double alpha0 = Count > 0 ? 1.0 : Math.Min(1.0, 1.0 / gnorm);
        double alpha = LineSearch(f, dg, alpha0, out bool fromTrial);
        if (alpha == 0)
        {
            // No decrease along d: at the rounding floor, or a poor quasi-Newton direction. Start over from -∇f.
            ResetHistory();
            return new LbfgsIteration(Value, 0, gnorm, _evals, false);
        }
        T[] xNew = fromTrial ? _xTrial : _xLo, gNew = fromTrial ? _gTrial : _gLo;
        double fNew = fromTrial ? _fTrial : _fLo;
        // Pair: s = α d, y = g_new - g.
        int next = (Newest + 1) % Options.History;
        var s = S[next]; var y = Y[next];
        Vec.Scale<T>(alpha, _d, s);
        System.Numerics.Tensors.TensorPrimitives.Subtract(gNew, _g, y);
        double sy = Vec.Dot<T>(s, y), yy = Vec.Dot<T>(y, y);
        if (sy > 1e-300 && sy > 1e-12 * Math.Sqrt(yy * Vec.Dot<T>(s, s)))
        {
            Newest = next; Count = Math.Min(Count + 1, Options.History);
            _rho[next] = 1.0 / sy;
        }
        // Accept: the new point becomes X (buffers swap, nothing is copied).
        if (fromTrial) { (_x, _xTrial) = (_xTrial, _x); (_g, _gTrial) = (_gTrial, _g); }
        else { (_x, _xLo) = (_xLo, _x); (_g, _gLo) = (_gLo, _g); }
        Value = fNew;
        return new LbfgsIteration(fNew, alpha, gnorm, _evals, true);
    }

    // d = -H g by the two-loop recursion (Nocedal and Wright Algorithm 7.4); H0 = γ I, γ = sᵀy / yᵀy of the newest pair.
    private void Direction()
    {
        Vec.Scale<T>(-1, _g, _d);
        for (int i = 0; i < Count; i++)
        {
            int k = Ring(i);
            _alpha[k] = _rho[k] * Vec.Dot<T>(S[k], _d);
            Vec.Axpy<T>(-_alpha[k], Y[k], _d, _d);
        }
        if (Count > 0)
        {
            int k = Newest;
            Vec.Scale<T>(1.0 / (_rho[k] * Vec.Dot<T>(Y[k], Y[k])), _d, _d);
        }
        for (int i = Count - 1; i >= 0; i--)
        {
            int k = Ring(i);
            double beta = _rho[k] * Vec.Dot<T>(Y[k], _d);
            Vec.Axpy<T>(_alpha[k] - beta, S[k], _d, _d);
        }
    }

    private double _fTrial, _fLo;

    // φ(α) = f(x + α d) and φ'(α) = ∇f(x + α d)·d, into the trial buffers.
    private (double F, double D) Phi(IObjective<T> f, double alpha)
    {
        Vec.Axpy<T>(alpha, _d, _x, _xTrial);
        _fTrial = f.Evaluate(_xTrial, _gTrial); _evals++;
        double dphi = double.IsFinite(_fTrial) ? Vec.Dot<T>(_gTrial, _d) : double.NaN;
        return (_fTrial, dphi);
    }

    private void TrialToLo(double fa)
    {
        (_xLo, _xTrial) = (_xTrial, _xLo); (_gLo, _gTrial) = (_gTrial, _gLo);
        _fLo = fa;
    }

    // Strong-Wolfe line search (Nocedal and Wright Algorithm 3.5). Returns the accepted α (0: none) and whether its
    // point sits in the trial buffers (else in the lo buffers).
    private double LineSearch(IObjective<T> f, double d0, double alpha, out bool fromTrial)
    {
        double c1 = Options.C1, c2 = Options.C2, f0 = Value;
        double aPrev = 0, fPrev = f0, dPrev = d0;
        fromTrial = false;
        for (int i = 0; _evals < Options.MaxEvaluations + 1; i++)
        {
            var (fa, da) = Phi(f, alpha);
            if (!double.IsFinite(fa) || fa > f0 + c1 * alpha * d0 || (i > 0 && fa >= fPrev))
                return Zoom(f, f0, d0, aPrev, fPrev, dPrev, alpha, fa, da, out fromTrial);
            if (Math.Abs(da) <= -c2 * d0) { fromTrial = true; return alpha; }
            if (da >= 0)
            {
                TrialToLo(fa);
                return Zoom(f, f0, d0, alpha, fa, da, aPrev, fPrev, dPrev, out fromTrial, loInBuffers: true);
            }
            TrialToLo(fa);
            aPrev = alpha; fPrev = fa; dPrev = da;
            alpha *= 4;
        }
        // Out of evaluations while still descending: take the last (best) point.
        return aPrev;
    }

    // Algorithm 3.6: lo always satisfies sufficient decrease and has the lowest f seen; the interval [lo, hi] holds a
    // strong-Wolfe point. lo's x and ∇f are in the lo buffers when lo > 0 (loInBuffers), else lo is α = 0, the current X.
    private double Zoom(IObjective<T> f, double f0, double d0, double aLo, double fLo, double dLo, double aHi, double fHi, double dHi,
        out bool fromTrial, bool loInBuffers = false)
    {
        double c1 = Options.C1, c2 = Options.C2;
        loInBuffers |= aLo > 0;     // a lo reached by extrapolation was moved to the lo buffers
        fromTrial = false;
        while (_evals < Options.MaxEvaluations + 1)
        {
            double alpha = Interpolate(aLo, fLo, dLo, aHi, fHi, dHi);
            if (alpha == aLo || alpha == aHi) break;        // the interval has shrunk to rounding
            var (fa, da) = Phi(f, alpha);
            if (!double.IsFinite(fa) || fa > f0 + c1 * alpha * d0 || fa >= fLo)
            {
                aHi = alpha; fHi = fa; dHi = da;
            }
            else
            {
                if (Math.Abs(da) <= -c2 * d0) { fromTrial = true; return alpha; }
                if (da * (aHi - aLo) >= 0) { aHi = aLo; fHi = fLo; dHi = dLo; }
                TrialToLo(fa);
                aLo = alpha; fLo = fa; dLo = da; loInBuffers = true;
            }
        }
        // Out of evaluations: the best point with sufficient decrease, if any.
        return loInBuffers && fLo < f0 ? aLo : 0;
    }

    // Minimiser of the cubic through (a, fa, da) and (b, fb, db) (Nocedal and Wright eq. 3.59), kept at least a tenth of
    // the interval away from both ends; bisection-like fallbacks when the cubic is undefined or hi is not finite.
    private static double Interpolate(double a, double fa, double da, double b, double fb, double db)
    {
        double lo = Math.Min(a, b), hi = Math.Max(a, b), w = hi - lo;
        if (!double.IsFinite(fb) || !double.IsFinite(db)) return a + 0.1 * (b - a);   // overflow at b: shrink hard toward a
        double d1 = da + db - 3 * (fa - fb) / (a - b);
        double disc = d1 * d1 - da * db;
        double x;
        if (disc >= 0 && double.IsFinite(disc))
        {
            double d2 = Math.Sign(b - a) * Math.Sqrt(disc);
            x = b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2);
        }
        else x = 0.5 * (a + b);
        if (!double.IsFinite(x)) x = 0.5 * (a + b);
        return Math.Clamp(x, lo + 0.1 * w, hi - 0.1 * w);
    }
}
