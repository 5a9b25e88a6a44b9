namespace PrecisionLS.Solvers;

/// <summary>How one classical baseline did on a <see cref="ProblemSet"/> (one row of <c>solve</c>).</summary>
/// <param name="Method">qr, normal, cg or gd.</param>
/// <param name="Problems">Problems solved.</param>
/// <param name="Mse">Mean over problems and coordinates of (x - x*)².</param>
/// <param name="MaxAbsError">Largest |x - x*| over problems and coordinates.</param>
/// <param name="Iterations">1 for a direct method; K for gd; the most any problem took for cg.</param>
/// <param name="Milliseconds">Wall time over all problems (gd includes its per-problem step computation).</param>
/// <param name="Rate">gd only: the worst per-problem contraction factor (κ-1)/(κ+1), κ = cond(A)²; NaN otherwise.</param>
public sealed record BaselineResult(string Method, int Problems, double Mse, double MaxAbsError, int Iterations, double Milliseconds, double Rate)
{
    /// <summary>True for a direct factorisation (qr, normal), whose Iterations is a nominal 1.</summary>
    public bool Direct => Method is "qr" or "normal";
}
