using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PrecisionLS.Training;

namespace PrecisionLS.Interop;

/// <summary>One tensor to write: its name, shape (row-major, last index fastest) and values.</summary>
public readonly record struct SafetensorsTensor<T>(string Name, int[] Shape, ReadOnlyMemory<T> Data)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A tensor's header entry: name, dtype as the file spells it ("F64"), shape, and its byte range
/// [<paramref name="Begin"/>, <paramref name="End"/>) relative to the start of the data section.</summary>
public sealed record SafetensorsTensorInfo(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    /// <summary>Number of values (the product of the shape; 1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>The shape as "[2, 3]".</summary>
    public string ShapeText => Safetensors.ShapeText(Shape);
}

/// <summary>
/// The safetensors format (Hugging Face's file format for tensors, what PyTorch's <c>safetensors.torch.save_file</c>
/// writes): an 8-byte little-endian u64 header length N; N bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F64", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}</c>,
/// padded with spaces; then the tensors' raw little-endian bytes, row-major, their offsets relative to the start of
/// the data section, back to back with no gap or overlap.
/// </summary>
/// <remarks>
/// Hand-written (no maintained .NET package exists), and strict as the reference reader (the Rust crate) is:
/// <see cref="Read"/> rejects a header length past the end of the file, a header that is not a JSON object, an
/// unknown dtype, a shape whose byte size disagrees with its offsets, and offsets that leave gaps, overlap or run
/// past the file, each with an <see cref="InvalidDataException"/> naming the file and the problem.
/// Values can be read as numbers from F64, F32, F16 and BF16 tensors; <see cref="Write{T}"/> writes F64 or F32.
/// Writers pad the header so the data section starts on an 8-byte boundary (the reference writer does the same).
/// </remarks>
public static class Safetensors
{
    /// <summary>The header key that holds free-form string metadata.</summary>
    public const string MetadataKey = "__metadata__";
    /// <summary>Largest header the reference reader accepts (100 MB); anything longer is refused unread.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    // Every dtype of the format that has a whole number of bytes per value, with that number.
    private static readonly Dictionary<string, int> ElementBytes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["U16"] = 2, ["I16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["U32"] = 4, ["I32"] = 4, ["F32"] = 4,
        ["U64"] = 8, ["I64"] = 8, ["F64"] = 8,
    };

    /// <summary>Dtypes whose values <see cref="SafetensorsFile.ReadInto{T}"/> converts to numbers.</summary>
    public static readonly string[] NumericDtypes = ["F64", "F32", "F16", "BF16"];
    /// <summary>Dtypes <see cref="Write{T}"/> writes.</summary>
    public static readonly string[] WritableDtypes = ["F64", "F32"];

    /// <summary>Bytes per value of a dtype of the format, or 0 when the dtype is unknown.</summary>
    public static int BytesPerElement(string dtype) => ElementBytes.GetValueOrDefault(dtype);

    /// <summary>"F64" for float64, "F32" for float32 (the names of training.dtype); null for anything else.</summary>
    public static string? DtypeOf(string name) => name switch { "float64" => "F64", "float32" => "F32", _ => null };

    /// <summary>Reads and validates a whole file (the data stay in memory; models here are at most ~100 MB).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file breaks the format; the message names the file and the problem.</exception>
    public static SafetensorsFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file '{path}' does not exist", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Validates the bytes of a safetensors file; <paramref name="origin"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The bytes break the format.</exception>
    public static SafetensorsFile Parse(byte[] bytes, string origin)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        InvalidDataException Bad(string problem) => new($"safetensors file '{origin}': {problem}");

