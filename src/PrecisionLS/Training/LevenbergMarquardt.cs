using PrecisionLS.Config;
using System.Numerics;

namespace PrecisionLS.Training;

/// <summary>Gauss-Newton settings (training.cg_max_iters, training.cg_tolerance, training.gn_initial_damping).</summary>
/// <param name="CgMaxIterations">Conjugate-gradient iterations per outer step (each one JᵀJ v product).</param>
/// <param name="CgTolerance">CG stops when ‖(JᵀJ + λI)p + ∇f‖ ≤ tol · ‖∇f‖ (an inexact Newton step).</param>
/// <param name="InitialDamping">λ of the first step.</param>
public readonly record struct GaussNewtonOptions(int CgMaxIterations = 50, double CgTolerance = 1e-4, double InitialDamping = 1e-3)
{
    /// <summary>Smallest damping (keeps λ positive on rank-deficient JᵀJ; far below any useful value).</summary>
    public const double MinDamping = 1e-30;

    /// <summary>Throws naming the training key of the first bad setting.</summary>
    public void Validate()
    {
        if (CgMaxIterations < 1) throw new ConfigException($"training.cg_max_iters = {CgMaxIterations} must be at least 1");
        if (!(CgTolerance > 0 && CgTolerance < 1)) throw new ConfigException($"training.cg_tolerance = {CgTolerance} must be in (0, 1)");
        if (!(InitialDamping > 0) || !double.IsFinite(InitialDamping))
            throw new ConfigException($"training.gn_initial_damping = {InitialDamping} must be positive and finite");
    }
}

/// <summary>What one Gauss-Newton (Levenberg-Marquardt) step did.</summary>
/// <param name="Value">f at the (new) current point.</param>
/// <param name="Damping">λ used for this step.</param>
/// <param name="GradNorm">‖∇f‖ at the point the step started from.</param>
/// <param name="CgIterations">JᵀJ v products spent.</param>
/// <param name="Ratio">Actual over predicted decrease ρ.</param>
/// <param name="Accepted">Whether the step was taken (ρ > 0).</param>
public readonly record struct GaussNewtonIteration(double Value, double Damping, double GradNorm, int CgIterations, double Ratio, bool Accepted);

/// <summary>
/// Gauss-Newton with Levenberg-Marquardt damping for f(x) = ½‖r(x)‖², matrix-free: each step solves
/// (JᵀJ + λI) p = -∇f by conjugate gradients from p = 0, using only products JᵀJ v, then accepts or rejects p by the
/// ratio ρ of the actual to the predicted decrease (a trust-region test: Nocedal and Wright §10.3; Madsen, Nielsen and
/// Tingleff, Methods for Non-Linear Least Squares Problems, §3.2). λ is updated as Nielsen's rule:
/// accepted: λ ← λ · max(1/3, 1 - (2ρ - 1)³), ν ← 2; rejected: λ ← λ ν, ν ← 2ν.
/// </summary>
/// <remarks>
/// The predicted decrease uses the CG residual r_k = -∇f - (JᵀJ + λI)p (exact for an inexact solve):
/// pᵀJᵀJp = -pᵀ∇f - pᵀr_k - λ‖p‖², so m(0) - m(p) = -pᵀ∇f - ½ pᵀJᵀJp costs no extra product.
/// On a rank-deficient JᵀJ (an over-parameterised model) CG from 0 stays in its range, and λ > 0 keeps it definite.
/// </remarks>
public sealed class LevenbergMarquardt<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _x, _g, _p, _r, _z, _hz, _xTrial;

    public LevenbergMarquardt(int dimension, GaussNewtonOptions options)
    {
        options.Validate();
        Options = options;
        Damping = options.InitialDamping;
        _x = new T[dimension]; _g = new T[dimension]; _p = new T[dimension]; _r = new T[dimension];
        _z = new T[dimension]; _hz = new T[dimension]; _xTrial = new T[dimension];
    }

    public GaussNewtonOptions Options { get; }
    /// <summary>The current point.</summary>
    public T[] X => _x;
    /// <summary>λ of the next step (checkpointed).</summary>
    public double Damping { get; set; }
    /// <summary>Nielsen's growth factor ν for consecutive rejections (checkpointed).</summary>
    public double Nu { get; set; } = 2;
    /// <summary>f at X after the last step.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <summary>One damped Gauss-Newton step.</summary>
    public GaussNewtonIteration Iterate(ILeastSquaresObjective<T> f)
    {
        if (f.Dimension != _x.Length) throw new ArgumentException($"objective has dimension {f.Dimension}, Gauss-Newton was built for {_x.Length}", nameof(f));
        double lambda = Damping;
        double f0 = f.Linearize(_x, _g);
        double gnorm = Vec.Norm<T>(_g);
        if (!double.IsFinite(f0) || !double.IsFinite(gnorm)) { Value = f0; return new GaussNewtonIteration(f0, lambda, gnorm, 0, double.NaN, false); }
        if (gnorm == 0) { Value = f0; return new GaussNewtonIteration(f0, lambda, 0, 0, double.NaN, false); }

        // CG on (JᵀJ + λI) p = -g from p = 0.
        Array.Clear(_p);
        Vec.Scale<T>(-1, _g, _r);
        _r.AsSpan().CopyTo(_z);
        double rr = gnorm * gnorm, stop = Options.CgTolerance * gnorm;
        int k = 0;
        while (k < Options.CgMaxIterations)
        {
            f.GaussNewtonProduct(_z, _hz); k++;
            Vec.Axpy<T>(lambda, _z, _hz, _hz);
            double zHz = Vec.Dot<T>(_z, _hz);
            if (!(zHz > 0)) break;
            double a = rr / zHz;
            Vec.Axpy<T>(a, _z, _p, _p);
            Vec.Axpy<T>(-a, _hz, _r, _r);
            double rrNew = Vec.Dot<T>(_r, _r);
            if (Math.Sqrt(rrNew) <= stop) break;
            Vec.Axpy<T>(rrNew / rr, _z, _r, _z);
            rr = rrNew;
        }
        double pg = Vec.Dot<T>(_p, _g), pp = Vec.Dot<T>(_p, _p);
        double pHp = -pg - Vec.Dot<T>(_p, _r) - lambda * pp;
        double predicted = -pg - 0.5 * pHp;

        System.Numerics.Tensors.TensorPrimitives.Add(_x, _p, _xTrial);
        double fNew = f.Value(_xTrial);
        double rho = (f0 - fNew) / predicted;
        bool accept = double.IsFinite(fNew) && fNew < f0 && predicted > 0;
        if (accept)
        {
            _xTrial.AsSpan().CopyTo(_x);
            double t = 2 * rho - 1;
            Damping = Math.Max(GaussNewtonOptions.MinDamping, lambda * Math.Max(1.0 / 3, 1 - t * t * t));
            Nu = 2;
            Value = fNew;
        }
        else
        {
            Damping = Math.Min(1e30, lambda * Nu);
            Nu = Math.Min(Nu * 2, 1e10);
            Value = f0;
        }
        return new GaussNewtonIteration(Value, lambda, gnorm, k, rho, accept);
    }
}
