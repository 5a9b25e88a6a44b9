using System.Numerics;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>
/// The authors' L1 regularisation (training.l1_reg): loss += l1_reg · Σ|p| over the trainable parameters, so
/// the gradient gains l1_reg · sign(p) (sign(0) = 0, torch's subgradient of |p| at 0). The authors add it to the
/// loss before backward, hence before clipping and the EMA filter; here it is added to the gradients right after
/// backward, which is the same. (Their l1_scale factor is set to 1 and only ever replaced by min(l1_scale, 1),
/// so it is always 1: it is left out.)
/// </summary>
public static class L1Penalty
{
    /// <summary>Adds l1 · sign(p) to the trainable gradients and returns l1 · Σ|p| (accumulated in double).</summary>
    public static double AddTo<T>(ParameterStore<T> store, double l1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = store.Values; var g = store.Grads;
        T c = T.CreateChecked(l1), minusC = -c;
        double sum = 0;
        var parameters = store.Parameters;
        for (int k = 0; k < parameters.Count; k++)
        {
            var q = parameters[k];
            if (!q.Trainable) continue;
            for (int i = q.Offset; i < q.Offset + q.Length; i++)
            {
                T x = p[i];
                sum += Math.Abs(double.CreateChecked(x));
                if (x > T.Zero) g[i] += c;
                else if (x < T.Zero) g[i] += minusC;       // 0 (and NaN) add nothing; a NaN p makes the loss NaN anyway
            }
        }
        return l1 * sum;
    }
}
