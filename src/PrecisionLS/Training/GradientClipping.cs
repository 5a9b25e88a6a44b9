using System.Numerics;
using PrecisionLS.Nn;

namespace PrecisionLS.Training;

/// <summary>Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_ does it.</summary>
public static class GradientClipping
{
    /// <summary>sqrt(Σ g²) over the trainable gradients, accumulated in double in parameter order.</summary>
    public static double GlobalNorm<T>(ParameterStore<T> store) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        var g = store.Grads;
        var parameters = store.Parameters;
        for (int k = 0; k < parameters.Count; k++)      // indexed: foreach over the interface would box an enumerator
        {
            var p = parameters[k];
            if (!p.Trainable) continue;
            for (int i = p.Offset; i < p.Offset + p.Length; i++) { double x = double.CreateChecked(g[i]); s += x * x; }
        }
        return Math.Sqrt(s);
    }

    /// <summary>When norm &gt; maxNorm, scales gradients by maxNorm / (norm + 1e-6) (PyTorch's coefficient).</summary>
    public static void Clip<T>(ParameterStore<T> store, double norm, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double coef = maxNorm / (norm + 1e-6);
        if (coef >= 1) return;
        T c = T.CreateChecked(coef);
        System.Numerics.Tensors.TensorPrimitives.Multiply(store.Grads, c, store.Grads);
    }
}
