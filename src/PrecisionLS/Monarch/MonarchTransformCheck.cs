namespace PrecisionLS.Monarch;

/// <summary>
/// How exactly a transform's closed-form Monarch factors reproduce its dense matrix: the factor shapes, the largest
/// entry-wise difference and the relative Frobenius difference ‖product − dense‖_F / ‖dense‖_F.
/// </summary>
public sealed record MonarchTransformCheck(string Transform, int N, MonarchLayout Layout, double MaxAbsError, double RelativeError)
{
    /// <summary>Values in the two factors.</summary>
    public long Parameters => Layout.ParameterCount;
    /// <summary>Values in the dense n × n matrix.</summary>
    public long DenseParameters => (long)N * N;
}
