using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using PrecisionLS.Interop;
using Xunit;

namespace PrecisionLS.Tests.Interop;

/// <summary>The .npy reader and writer: round trips for every dtype, order and rank; files built byte by byte from
/// the format description; and malformed files, each refused with one message naming the file and the problem.</summary>
public class NpyTests
{
    // A .npy file by hand, following the format description: magic, version, little-endian header length, the dict
    // padded with spaces to make magic + version + length + header a multiple of 64, a '\n', then the data.
    internal static byte[] HandBuilt(string dict, byte[] data, int major = 1, bool pad = true)
    {
        int prefix = major == 1 ? 10 : 12;
        string header = dict;
        if (pad) { header = dict + new string(' ', (64 - (prefix + dict.Length + 1) % 64) % 64) + "\n"; }
        var headerBytes = major == 3 ? Encoding.UTF8.GetBytes(header) : Encoding.Latin1.GetBytes(header);
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        var len = new byte[major == 1 ? 2 : 4];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)headerBytes.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)headerBytes.Length);
        bytes.AddRange(len); bytes.AddRange(headerBytes); bytes.AddRange(data);
        return [.. bytes];
    }

    private static byte[] Doubles(params double[] v)
    {
        var b = new byte[8 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(8 * i), v[i]);
        return b;
    }

    [Fact]
    public void Written_files_follow_the_spec_byte_for_byte()
    {
        var bytes = Npy.Encode([1.0, 2, 3, 4, 5, 6], [2, 3]);
        // What np.save(f, np.arange(1., 7.).reshape(2, 3)) writes (NumPy 1.x and 2.x).
        const string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
        Assert.Equal(HandBuilt(dict, Doubles(1, 2, 3, 4, 5, 6)), bytes);
        Assert.Equal(128 + 48, bytes.Length);   // 10 + 60 + 1 header bytes padded to 128, then 6 doubles
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal((byte)'\n', bytes[10 + headerLength - 1]);
        Assert.Equal(new[] { 2, 3 }, Npy.Parse(bytes, "x").Shape);
    }

    public static TheoryData<int[]> Shapes => new() { Array.Empty<int>(), new[] { 5 }, new[] { 3, 4 }, new[] { 2, 3, 4 }, new[] { 0, 3 }, new[] { 1, 1 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_writable_dtype_and_both_orders_round_trip(int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var values = Enumerable.Range(0, n).Select(i => (double)(i * 3 - 7)).ToArray();   // integers, exact in every dtype
        foreach (var descr in Npy.WritableDtypes)
        foreach (bool fortran in new[] { false, true })
        {
            var a = Npy.Parse(Npy.Encode(values, shape, descr, fortran), "x");
            Assert.Equal(descr, a.Descr);
            Assert.Equal(shape, a.Shape);
            Assert.Equal(fortran, a.FortranOrder);
            Assert.Equal(values, a.Values);
        }
        var z = Enumerable.Range(0, n).Select(i => new Complex(i * 0.1, -i / 3.0)).ToArray();
        foreach (bool fortran in new[] { false, true })
        {
            var a = Npy.Parse(Npy.Encode(z, shape, fortran), "x");
            Assert.Equal("<c16", a.Descr);
            Assert.True(a.IsComplex);
            Assert.Equal(z, a.ComplexValues);
        }
    }

    [Fact]
    public void Doubles_round_trip_bit_for_bit_through_a_file()
    {
        var rng = new PrecisionLS.Numerics.Rng(9);
        var v = Enumerable.Range(0, 60).Select(_ => rng.NextGaussian() * 1e5).Append(double.NaN).Append(double.Epsilon).Append(-0.0).ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"pls-npy-{Guid.NewGuid():N}.npy");
        try
        {
            Npy.Write(path, v, [3, 21]);
            var a = Npy.Read(path);
            Assert.Equal(v.Select(BitConverter.DoubleToInt64Bits), a.Values!.Select(BitConverter.DoubleToInt64Bits));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Hand_built_files_of_every_version_dtype_and_order_read()
    {
        // Fortran order: a (2, 3) array [[1, 2, 3], [4, 5, 6]] stored column by column.
        var f = Npy.Parse(HandBuilt("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", Doubles(1, 4, 2, 5, 3, 6)), "f");
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, f.Values);
        Assert.True(f.FortranOrder);

        // Versions 2.0 and 3.0 (u32 length; 3.0 is UTF-8), key order and quoting as a person might write them.
        foreach (int major in new[] { 1, 2, 3 })
        {
            var a = Npy.Parse(HandBuilt("{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f8\"}", Doubles(0.5, -1, 2), major), "v" + major);
            Assert.Equal(new[] { 3 }, a.Shape);
            Assert.Equal(new[] { 0.5, -1, 2 }, a.Values);
        }

        var f4 = new byte[8]; BinaryPrimitives.WriteSingleLittleEndian(f4, 1.5f); BinaryPrimitives.WriteSingleLittleEndian(f4.AsSpan(4), -2.25f);
        Assert.Equal(new[] { 1.5, -2.25 }, Npy.Parse(HandBuilt("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4), "f4").Values);
        var i8 = new byte[16]; BinaryPrimitives.WriteInt64LittleEndian(i8, -3); BinaryPrimitives.WriteInt64LittleEndian(i8.AsSpan(8), 1L << 40);
        Assert.Equal(new[] { -3.0, 1L << 40 }, Npy.Parse(HandBuilt("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", i8), "i8").Values);
        var i4 = new byte[8]; BinaryPrimitives.WriteInt32LittleEndian(i4, 7); BinaryPrimitives.WriteInt32LittleEndian(i4.AsSpan(4), int.MinValue);
        Assert.Equal(new[] { 7.0, int.MinValue }, Npy.Parse(HandBuilt("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1), }", i4), "i4").Values);
        var be = new byte[8]; BinaryPrimitives.WriteDoubleBigEndian(be, Math.PI);
        Assert.Equal(new[] { Math.PI }, Npy.Parse(HandBuilt("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", be), "be").Values);
        var c16 = Doubles(1, 2, 3, -4);
        Assert.Equal(new[] { new Complex(1, 2), new Complex(3, -4) },
                     Npy.Parse(HandBuilt("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", c16), "c16").ComplexValues);
        // A 0-d array, a Python 2 header (long integers with an L suffix) and an unpadded header without '\n'.
        Assert.Equal(new[] { 42.0 }, Npy.Parse(HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", Doubles(42)), "0d").Values);
        Assert.Equal(new[] { 1, 2 }, Npy.Parse(HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (1L, 2L), }", Doubles(1, 2)), "py2").Shape);
        Assert.Equal(new[] { 9.0 }, Npy.Parse(HandBuilt("{'descr':'<f8','fortran_order':False,'shape':(1,)}", Doubles(9), pad: false), "bare").Values);
    }

    public static TheoryData<byte[], string> Malformed => new()
    {
        { "PK\x03\x04 not npy at all"u8.ToArray(), "not a .npy file (it does not start with the \\x93NUMPY magic)" },
        { new byte[] { 0x93, (byte)'N', (byte)'U' }, "too short to be a .npy file (3 bytes)" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", Doubles(1), major: 4), "unsupported format version 4.0; accepted: 1.0, 2.0, 3.0" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", Doubles(1))[..40], "header length 118 runs past the end of the file (40 bytes)" },
        { HandBuilt("['descr', '<f8']", []), "header is not a Python dict literal (expected '{' at position 0)" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3}", []), "header is not a Python dict literal (expected ',' or ')' at position" },
        { HandBuilt("{'descr': '<f8', 'shape': (1,), }", Doubles(1)), "header lacks the key 'fortran_order'" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}", Doubles(1)), "header has unexpected key 'extra'" },
        { HandBuilt("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new byte[12]), "dtype [('a', '<f8'), ('b', '<i4')] is structured" },
        { HandBuilt("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", new byte[20]), "dtype '<U5' is not supported; accepted: <f8, <f4, <c16, <c8, <i8, <i4 (or big-endian '>')" },
        { HandBuilt("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", new byte[1]), "dtype '|b1' is not supported" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", Doubles(1)), "'fortran_order' must be True or False, not 0" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': 3, }", Doubles(1)), "'shape' must be a tuple of integers, not 3" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -1), }", Doubles(1)), "shape (2, -1) has a negative dimension" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", Doubles(1, 2, 3, 4, 5)), "data section holds 40 bytes, shape (2, 3) of <f8 needs 48 (truncated file?)" },
        { HandBuilt("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", Doubles(1, 2, 3)), "8 bytes follow the data of shape (2,) of <f8" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_refused_naming_the_file_and_the_problem(byte[] bytes, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.Parse(bytes, "bad.npy"));
        Assert.StartsWith("npy file 'bad.npy': ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_and_unwritable_values_are_refused()
    {
        Assert.Contains("npy file '/nonexistent/M.npy' does not exist", Assert.Throws<FileNotFoundException>(() => Npy.Read("/nonexistent/M.npy")).Message);
        Assert.Contains("value 1.5 at 0 is not an int32", Assert.Throws<ArgumentException>(() => Npy.Encode([1.5], [1], "<i4")).Message);
        Assert.Contains("dtype '<f2' cannot be written", Assert.Throws<ArgumentException>(() => Npy.Encode([1.0], [1], "<f2")).Message);
        Assert.Contains("3 values do not fill shape (2, 2)", Assert.Throws<ArgumentException>(() => Npy.Encode([1.0, 2, 3], [2, 2])).Message);
    }

    [Fact]
    public void Npz_archives_hold_named_arrays()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pls-npz-{Guid.NewGuid():N}.npz");
        try
        {
            Npz.Write(path, [("w1", Npy.Encode([1.0, 2, 3, 4], [1, 2, 2])), ("w2", Npy.Encode([new Complex(0, 1)], [1, 1, 1]))]);
            var arrays = Npz.Read(path);
            Assert.Equal(["w1", "w2"], arrays.Keys.Order());
            Assert.Equal(new[] { 1, 2, 2 }, arrays["w1"].Shape);
            Assert.Equal(new Complex(0, 1), arrays["w2"].ComplexValues![0]);
            File.WriteAllText(path, "not a zip");
            Assert.Contains("not a zip archive", Assert.Throws<InvalidDataException>(() => Npz.Read(path)).Message);
        }
        finally { File.Delete(path); }
    }
}
