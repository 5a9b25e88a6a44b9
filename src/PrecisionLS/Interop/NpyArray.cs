using System.Numerics;

namespace PrecisionLS.Interop;

/// <summary>
/// An array read from a NumPy .npy file (or a CSV matrix): its dtype as the file spells it, its shape, and its values
/// in C (row-major) order whatever order the file stored them in; real dtypes give <see cref="Values"/> (integers
/// converted to double), complex ones <see cref="ComplexValues"/>.
/// </summary>
public sealed class NpyArray
{
    /// <summary>A real array (values in C order, not copied).</summary>
    public NpyArray(string descr, int[] shape, double[] values, bool fortranOrder = false)
        : this(descr, shape, fortranOrder, values, null, values.Length) { }

    /// <summary>A complex array (values in C order, not copied).</summary>
    public NpyArray(string descr, int[] shape, Complex[] values, bool fortranOrder = false)
        : this(descr, shape, fortranOrder, null, values, values.Length) { }

    private NpyArray(string descr, int[] shape, bool fortranOrder, double[]? values, Complex[]? complexValues, int count)
    {
        ArgumentNullException.ThrowIfNull(descr);
        ArgumentNullException.ThrowIfNull(shape);
        long size = 1;
        foreach (int d in shape) size *= d >= 0 ? d : throw new ArgumentException($"negative dimension in shape {Npy.ShapeText(shape)}", nameof(shape));
        if (size != count) throw new ArgumentException($"{count} values do not fill shape {Npy.ShapeText(shape)}", nameof(shape));
        Descr = descr; Shape = shape; FortranOrder = fortranOrder; Values = values; ComplexValues = complexValues;
    }

    /// <summary>The dtype string of the file, e.g. "&lt;f8" ("&lt;f8" for CSV).</summary>
    public string Descr { get; }
    /// <summary>The shape; empty for a 0-d array.</summary>
    public int[] Shape { get; }
    /// <summary>Whether the file stored the data in Fortran (column-major) order; the values here are C order regardless.</summary>
    public bool FortranOrder { get; }
    /// <summary>Values of a real or integer array, C order; null for a complex one.</summary>
    public double[]? Values { get; }
    /// <summary>Values of a complex array, C order; null for a real one.</summary>
    public Complex[]? ComplexValues { get; }
    /// <summary>Whether the dtype is complex.</summary>
    public bool IsComplex => ComplexValues is not null;
    /// <summary>Number of values.</summary>
    public int Count => Values?.Length ?? ComplexValues!.Length;
    /// <summary>The shape as NumPy prints it: "(3, 4)", "(5,)", "()".</summary>
    public string ShapeText => Npy.ShapeText(Shape);
}
