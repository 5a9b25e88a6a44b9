using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using PrecisionLS.Interop;
using Xunit;

namespace PrecisionLS.Tests.Interop;

/// <summary>The safetensors format: round trips, a file built byte by byte from the spec, and malformed files.</summary>
public class SafetensorsTests
{
    private static string TempFile() => Path.Combine(Path.GetTempPath(), "pls-st-" + Guid.NewGuid().ToString("N") + ".safetensors");

    // Values whose bits a careless writer would change: signed zero, subnormals, extremes, infinities, a NaN payload.
    private static readonly double[] Awkward =
    [
        1.0 / 3, -0.0, double.Epsilon, -double.MaxValue, double.PositiveInfinity, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234),
    ];

    [Fact]
    public void Round_trip_is_bit_identical_with_a_padded_spec_shaped_header()
    {
        string path = TempFile();
        try
        {
            var scalar = new[] { Math.PI };
            var empty = Array.Empty<double>();
            var ramp = Enumerable.Range(0, 12).Select(i => i * 0.1 - 0.55).ToArray();
            var meta = new Dictionary<string, string> { ["config"] = "model:\n  n_embd: 8\n", ["note"] = "ünïcode ✓" };
            long size = Safetensors.Write<double>(path,
                [new("awkward", [2, 3], Awkward), new("scalar", [], scalar), new("empty", [0, 4], empty), new("ramp.weight", [3, 1, 4], ramp)],
                "F64", meta);

            byte[] bytes = File.ReadAllBytes(path);
            Assert.Equal(size, bytes.Length);
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, n % 8);                                         // data start 8-byte aligned
            string headerText = Encoding.UTF8.GetString(bytes, 8, (int)n);
            Assert.StartsWith("{", headerText);
            string json = headerText.TrimEnd(' ');                            // padded with spaces, fewer than 8
            Assert.EndsWith("}", json);
            Assert.InRange(headerText.Length - json.Length, 0, 7);
            Assert.Contains("ünïcode ✓", json);                               // UTF-8 as it is, not \u-escaped

            // The header read independently, as the spec describes it.
            using var doc = JsonDocument.Parse(headerText);
            var root = doc.RootElement;
            Assert.Equal("ünïcode ✓", root.GetProperty("__metadata__").GetProperty("note").GetString());
            Assert.Equal(meta["config"], root.GetProperty("__metadata__").GetProperty("config").GetString());
            long expectedBegin = 0;
            foreach (var (name, shape, count) in new[] { ("awkward", new[] { 2, 3 }, 6), ("scalar", new int[0], 1), ("empty", new[] { 0, 4 }, 0), ("ramp.weight", new[] { 3, 1, 4 }, 12) })
            {
                var t = root.GetProperty(name);
                Assert.Equal("F64", t.GetProperty("dtype").GetString());
                Assert.Equal(shape, t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
                var offsets = t.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                Assert.Equal([expectedBegin, expectedBegin + 8L * count], offsets);    // in the order written, no gaps
                expectedBegin += 8L * count;
            }
            Assert.Equal(bytes.Length - 8 - (long)n, expectedBegin);
            // Raw little-endian doubles, right after the header.
            Assert.Equal(BitConverter.DoubleToInt64Bits(Awkward[5]), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 + (int)n + 40)));

            var file = Safetensors.Read(path);
            Assert.Equal(["awkward", "scalar", "empty", "ramp.weight"], file.Tensors.Select(t => t.Name));
            Assert.Equal(meta, file.Metadata);
            Assert.Equal(Awkward.Select(BitConverter.DoubleToInt64Bits), file.ReadDoubles("awkward").Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(scalar, file.ReadDoubles("scalar"));
            Assert.Empty(file.ReadDoubles("empty"));
            Assert.Equal(ramp, file.ReadDoubles("ramp.weight"));
            Assert.Equal([3L, 1, 4], file.Find("ramp.weight")!.Shape);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Float32_files_round_doubles_to_nearest_and_read_back_into_either_width()
    {
        string path = TempFile();
        try
        {
            double[] x = [0.1, 1.0 / 3, -2.5e-8, 1e30];
            Safetensors.Write<double>(path, [new("x", [4], x)], "F32");
            var file = Safetensors.Read(path);
            Assert.Equal("F32", file.Find("x")!.Dtype);
            Assert.Empty(file.Metadata);
            Assert.Equal(x.Select(v => (double)(float)v), file.ReadDoubles("x"));
            var f = new float[4];
            file.ReadInto<float>(file.Find("x")!, f);
            Assert.Equal(x.Select(v => (float)v), f);
            Assert.Equal(8 + BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(path)) + 16, new FileInfo(path).Length);

            // float32 values written as F64 widen exactly.
            Safetensors.Write<float>(path, [new("y", [2], new[] { 0.1f, -3.75f })], "F64");
            Assert.Equal([(double)0.1f, -3.75], Safetensors.Read(path).ReadDoubles("y"));
        }
        finally { File.Delete(path); }
    }

    // A file assembled by hand from the spec: header length, JSON in an order unlike the data's, raw bytes in hex.
    [Fact]
    public void A_file_built_byte_by_byte_from_the_spec_reads_correctly()
    {
        string header = ("{'w':{'dtype':'F32','shape':[2],'data_offsets':[16,24]},'__metadata__':{'format':'pt'},"
                      + "'v':{'dtype':'F64','shape':[1,2],'data_offsets':[0,16]},'h':{'dtype':'F16','shape':[],'data_offsets':[24,26]},"
                      + "'b':{'dtype':'BF16','shape':[1],'data_offsets':[26,28]},'i':{'dtype':'I64','shape':[1],'data_offsets':[28,36]}}").Replace('\'', '"');
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes((ulong)header.Length));            // little-endian on every .NET platform here
        Assert.True(BitConverter.IsLittleEndian);
        bytes.AddRange(Encoding.UTF8.GetBytes(header));                         // unpadded: readers must accept it
        bytes.AddRange(Convert.FromHexString("000000000000F03F" + "00000000000004C0")); // F64 1.0, -2.5
        bytes.AddRange(Convert.FromHexString("00000040" + "0000C0BF"));         // F32 2.0, -1.5
        bytes.AddRange(Convert.FromHexString("003C"));                           // F16 1.0
        bytes.AddRange(Convert.FromHexString("00C0"));                           // BF16 -2.0
        bytes.AddRange(Convert.FromHexString("0700000000000000"));               // I64 7

        var file = Safetensors.Parse(bytes.ToArray(), "handmade.safetensors");
        Assert.Equal(["w", "v", "h", "b", "i"], file.Tensors.Select(t => t.Name));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal([1.0, -2.5], file.ReadDoubles("v"));
        Assert.Equal([2.0, -1.5], file.ReadDoubles("w"));
        Assert.Equal([1.0], file.ReadDoubles("h"));
        Assert.Empty(file.Find("h")!.Shape);
        Assert.Equal([-2.0], file.ReadDoubles("b"));
        Assert.Equal(Convert.FromHexString("0700000000000000"), file.RawBytes(file.Find("i")!).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => file.ReadDoubles("i"));
        Assert.Contains("'i' is I64, not a floating-point dtype", e.Message);
    }

    // A valid two-tensor file as (header text, data bytes), for the malformed variants below.
    private static byte[] Build(string header, int dataBytes, long? declaredLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? h.Length));
        h.CopyTo(bytes, 8);
        return bytes;
    }

    private const string Good = """{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}}""";

    [Fact]
    public void The_good_file_of_the_malformed_cases_reads()
    {
        var file = Safetensors.Parse(Build(Good, 28), "good.safetensors");
        Assert.Equal(2, file.Tensors.Count);
    }

    public static TheoryData<string, byte[], string> Malformed() => new()
    {
        { "too short", new byte[5], "truncated: 5 bytes" },
        { "header cut off", Build(Good, 28)[..40], "truncated: the header length says" },
        { "data cut off", Build(Good, 20), "run past the data section (20 bytes; truncated file?)" },
        { "huge header length", Build(Good, 28, declaredLength: 1L << 40), "exceeds the format's limit" },
        { "not JSON", Build("{\"a\": {\"dtype\": \"F64\", \"shape\": [2", 0), "the header is not valid JSON" },
        { "not an object", Build("[1, 2, 3]", 0), "does not start with '{'" },
        { "unknown dtype", Build(Good.Replace("F32", "F12"), 28), "tensor 'b' has unknown dtype 'F12'" },
        { "offsets past the end", Build(Good.Replace("[16,28]", "[28,40]").Replace("[0,16]", "[0,16]"), 28), "'b' data_offsets [28, 40] run past the data section" },
        { "gap", Build(Good.Replace("[16,28]", "[20,32]"), 32), "'b' data_offsets [20, 32] leave a gap after byte 16" },
        { "overlap", Build(Good.Replace("[16,28]", "[12,24]"), 28), "'b' data_offsets [12, 24] overlap the tensor before it" },
        { "shape disagrees", Build(Good.Replace("\"shape\":[3]", "\"shape\":[4]"), 28), "'b' is F32 [4], 16 bytes, but its data_offsets [16, 28] span 12" },
        { "unused bytes", Build(Good, 36), "the data section holds 36 bytes but the tensors cover 28" },
        { "negative dim", Build(Good.Replace("\"shape\":[3]", "\"shape\":[-3]"), 28), "'b' shape must hold non-negative integers, got -3" },
        { "no offsets", Build("""{"a":{"dtype":"F64","shape":[0]}}""", 0), "'a' has no data_offsets list" },
        { "metadata not strings", Build("""{"__metadata__":{"step":3}}""", 0), "__metadata__ entry 'step' is not a string" },
        { "duplicate name", Build("""{"a":{"dtype":"F64","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F64","shape":[0],"data_offsets":[0,0]}}""", 0), "names 'a' twice" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_files_are_rejected_naming_the_file_and_the_problem(string what, byte[] bytes, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Parse(bytes, "bad.safetensors"));
        Assert.StartsWith("safetensors file 'bad.safetensors': ", e.Message);
        Assert.True(e.Message.Contains(problem, StringComparison.Ordinal), $"{what}: {e.Message}");
    }

    [Fact]
    public void A_missing_file_and_bad_writes_fail_clearly()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Safetensors.Read("/nonexistent/model.safetensors"));
        Assert.Contains("'/nonexistent/model.safetensors' does not exist", e.Message);
        string path = TempFile();
        Assert.Throws<ArgumentException>(() => Safetensors.Write<double>(path, [new("x", [2], new double[2])], "F16"));
        Assert.Throws<ArgumentException>(() => Safetensors.Write<double>(path, [new("x", [2], new double[3])], "F64"));
        Assert.Throws<ArgumentException>(() => Safetensors.Write<double>(path, [new("x", [1], new double[1]), new("x", [1], new double[1])], "F64"));
        Assert.False(File.Exists(path));
    }
}
