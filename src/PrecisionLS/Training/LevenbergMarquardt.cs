using PrecisionLS.Config;
using System.Numerics;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;

namespace PrecisionLS.Training;

/// <summary>Gauss-Newton settings (training.cg_max_iters, training.cg_tolerance, training.gn_initial_damping,
/// training.gn_scaling_probes, training.gn_solver).</summary>
/// <param name="CgMaxIterations">Conjugate-gradient iterations per outer step (each one JᵀJ v product).</param>
/// <param name="CgTolerance">CG stops when ‖(JᵀJ + λD)p + ∇f‖ ≤ tol · ‖∇f‖ (an inexact Newton step).</param>
/// <param name="InitialDamping">λ of the first step.</param>
/// <param name="ScalingProbes">0: Levenberg's damping λI and plain CG. k &gt; 0: Marquardt's scaled damping λD with D an
/// estimate of diag(JᵀJ) from k random probes per step, and CG preconditioned by (1 + λ)D (Jacobi).</param>
/// <param name="Solver">"cg": the damped system is solved matrix-free by (P)CG. "direct": exactly, in residual space: the
/// Jacobian J [R, P] is formed row by row, then p = -Jᵀ(JJᵀ + λI)⁻¹r (equal to -(JᵀJ + λI)⁻¹Jᵀr) by a Cholesky
/// factorisation of the R x R Gram matrix; a rejected step is retried with a larger λ on the same factor inputs.</param>
public readonly record struct GaussNewtonOptions(int CgMaxIterations = 50, double CgTolerance = 1e-4, double InitialDamping = 1e-3, int ScalingProbes = 0, string Solver = "cg")
{
    /// <summary>The accepted training.gn_solver values.</summary>
    public static readonly string[] Solvers = ["cg", "direct"];

    /// <summary>Direct solver: tries with a growing λ per step before the step is reported as rejected.</summary>
    public const int DirectTries = 12;

    /// <summary>Smallest damping (keeps λ positive on rank-deficient JᵀJ; far below any useful value).</summary>
    public const double MinDamping = 1e-30;

    /// <summary>Throws naming the training key of the first bad setting.</summary>
    public void Validate()
    {
        if (CgMaxIterations < 1) throw new ConfigException($"training.cg_max_iters = {CgMaxIterations} must be at least 1");
        if (!(CgTolerance > 0 && CgTolerance < 1)) throw new ConfigException($"training.cg_tolerance = {CgTolerance} must be in (0, 1)");
        if (!(InitialDamping > 0) || !double.IsFinite(InitialDamping))
            throw new ConfigException($"training.gn_initial_damping = {InitialDamping} must be positive and finite");
        if (ScalingProbes < 0) throw new ConfigException($"training.gn_scaling_probes = {ScalingProbes} must be >= 0 (0 = identity damping, no preconditioner)");
        if (Array.IndexOf(Solvers, Solver) < 0) throw new ConfigException($"training.gn_solver '{Solver}' is not known; accepted: {string.Join(", ", Solvers)}");
        if (Solver == "direct" && ScalingProbes > 0)
            throw new ConfigException($"training.gn_scaling_probes = {ScalingProbes}: the Marquardt scaling preconditions CG; training.gn_solver direct solves exactly and needs gn_scaling_probes: 0");
    }

    /// <summary>Floor of the scaling D relative to its mean: parameters the batch barely sees still get a finite step.</summary>
    public const double ScalingFloor = 1e-20;
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
/// With <see cref="GaussNewtonOptions.ScalingProbes"/> &gt; 0 the damping is Marquardt's λD instead of λI, with
/// D ≈ diag(JᵀJ) estimated at each step by Hutchinson's estimator, diag(JᵀJ) = E[(Jᵀz)⊙(Jᵀz)] over random signs z
/// (one Jᵀz product, a backward pass, per probe), floored at <see cref="GaussNewtonOptions.ScalingFloor"/> times its
/// mean. That makes λ dimensionless (the step does not depend on how each parameter is scaled) and CG is
/// preconditioned by (1 + λ)D, the diagonal of JᵀJ + λD: parameters whose curvature differs by orders of magnitude
/// (positional tables, gates, projections) converge together instead of the stiffest first.
/// </summary>
/// <remarks>
/// The predicted decrease uses the CG residual r_k = -∇f - (JᵀJ + λI)p (exact for an inexact solve):
/// pᵀJᵀJp = -pᵀ∇f - pᵀr_k - λ‖p‖², so m(0) - m(p) = -pᵀ∇f - ½ pᵀJᵀJp costs no extra product.
/// On a rank-deficient JᵀJ (an over-parameterised model) CG from 0 stays in its range, and λ > 0 keeps it definite.
/// </remarks>
public sealed class LevenbergMarquardt<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _x, _g, _p, _r, _z, _hz, _xTrial, _s;
    private T[] _probe = [], _jtz = [];
    private T[] _jacobian = [], _gram = [], _factor = [], _residual = [], _alpha = [], _kAlpha = [], _gramRows = [], _pCompact = [];
    private int[] _columns = [];

    public LevenbergMarquardt(int dimension, GaussNewtonOptions options)
    {
        options.Validate();
        Options = options;
        Damping = options.InitialDamping;
        _x = new T[dimension]; _g = new T[dimension]; _p = new T[dimension]; _r = new T[dimension];
        _z = new T[dimension]; _hz = new T[dimension]; _xTrial = new T[dimension];
        _s = options.ScalingProbes > 0 ? new T[dimension] : [];
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

    /// <summary>The scaling D of the last step (Marquardt; empty with identity damping).</summary>
    public ReadOnlySpan<T> Scaling => _s;

    /// <summary>One damped Gauss-Newton step. <paramref name="probeSeed"/> seeds the scaling's random probes (pass the
    /// iteration number, so a resumed run draws the same probes).</summary>
    public GaussNewtonIteration Iterate(ILeastSquaresObjective<T> f, ulong probeSeed = 0)
    {
        if (f.Dimension != _x.Length) throw new ArgumentException($"objective has dimension {f.Dimension}, Gauss-Newton was built for {_x.Length}", nameof(f));
        double lambda = Damping;
        double f0 = f.Linearize(_x, _g);
        double gnorm = Vec.Norm<T>(_g);
        if (!double.IsFinite(f0) || !double.IsFinite(gnorm)) { Value = f0; return new GaussNewtonIteration(f0, lambda, gnorm, 0, double.NaN, false); }
        if (gnorm == 0) { Value = f0; return new GaussNewtonIteration(f0, lambda, 0, 0, double.NaN, false); }

        if (Options.Solver == "direct") return IterateDirect(f, f0, gnorm, lambda);
        bool scaled = Options.ScalingProbes > 0;
        if (scaled) EstimateScaling(f, probeSeed);

        // (P)CG on (JᵀJ + λD) p = -g from p = 0 (D = I unscaled); preconditioner M = (1 + λ)D, z = M⁻¹r.
        Array.Clear(_p);
        Vec.Scale<T>(-1, _g, _r);
        if (scaled) { Precondition(_r, _z, lambda); } else _r.AsSpan().CopyTo(_z);
        var dir = _xTrial;                                   // the search direction (free until the trial point is formed)
        _z.AsSpan().CopyTo(dir);
        double rz = Vec.Dot<T>(_r, _z), stop = Options.CgTolerance * gnorm;
        int k = 0;
        while (k < Options.CgMaxIterations)
        {
            f.GaussNewtonProduct(dir, _hz); k++;
            AddDamping(lambda, dir, _hz);
            double dHd = Vec.Dot<T>(dir, _hz);
            if (!(dHd > 0)) break;
            double a = rz / dHd;
            Vec.Axpy<T>(a, dir, _p, _p);
            Vec.Axpy<T>(-a, _hz, _r, _r);
            if (Vec.Norm<T>(_r) <= stop) break;
            if (scaled) Precondition(_r, _z, lambda); else _r.AsSpan().CopyTo(_z);
            double rzNew = Vec.Dot<T>(_r, _z);
            Vec.Axpy<T>(rzNew / rz, dir, _z, dir);
            rz = rzNew;
        }
        double pg = Vec.Dot<T>(_p, _g), pDp = scaled ? WeightedSquare(_p, _s) : Vec.Dot<T>(_p, _p);
        double pHp = -pg - Vec.Dot<T>(_p, _r) - lambda * pDp;
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

    // The exact damped step in residual space: K = JJᵀ once, then per try (K + λI)α = r by Cholesky, p = -Jᵀα.
    // With Jp = -Kα and pᵀ∇f = (Jp)ᵀr, the predicted decrease is (Kα)ᵀr - ½‖Kα‖².
    private GaussNewtonIteration IterateDirect(ILeastSquaresObjective<T> f, double f0, double gnorm, double lambda)
    {
        int r = f.ResidualCount, n = _x.Length;
        long size = (long)r * n;
        if (size > Array.MaxLength || (long)r * r > Array.MaxLength)
            throw new ConfigException($"training.gn_solver direct: the Jacobian ({r} x {n}) or the Gram matrix ({r} x {r}) has more entries than one array holds; lower training.second_order_batch_size");
        if (_jacobian.LongLength != size) _jacobian = new T[size];
        if (_gram.Length != r * r) { _gram = new T[r * r]; _factor = new T[r * r]; _residual = new T[r]; _alpha = new T[r]; _kAlpha = new T[r]; }
        f.LinearizedResiduals(_residual);
        f.LinearizedJacobian(_jacobian);
        // Columns that are zero on the whole batch (idle channels, frozen tensors) change neither K nor the step:
        // J is compacted to its m nonzero columns in place, so K costs r² m, not r² n.
        int m = CompactColumns(_jacobian, r, n, ref _columns);
        Gram(_jacobian, r, m, _gram);
        int tries = 0;
        while (true)
        {
            tries++;
            _gram.AsSpan().CopyTo(_factor);
            T l = T.CreateChecked(lambda);
            for (int i = 0; i < r; i++) _factor[i * r + i] += l;
            double fNew = double.NaN, predicted = double.NaN;
            if (Cholesky.Factor<T>(_factor, r))
            {
                _residual.AsSpan().CopyTo(_alpha);
                Cholesky.Solve<T>(_factor, r, _alpha);
                Gemm.TN<T>(_jacobian, _alpha, _pCompact, m, 1, r, accumulate: false);   // Jᵀα on the kept columns
                Array.Clear(_p);
                for (int c = 0; c < m; c++) _p[_columns[c]] = -_pCompact[c];        // p = -Jᵀα
                Gemm.NN<T>(_gram, _alpha, _kAlpha, r, 1, r, accumulate: false);     // Kα = -Jp
                predicted = Vec.Dot<T>(_kAlpha, _residual) - 0.5 * Vec.Dot<T>(_kAlpha, _kAlpha);
                System.Numerics.Tensors.TensorPrimitives.Add(_x, _p, _xTrial);
                fNew = f.Value(_xTrial);
            }
            double rho = (f0 - fNew) / predicted;
            if (double.IsFinite(fNew) && fNew < f0 && predicted > 0)
            {
                _xTrial.AsSpan().CopyTo(_x);
                double t = 2 * rho - 1;
                Damping = Math.Max(GaussNewtonOptions.MinDamping, lambda * Math.Max(1.0 / 3, 1 - t * t * t));
                Nu = 2;
                Value = fNew;
                return new GaussNewtonIteration(fNew, lambda, gnorm, tries, rho, true);
            }
            lambda = Math.Min(1e30, lambda * Nu);
            Nu = Math.Min(Nu * 2, 1e10);
            Damping = lambda;
            if (tries >= GaussNewtonOptions.DirectTries || lambda >= 1e30)
            {
                Value = f0;
                return new GaussNewtonIteration(f0, lambda, gnorm, tries, rho, false);
            }
        }
    }

    // Moves the nonzero columns of j ([r, n], row-major) to the front of each row, rows packed at stride m; returns
    // m and the kept columns' indices. In place: an entry only moves to a lower index, after everything below it was read.
    private int CompactColumns(Span<T> j, int r, int n, ref int[] columns)
    {
        var nonzero = new bool[n];
        for (int row = 0; row < r; row++)
        {
            var src = j.Slice(row * n, n);
            for (int c = 0; c < n; c++) if (src[c] != T.Zero) nonzero[c] = true;
        }
        if (columns.Length != n) columns = new int[n];
        int m = 0;
        for (int c = 0; c < n; c++) if (nonzero[c]) columns[m++] = c;
        Buffers.Ensure(ref _pCompact, Math.Max(m, 1));
        if (m == n) return m;
        for (int row = 0; row < r; row++)
            for (int t = 0; t < m; t++) j[row * m + t] = j[row * n + columns[t]];
        return m;
    }

    /// <summary>Rows of J per block row of the Gram matrix, and parameters per packed column slice.</summary>
    private const int GramBlock = 512, GramSlice = 1024;

    // K = J Jᵀ (symmetric, [r, r]) at half the cost of a full product and without a full transposed copy of J: per
    // slice of parameters, the slice of J is packed transposed ([slice, r]), and each block row [i0, i1) of K gains
    // J[i0:i1, slice] times it, for columns [0, i1) only; the upper triangle is mirrored at the end.
    private void Gram(ReadOnlySpan<T> j, int r, int n, Span<T> k)
    {
        int slice = Math.Min(GramSlice, n);
        Buffers.Ensure(ref _gramRows, (long)slice * r);
        for (int p0 = 0; p0 < n; p0 += GramSlice)
        {
            int kc = Math.Min(GramSlice, n - p0);
            var packed = _gramRows.AsSpan(0, kc * r);
            for (int row = 0; row < r; row++)
            {
                var src = j.Slice(row * n + p0, kc);
                for (int p = 0; p < kc; p++) packed[p * r + row] = src[p];
            }
            for (int i0 = 0; i0 < r; i0 += GramBlock)
            {
                int i1 = Math.Min(r, i0 + GramBlock);
                Gemm.NNStrided<T>(j[(i0 * n + p0)..], n, packed, r, k[(i0 * r)..], r, i1 - i0, i1, kc, accumulate: p0 > 0);
            }
        }
        for (int i = 0; i < r; i++)
            for (int c = i + 1; c < r; c++) k[i * r + c] = k[c * r + i];
    }

    // hz += λ D v (D = I unscaled)
    private void AddDamping(double lambda, ReadOnlySpan<T> v, Span<T> hz)
    {
        if (_s.Length == 0) { Vec.Axpy<T>(lambda, v, hz, hz); return; }
        T l = T.CreateChecked(lambda);
        for (int i = 0; i < v.Length; i++) hz[i] += l * _s[i] * v[i];
    }

    // z = r / ((1 + λ) D)
    private void Precondition(ReadOnlySpan<T> r, Span<T> z, double lambda)
    {
        T onePlus = T.One + T.CreateChecked(lambda);
        for (int i = 0; i < r.Length; i++) z[i] = r[i] / (onePlus * _s[i]);
    }

    private static double WeightedSquare(ReadOnlySpan<T> p, ReadOnlySpan<T> s)
    {
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += double.CreateChecked(s[i] * p[i] * p[i]);
        return sum;
    }

    // D = mean over probes of (Jᵀz)², z random signs on the residuals, floored at ScalingFloor · mean(D). Parameters no
    // residual depends on (frozen ones: Jᵀz is 0 there) get the floor, where the zero gradient keeps the step 0.
    private void EstimateScaling(ILeastSquaresObjective<T> f, ulong seed)
    {
        int n = f.ResidualCount, probes = Options.ScalingProbes;
        if (_probe.Length != n) _probe = new T[n];
        if (_jtz.Length != _x.Length) _jtz = new T[_x.Length];
        var rng = new PrecisionLS.Numerics.Rng(PrecisionLS.Numerics.Rng.StreamSeed(0x5CA1E5, seed));
        Array.Clear(_s);
        for (int j = 0; j < probes; j++)
        {
            for (int i = 0; i < n; i += 64)
            {
                ulong bits = rng.NextUInt64();
                for (int b = 0; b < 64 && i + b < n; b++) _probe[i + b] = ((bits >> b) & 1) == 0 ? T.One : T.NegativeOne;
            }
            f.JacobianTransposeProduct(_probe, _jtz);
            for (int i = 0; i < _s.Length; i++) _s[i] += _jtz[i] * _jtz[i];
        }
        T inv = T.One / T.CreateChecked(probes);
        System.Numerics.Tensors.TensorPrimitives.Multiply(_s, inv, _s);
        T floor = T.CreateChecked(GaussNewtonOptions.ScalingFloor) * System.Numerics.Tensors.TensorPrimitives.Sum<T>(_s) / T.CreateChecked(_s.Length);
        if (!(floor > T.Zero)) floor = T.One;                 // JᵀJ = 0 (or not finite): no scaling
        for (int i = 0; i < _s.Length; i++) if (!(_s[i] >= floor)) _s[i] = floor;
    }
}
