using System.Globalization;

namespace PrecisionLS.Interop;

/// <summary>
/// A real matrix in a text file, one row per line: values separated by commas, or by whitespace when a line has no
/// comma (what <c>np.savetxt</c> writes with or without <c>delimiter=","</c>). Blank lines and lines starting with
/// '#' are skipped; the first remaining line is skipped as a header when any of its fields is not a number.
/// nan and inf (any case, signed) are read as such.
/// </summary>
public static class CsvMatrix
{
    /// <summary>Reads the matrix as a 2-D <see cref="NpyArray"/> of dtype &lt;f8.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">No numeric row, a ragged row, or a field that is not a number; the
    /// message names the file and the line.</exception>
    public static NpyArray Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"matrix file '{path}' does not exist", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses matrix text; <paramref name="origin"/> names it in error messages.</summary>
    public static NpyArray Parse(string text, string origin)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new List<double>();
        int cols = -1, rows = 0, firstLine = 0;
        bool first = true;
        string[] lines = text.Split('\n');
        for (int li = 0; li < lines.Length; li++)
        {
            string line = lines[li].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            string[] fields = line.Contains(',')
                ? line.Split(',').Select(f => f.Trim()).ToArray()
                : line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var parsed = new double[fields.Length];
            int bad = -1;
            for (int j = 0; j < fields.Length && bad < 0; j++)
                if (!TryParse(fields[j], out parsed[j])) bad = j;
            if (bad >= 0)
            {
                if (first) { first = false; continue; }   // a header line
                throw new InvalidDataException($"matrix file '{origin}': line {li + 1}, column {bad + 1}: " +
                    (fields[bad].Length == 0 ? "empty value" : $"'{fields[bad]}' is not a number"));
            }
            first = false;
            if (cols < 0) { cols = fields.Length; firstLine = li + 1; }
            else if (fields.Length != cols)
                throw new InvalidDataException($"matrix file '{origin}': line {li + 1} has {fields.Length} values, but line {firstLine} (the first row) has {cols}");
            values.AddRange(parsed);
            rows++;
        }
        if (rows == 0) throw new InvalidDataException($"matrix file '{origin}': no numeric rows");
        return new NpyArray("<f8", [rows, cols], values.ToArray());
    }

    private static bool TryParse(string s, out double v)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return true;
        string t = s.TrimStart('+');
        bool neg = t.StartsWith('-');
        switch ((neg ? t[1..] : t).ToLowerInvariant())
        {
            case "nan": v = double.NaN; return true;
            case "inf" or "infinity": v = neg ? double.NegativeInfinity : double.PositiveInfinity; return true;
            default: v = 0; return false;
        }
    }
}
