using System.Numerics;

namespace PrecisionLS.Interop;

/// <summary>Reading and writing one dense matrix as .npy (real or complex) or as CSV text (real), chosen by extension.</summary>
public static class MatrixFile
{
    /// <summary>Extensions <see cref="Read"/> accepts.</summary>
    public static readonly string[] Extensions = [".npy", ".csv", ".txt"];

    /// <summary>
    /// Reads a 2-D matrix of finite values: .npy (any dtype <see cref="Npy"/> reads) or .csv/.txt (<see cref="CsvMatrix"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Unknown extension, malformed file, an array that is not 2-D or is empty,
    /// or a NaN/infinite entry; the message names the file.</exception>
    public static NpyArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (Array.IndexOf(Extensions, ext) < 0)
            throw new InvalidDataException($"matrix file '{path}': unsupported extension '{ext}'; accepted: {string.Join(", ", Extensions)}");
        var a = ext == ".npy" ? Npy.Read(path) : CsvMatrix.Read(path);
        if (a.Shape.Length != 2) throw new InvalidDataException($"matrix file '{path}': needs a 2-D array, got shape {a.ShapeText}");
        if (a.Count == 0) throw new InvalidDataException($"matrix file '{path}': the matrix {a.ShapeText} is empty");
        int cols = a.Shape[1];
        for (int i = 0; i < a.Count; i++)
        {
            bool finite = a.IsComplex ? Complex.IsFinite(a.ComplexValues![i]) : double.IsFinite(a.Values![i]);
            if (!finite)
                throw new InvalidDataException($"matrix file '{path}': entry ({i / cols}, {i % cols}) is " +
                    (a.IsComplex ? a.ComplexValues![i].ToString(System.Globalization.CultureInfo.InvariantCulture) : a.Values![i].ToString(System.Globalization.CultureInfo.InvariantCulture)) + "; values must be finite");
        }
        return a;
    }

    /// <summary>Writes a real (rows × cols) row-major matrix: .npy (&lt;f8) or .csv (comma-separated, round-trip digits).</summary>
    /// <exception cref="InvalidDataException">An extension other than .npy, .csv or .txt.</exception>
    public static void Write(string path, ReadOnlySpan<double> values, int rows, int cols)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".npy") { Npy.Write(path, values, [rows, cols]); return; }
        if (ext is not (".csv" or ".txt"))
            throw new InvalidDataException($"matrix file '{path}': unsupported extension '{ext}'; accepted: {string.Join(", ", Extensions)}");
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                if (j > 0) sb.Append(',');
                sb.Append(values[i * cols + j].ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        Training.AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Writes a complex matrix; only .npy (&lt;c16) can hold one.</summary>
    /// <exception cref="InvalidDataException">An extension other than .npy.</exception>
    public static void Write(string path, ReadOnlySpan<Complex> values, int rows, int cols)
    {
        if (!Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"matrix file '{path}': a complex matrix can only be written as .npy");
        Npy.Write(path, values, [rows, cols]);
    }
}