        if (bytes.Length < 8) throw Bad($"truncated: {bytes.Length} bytes, too short for the 8-byte header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > MaxHeaderBytes) throw Bad($"header length {n} exceeds the format's limit of {MaxHeaderBytes} bytes (not a safetensors file?)");
        if ((long)n > bytes.Length - 8) throw Bad($"truncated: the header length says {n} bytes, but only {bytes.Length - 8} follow");
        int headerLength = (int)n;
        var header = bytes.AsSpan(8, headerLength);
        if (headerLength == 0 || header[0] != (byte)'{') throw Bad("the header does not start with '{' (not a safetensors file?)");

        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(8, headerLength)); }
        catch (JsonException e) { throw Bad($"the header is not valid JSON: {e.Message}"); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("the header is not a JSON object");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensorInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (!seen.Add(entry.Name)) throw Bad($"the header names '{entry.Name}' twice");
            if (entry.Name == MetadataKey)
            {
                if (entry.Value.ValueKind != JsonValueKind.Object) throw Bad($"{MetadataKey} must be an object of strings");
                foreach (var m in entry.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String) throw Bad($"{MetadataKey} entry '{m.Name}' is not a string");
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            tensors.Add(TensorInfo(entry, Bad));
        }

        // The data section must be covered exactly: sorted by offsets, each tensor starts where the last ended.
        long dataLength = bytes.Length - 8L - headerLength;
        long end = 0;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.End > dataLength)
                throw Bad($"tensor '{t.Name}' data_offsets [{t.Begin}, {t.End}] run past the data section ({dataLength} bytes; truncated file?)");
            if (t.Begin != end)
                throw Bad(t.Begin > end ? $"tensor '{t.Name}' data_offsets [{t.Begin}, {t.End}] leave a gap after byte {end} of the data section"
                                        : $"tensor '{t.Name}' data_offsets [{t.Begin}, {t.End}] overlap the tensor before it (which ends at byte {end})");
            end = t.End;
        }
        if (end != dataLength) throw Bad($"the data section holds {dataLength} bytes but the tensors cover {end}");
        return new SafetensorsFile(origin, tensors, metadata, bytes, 8 + headerLength);
    }

    // One tensor's header entry, fully checked (dtype known, shape and offsets non-negative integers that agree).
    private static SafetensorsTensorInfo TensorInfo(JsonProperty entry, Func<string, InvalidDataException> bad)
    {
        string name = entry.Name;
        var v = entry.Value;
        if (v.ValueKind != JsonValueKind.Object) throw bad($"tensor '{name}' must be an object with dtype, shape and data_offsets");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw bad($"tensor '{name}' has no dtype string");
        string dtype = dt.GetString()!;
        int size = BytesPerElement(dtype);
        if (size == 0) throw bad($"tensor '{name}' has unknown dtype '{dtype}'; known: {string.Join(", ", ElementBytes.Keys)}");
        long[] shape = Integers(v, "shape", name, bad);
        long[] offsets = Integers(v, "data_offsets", name, bad);
        if (offsets.Length != 2) throw bad($"tensor '{name}' data_offsets must be [begin, end], got {offsets.Length} numbers");
        var info = new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
        if (info.End < info.Begin) throw bad($"tensor '{name}' data_offsets [{info.Begin}, {info.End}] end before they begin");
        long bytes;
        try { bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * size); }
        catch (OverflowException) { throw bad($"tensor '{name}' shape {ShapeText(shape)} is too large"); }
        if (bytes != info.End - info.Begin)
            throw bad($"tensor '{name}' is {dtype} {ShapeText(shape)}, {bytes} bytes, but its data_offsets [{info.Begin}, {info.End}] span {info.End - info.Begin}");
        return info;
    }

    private static long[] Integers(JsonElement v, string key, string name, Func<string, InvalidDataException> bad)
    {
        if (!v.TryGetProperty(key, out var a) || a.ValueKind != JsonValueKind.Array) throw bad($"tensor '{name}' has no {key} list");
        var result = new long[a.GetArrayLength()];
        int i = 0;
        foreach (var e in a.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long x) || x < 0)
                throw bad($"tensor '{name}' {key} must hold non-negative integers, got {e.GetRawText()}");
            result[i++] = x;
        }
        return result;
    }

    /// <summary>
    /// Writes tensors, in the order given, as <paramref name="dtype"/> ("F64" or "F32"), through <see cref="AtomicFile"/>
    /// (a crash never leaves a torn file). Values are converted from <typeparamref name="T"/> (float64 to F32 rounds to
    /// nearest). Returns the file's size in bytes.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown dtype, a duplicate or reserved name, or data that do not match a shape.</exception>
    public static long Write<T>(string path, IReadOnlyList<SafetensorsTensor<T>> tensors, string dtype,
        IReadOnlyDictionary<string, string>? metadata = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        byte[] header = Header(tensors, dtype, metadata, out long dataBytes);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            var buffer = new byte[1 << 16];
            foreach (var t in tensors) WriteValues(stream, t.Data.Span, dtype, buffer);
        });
        return 8 + header.Length + dataBytes;
    }

    // The JSON header, spaces appended so that 8 + its length is a multiple of 8.
    private static byte[] Header<T>(IReadOnlyList<SafetensorsTensor<T>> tensors, string dtype, IReadOnlyDictionary<string, string>? metadata,
        out long dataBytes) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Array.IndexOf(WritableDtypes, dtype) < 0)
            throw new ArgumentException($"cannot write dtype '{dtype}'; accepted: {string.Join(", ", WritableDtypes)}", nameof(dtype));
        int size = BytesPerElement(dtype);
        var json = new MemoryStream();
        // Relaxed escaping: metadata (a YAML config) stays readable UTF-8; the header is never embedded in HTML.
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var t in tensors)
            {
                if (t.Name == MetadataKey || !names.Add(t.Name)) throw new ArgumentException($"tensor name '{t.Name}' is a duplicate or reserved", nameof(tensors));
                if (t.Shape.Any(s => s < 0)) throw new ArgumentException($"tensor '{t.Name}' has a negative dimension {ShapeText(t.Shape)}", nameof(tensors));
                long count = t.Shape.Aggregate(1L, (a, b) => a * b);
                if (count != t.Data.Length)
                    throw new ArgumentException($"tensor '{t.Name}' has shape {ShapeText(t.Shape)} ({count} values) but {t.Data.Length} values", nameof(tensors));
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int s in t.Shape) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset += count * size);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            dataBytes = offset;
        }
        int pad = (int)((8 - json.Length % 8) % 8);
        for (int i = 0; i < pad; i++) json.WriteByte((byte)' ');
        return json.ToArray();
    }

    private static void WriteValues<T>(Stream stream, ReadOnlySpan<T> values, string dtype, byte[] buffer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The fast path: the values already are the file's bytes (little-endian machine, same width).
        if (BitConverter.IsLittleEndian && ((dtype == "F64" && typeof(T) == typeof(double)) || (dtype == "F32" && typeof(T) == typeof(float))))
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        int size = BytesPerElement(dtype), chunk = buffer.Length / size;
        for (int start = 0; start < values.Length; start += chunk)
        {
            int count = Math.Min(chunk, values.Length - start);
            for (int i = 0; i < count; i++)
            {
                var dst = buffer.AsSpan(i * size, size);
                if (dtype == "F64") BinaryPrimitives.WriteDoubleLittleEndian(dst, double.CreateTruncating(values[start + i]));
                else BinaryPrimitives.WriteSingleLittleEndian(dst, float.CreateTruncating(values[start + i]));
            }
            stream.Write(buffer, 0, count * size);
        }
    }

    /// <summary>A shape as "[2, 3]" ("[]" for a scalar).</summary>
    public static string ShapeText(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
    /// <inheritdoc cref="ShapeText(IEnumerable{long})"/>
    public static string ShapeText(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>A validated safetensors file held in memory: its tensors in header order, metadata and data.</summary>
public sealed class SafetensorsFile
{
    private readonly byte[] _bytes;
    private readonly int _dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    internal SafetensorsFile(string origin, List<SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata, byte[] bytes, int dataStart)
    {
        Origin = origin; Tensors = tensors; Metadata = metadata; _bytes = bytes; _dataStart = dataStart;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path (or description) the file was read from, for messages.</summary>
    public string Origin { get; }
    /// <summary>Tensors in the order the header lists them.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }
    /// <summary>The header's __metadata__ (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public SafetensorsTensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>A tensor's raw little-endian bytes.</summary>
    public ReadOnlySpan<byte> RawBytes(SafetensorsTensorInfo tensor) =>
        _bytes.AsSpan(_dataStart + (int)tensor.Begin, (int)(tensor.End - tensor.Begin));

    /// <summary>A tensor's values as float64 (exact from F64, F32, F16 and BF16).</summary>
    public double[] ReadDoubles(string name)
    {
        var t = Find(name) ?? throw new KeyNotFoundException($"safetensors file '{Origin}' has no tensor '{name}'");
        var values = new double[t.ElementCount];
        ReadInto<double>(t, values);
        return values;
    }

    /// <summary>
    /// Converts a tensor's values into <paramref name="destination"/> (exactly its element count): widening is exact;
    /// F64 into float32 rounds to nearest (a finite value beyond float32's range becomes infinite, which the caller
    /// can check).
    /// </summary>
    /// <exception cref="InvalidDataException">The dtype is not one of <see cref="Safetensors.NumericDtypes"/>.</exception>
    public void ReadInto<T>(SafetensorsTensorInfo tensor, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (destination.Length != tensor.ElementCount)
            throw new ArgumentException($"tensor '{tensor.Name}' holds {tensor.ElementCount} values, the destination {destination.Length}", nameof(destination));
        var src = RawBytes(tensor);
        switch (tensor.Dtype)
        {
            case "F64" when typeof(T) == typeof(double) && BitConverter.IsLittleEndian:
                src.CopyTo(MemoryMarshal.AsBytes(destination));
                break;
            case "F32" when typeof(T) == typeof(float) && BitConverter.IsLittleEndian:
                src.CopyTo(MemoryMarshal.AsBytes(destination));
                break;
            case "F64":
                for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]));
                break;
            case "F32":
                for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]));
                break;
            case "F16":
                for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating((double)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]));
                break;
            case "BF16":   // the upper half of a float32
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = T.CreateTruncating(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16));
                break;
            default:
                throw new InvalidDataException($"safetensors file '{Origin}': tensor '{tensor.Name}' is {tensor.Dtype}, not a floating-point dtype " +
                                               $"({string.Join(", ", Safetensors.NumericDtypes)})");
        }
    }
}
