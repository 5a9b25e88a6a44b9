using System.IO.Compression;
using PrecisionLS.Training;

namespace PrecisionLS.Interop;

/// <summary>
/// NumPy's .npz format (<c>np.savez</c>): a zip archive holding one .npy file per array, the entry "w1.npy" being
/// the array <c>np.load(path)["w1"]</c>. Entries are stored uncompressed, as <c>np.savez</c> does.
/// </summary>
public static class Npz
{
    /// <summary>Writes named .npy payloads (from <see cref="Npy.Encode(ReadOnlySpan{double}, int[], string, bool)"/>) as an .npz, atomically.</summary>
    public static void Write(string path, IEnumerable<(string Name, byte[] Npy)> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        var list = arrays.ToList();
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, npy) in list)
            {
                var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                using var s = entry.Open();
                s.Write(npy);
            }
        });
    }

    /// <summary>Reads every array of an .npz, by name (the entry name without ".npy").</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not a zip archive, or an entry is not a valid .npy.</exception>
    public static Dictionary<string, NpyArray> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"npz file '{path}' does not exist", path);
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException) { throw new InvalidDataException($"npz file '{path}': not a zip archive"); }
        using (zip)
            foreach (var entry in zip.Entries)
            {
                using var s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                string name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                result[name] = Npy.Parse(ms.ToArray(), $"{path}:{entry.FullName}");
            }
        return result;
    }
}
