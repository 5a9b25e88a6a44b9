using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using PrecisionLS.Training;

namespace PrecisionLS.Interop;

/// <summary>
/// NumPy's .npy format (what <c>np.save</c> writes, <c>np.load</c> reads): the magic <c>\x93NUMPY</c>, a major and
/// minor version byte (1.0, 2.0 or 3.0), the header length (little-endian u16 for 1.0, u32 for 2.0 and 3.0), the
/// header — a Python dict literal <c>{'descr': '&lt;f8', 'fortran_order': False, 'shape': (3, 4), }</c>, Latin-1
/// (UTF-8 for 3.0), padded with spaces and ended by '\n' so the data start on a 64-byte boundary — then the raw values.
/// </summary>
/// <remarks>
/// Hand-written (no maintained .NET reader covers it in a few lines). <see cref="Read"/> accepts the dtypes
/// f8, f4, c16, c8, i8 and i4 in either byte order ('&lt;' or '&gt;'), C or Fortran order, any shape; integers are
/// read as double. Anything else — a wrong magic, an unknown version, a header that is not such a dict or lacks a
/// key, a structured or unsupported dtype, too few or too many data bytes — is an <see cref="InvalidDataException"/>
/// naming the file and the problem. <see cref="Write(string, ReadOnlySpan{double}, int[], string, bool)"/> writes
/// version 1.0 (2.0 when the header outgrows a u16), little-endian, as NumPy itself would.
/// </remarks>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    /// <summary>The data section starts on a multiple of this (NumPy's ARRAY_ALIGN).</summary>
    public const int Alignment = 64;

    /// <summary>Dtypes <see cref="Read"/> accepts (little-endian spelling; '&gt;' big-endian variants too).</summary>
    public static readonly string[] ReadableDtypes = ["<f8", "<f4", "<c16", "<c8", "<i8", "<i4"];
    /// <summary>Dtypes the real-valued writer writes (complex values are written as &lt;c16).</summary>
    public static readonly string[] WritableDtypes = ["<f8", "<f4", "<i8", "<i4"];

    /// <summary>Reads a .npy file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file breaks the format or holds an unsupported dtype.</exception>
    public static NpyArray Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"npy file '{path}' does not exist", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a .npy file; <paramref name="origin"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes break the format or hold an unsupported dtype.</exception>
    public static NpyArray Parse(ReadOnlySpan<byte> bytes, string origin)
    {
        InvalidDataException Bad(string problem) => new($"npy file '{origin}': {problem}");

        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw Bad(bytes.Length < 6 ? $"too short to be a .npy file ({bytes.Length} bytes)" : "not a .npy file (it does not start with the \\x93NUMPY magic)");
        int major = bytes[6], minor = bytes[7];
        if (major is < 1 or > 3 || minor != 0) throw Bad($"unsupported format version {major}.{minor}; accepted: 1.0, 2.0, 3.0");
        int lengthBytes = major == 1 ? 2 : 4;
        if (bytes.Length < 8 + lengthBytes) throw Bad($"too short for a version {major}.0 header length ({bytes.Length} bytes)");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        long dataStart = 8 + lengthBytes + headerLength;
        if (dataStart > bytes.Length) throw Bad($"header length {headerLength} runs past the end of the file ({bytes.Length} bytes)");
        var headerBytes = bytes[(8 + lengthBytes)..(int)dataStart];
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);

        Dictionary<string, object?> dict;
        try { dict = PythonLiteral.ParseDict(header); }
        catch (FormatException e) { throw Bad($"header is not a Python dict literal ({e.Message}): {Abbreviate(header)}"); }
        foreach (var key in dict.Keys)
            if (key is not ("descr" or "fortran_order" or "shape")) throw Bad($"header has unexpected key '{key}'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'");
        foreach (var key in new[] { "descr", "fortran_order", "shape" })
            if (!dict.ContainsKey(key)) throw Bad($"header lacks the key '{key}'");

        if (dict["descr"] is not string descr)
            throw Bad($"dtype {PythonLiteral.Format(dict["descr"])} is structured; accepted: plain {string.Join(", ", ReadableDtypes)} (or big-endian '>')");
        if (dict["fortran_order"] is not bool fortran) throw Bad($"'fortran_order' must be True or False, not {PythonLiteral.Format(dict["fortran_order"])}");
        if (dict["shape"] is not PythonLiteral.Tuple dims || dims.Items.Any(d => d is not long))
            throw Bad($"'shape' must be a tuple of integers, not {PythonLiteral.Format(dict["shape"])}");
        var shapeLong = dims.Items.Cast<long>().ToArray();
        if (shapeLong.Any(d => d < 0)) throw Bad($"shape {PythonLiteral.Format(dims)} has a negative dimension");
        long count = 1;
        foreach (long d in shapeLong) { count *= d; if (count > Array.MaxLength / 16) throw Bad($"shape {PythonLiteral.Format(dims)} is too large to read"); }
        int[] shape = shapeLong.Select(d => (int)d).ToArray();

        var (bigEndian, kind, size) = ParseDescr(descr) ?? throw Bad($"dtype '{descr}' is not supported; accepted: {string.Join(", ", ReadableDtypes)} (or big-endian '>')");
        long need = count * size, have = bytes.Length - dataStart;
        if (have != need)
            throw Bad(have < need ? $"data section holds {have} bytes, shape {ShapeText(shape)} of {descr} needs {need} (truncated file?)"
                                  : $"{have - need} bytes follow the data of shape {ShapeText(shape)} of {descr}");
        var data = bytes[(int)dataStart..];

        if (kind == 'c')
        {
            var values = new Complex[count];
            for (int i = 0; i < count; i++)
                values[i] = new Complex(ReadFloat(data[(i * size)..], size / 2, bigEndian), ReadFloat(data[(i * size + size / 2)..], size / 2, bigEndian));
            return new NpyArray(descr, shape, fortran ? ToCOrder(values, shape) : values, fortran);
        }
        else
        {
            var values = new double[count];
            for (int i = 0; i < count; i++)
                values[i] = kind == 'f' ? ReadFloat(data[(i * size)..], size, bigEndian) : ReadInt(data[(i * size)..], size, bigEndian);
            return new NpyArray(descr, shape, fortran ? ToCOrder(values, shape) : values, fortran);
        }
    }

    /// <summary>Writes a real array (given in C order) as a .npy file with dtype <paramref name="descr"/>
    /// (one of <see cref="WritableDtypes"/>), atomically.</summary>
    /// <exception cref="ArgumentException">Shape and length disagree, an unknown dtype, or a value an integer dtype cannot hold.</exception>
    public static void Write(string path, ReadOnlySpan<double> values, int[] shape, string descr = "<f8", bool fortranOrder = false) =>
        AtomicFile.WriteAllBytes(path, Encode(values, shape, descr, fortranOrder));

    /// <summary>Writes a complex array (given in C order) as a &lt;c16 .npy file, atomically.</summary>
    public static void Write(string path, ReadOnlySpan<Complex> values, int[] shape, bool fortranOrder = false) =>
        AtomicFile.WriteAllBytes(path, Encode(values, shape, fortranOrder));

    /// <summary>The bytes of a .npy file holding a real array given in C order (stored in Fortran order when asked).</summary>
    public static byte[] Encode(ReadOnlySpan<double> values, int[] shape, string descr = "<f8", bool fortranOrder = false)
    {
        CheckShape(values.Length, shape);
        if (Array.IndexOf(WritableDtypes, descr) < 0)
            throw new ArgumentException($"dtype '{descr}' cannot be written; accepted: {string.Join(", ", WritableDtypes)}", nameof(descr));
        var stored = fortranOrder ? ToFortranOrder(values.ToArray(), shape) : values.ToArray();
        int size = descr[2] - '0';
        var bytes = Header(descr, fortranOrder, shape, (long)stored.Length * size, out int offset);
        for (int i = 0; i < stored.Length; i++, offset += size)
        {
            double v = stored[i];
            var dst = bytes.AsSpan(offset);
            switch (descr)
            {
                case "<f8": BinaryPrimitives.WriteDoubleLittleEndian(dst, v); break;
                case "<f4": BinaryPrimitives.WriteSingleLittleEndian(dst, (float)v); break;
                case "<i8":
                    if (v != Math.Floor(v) || v < -9.2233720368547758e18 || v >= 9.2233720368547758e18) throw new ArgumentException($"value {v.ToString("R", CultureInfo.InvariantCulture)} at {i} is not an int64");
                    BinaryPrimitives.WriteInt64LittleEndian(dst, (long)v); break;
                default:
                    if (v != Math.Floor(v) || v < int.MinValue || v > int.MaxValue) throw new ArgumentException($"value {v.ToString("R", CultureInfo.InvariantCulture)} at {i} is not an int32");
                    BinaryPrimitives.WriteInt32LittleEndian(dst, (int)v); break;
            }
        }
        return bytes;
    }

    /// <summary>The bytes of a &lt;c16 .npy file holding a complex array given in C order.</summary>
    public static byte[] Encode(ReadOnlySpan<Complex> values, int[] shape, bool fortranOrder = false)
    {
        CheckShape(values.Length, shape);
        var stored = fortranOrder ? ToFortranOrder(values.ToArray(), shape) : values.ToArray();
        var bytes = Header("<c16", fortranOrder, shape, (long)stored.Length * 16, out int offset);
        foreach (var z in stored)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(offset), z.Real);
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(offset + 8), z.Imaginary);
            offset += 16;
        }
        return bytes;
    }

    /// <summary>A shape as NumPy prints it: "(3, 4)", "(5,)", "()".</summary>
    public static string ShapeText(IReadOnlyList<int> shape) =>
        shape.Count == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";

    // Magic, version, length, then the dict padded with spaces and '\n' to a multiple of 64 bytes; the data follow.
    private static byte[] Header(string descr, bool fortranOrder, int[] shape, long dataBytes, out int dataOffset)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {ShapeText(shape)}, }}";
        static int Padded(int prefix, int length) => (prefix + length + 1 + Alignment - 1) / Alignment * Alignment;
        int version = Padded(10, dict.Length) - 10 <= ushort.MaxValue ? 1 : 2;   // 2.0 only when a u16 cannot hold the length
        int prefix = version == 1 ? 10 : 12;
        int total = Padded(prefix, dict.Length);
        string header = dict.PadRight(total - prefix - 1) + "\n";
        if (total + dataBytes > Array.MaxLength) throw new ArgumentException("array too large for one .npy file in memory");
        var bytes = new byte[total + dataBytes];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)version; bytes[7] = 0;
        if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(prefix));
        dataOffset = total;
        return bytes;
    }

    private static void CheckShape(int length, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long size = 1;
        foreach (int d in shape) size *= d >= 0 ? d : throw new ArgumentException($"negative dimension in shape {ShapeText(shape)}", nameof(shape));
        if (size != length) throw new ArgumentException($"{length} values do not fill shape {ShapeText(shape)}", nameof(shape));
    }

    // "<f8" -> (big-endian?, kind, bytes per value), or null when not one of the readable dtypes.
    private static (bool BigEndian, char Kind, int Size)? ParseDescr(string descr)
    {
        if (descr.Length < 3 || descr[0] is not ('<' or '>')) return null;
        string little = "<" + descr[1..];
        if (Array.IndexOf(ReadableDtypes, little) < 0) return null;
        return (descr[0] == '>', descr[1], int.Parse(descr[2..], CultureInfo.InvariantCulture));
    }

    private static double ReadFloat(ReadOnlySpan<byte> b, int size, bool bigEndian) => (size, bigEndian) switch
    {
        (8, false) => BinaryPrimitives.ReadDoubleLittleEndian(b),
        (8, true) => BinaryPrimitives.ReadDoubleBigEndian(b),
        (4, false) => BinaryPrimitives.ReadSingleLittleEndian(b),
        _ => BinaryPrimitives.ReadSingleBigEndian(b),
    };

    private static double ReadInt(ReadOnlySpan<byte> b, int size, bool bigEndian) => (size, bigEndian) switch
    {
        (8, false) => BinaryPrimitives.ReadInt64LittleEndian(b),
        (8, true) => BinaryPrimitives.ReadInt64BigEndian(b),
        (4, false) => BinaryPrimitives.ReadInt32LittleEndian(b),
        _ => BinaryPrimitives.ReadInt32BigEndian(b),
    };

    // Fortran order stores index (i0, …, i_{d-1}) at i0 + n0·(i1 + n1·(…)): the C order of the reversed shape.
    private static T[] ToCOrder<T>(T[] fortran, int[] shape) => Permute(fortran, shape, toC: true);
    private static T[] ToFortranOrder<T>(T[] c, int[] shape) => Permute(c, shape, toC: false);

    private static T[] Permute<T>(T[] src, int[] shape, bool toC)
    {
        var dst = new T[src.Length];
        if (src.Length == 0) return dst;
        int d = shape.Length;
        var index = new int[d];
        var fStride = new long[d];
        for (int a = 0, s = 1; a < d; s *= shape[a], a++) fStride[a] = s;
        for (int c = 0; c < src.Length; c++)
        {
            long f = 0;
            for (int a = 0; a < d; a++) f += index[a] * fStride[a];
            if (toC) dst[c] = src[f]; else dst[f] = src[c];
            for (int a = d - 1; a >= 0; a--)   // advance the C-order (last index fastest) multi-index
            {
                if (++index[a] < shape[a]) break;
                index[a] = 0;
            }
        }
        return dst;
    }

    private static string Abbreviate(string s)
    {
        s = s.TrimEnd();
        return s.Length <= 80 ? s : s[..77] + "...";
    }
}
