using System.Numerics;

namespace PrecisionLS.Monarch;

/// <summary>
/// A Monarch matrix as its two factors w1 (K, Q, P) and w2 (L, S, R), row-major, in the layout of
/// <see cref="MonarchLayout"/>; real (<c>double</c>) or complex (<see cref="Complex"/>) values.
/// </summary>
public sealed class MonarchFactors<T> where T : struct, INumberBase<T>
{
    /// <summary>Wraps <paramref name="w1"/> and <paramref name="w2"/> (not copied).</summary>
    /// <exception cref="ArgumentException">A factor's length disagrees with the layout.</exception>
    public MonarchFactors(MonarchLayout layout, T[] w1, T[] w2)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(w1);
        ArgumentNullException.ThrowIfNull(w2);
        if (w1.Length != layout.W1Length) throw new ArgumentException($"w1 holds {w1.Length} values, shape [{string.Join(", ", layout.W1Shape)}] needs {layout.W1Length}", nameof(w1));
        if (w2.Length != layout.W2Length) throw new ArgumentException($"w2 holds {w2.Length} values, shape [{string.Join(", ", layout.W2Shape)}] needs {layout.W2Length}", nameof(w2));
        Layout = layout; W1 = w1; W2 = w2;
    }

    /// <summary>Zero factors of a layout.</summary>
    public MonarchFactors(MonarchLayout layout) : this(layout, Zeros(layout.W1Length), Zeros(layout.W2Length)) { }

    /// <summary>The shapes and the observed part.</summary>
    public MonarchLayout Layout { get; }
    /// <summary>w1 (K, Q, P), row-major.</summary>
    public T[] W1 { get; }
    /// <summary>w2 (L, S, R), row-major.</summary>
    public T[] W2 { get; }

    /// <summary>w1[k, q, p].</summary>
    public ref T W1At(int k, int q, int p) => ref W1[(k * Layout.Q + q) * Layout.P + p];
    /// <summary>w2[l, s, r].</summary>
    public ref T W2At(int l, int s, int r) => ref W2[(l * Layout.S + s) * Layout.R + r];

    /// <summary>
    /// The dense (Out × In) matrix, row-major, with y = dense · x (padded inputs and dropped outputs left out):
    /// dense[s·L + l, k·P + p] = Σ_t w2[l, s, t div L] · w1[k, t mod Q, p] over the nodes t with t div Q = k,
    /// t mod L = l (REFERENCE §3). A plain reference loop, O(K·Q·S·P).
    /// </summary>
    public T[] ToDense()
    {
        var g = Layout;
        var dense = Zeros(g.Out * g.In);
        for (int t = 0; t < g.Intermediate; t++)
        {
            int k = t / g.Q, q = t % g.Q, l = t % g.L, r = t / g.L;
            int rows = g.ObservedRows(l), cols = g.ObservedColumns(k);
            for (int s = 0; s < rows; s++)
            {
                T a = W2At(l, s, r);
                int row = (s * g.L + l) * g.In + k * g.P;
                for (int p = 0; p < cols; p++) dense[row + p] += a * W1At(k, q, p);
            }
        }
        return dense;
    }

    private static T[] Zeros(int n)
    {
        var a = new T[n];
        Array.Fill(a, T.Zero);   // default(T) is zero for double and Complex; no assumption for other scalars
        return a;
    }
}
