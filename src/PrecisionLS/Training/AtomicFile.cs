namespace PrecisionLS.Training;

/// <summary>
/// Whole-file writes that either fully replace the target or leave it untouched: the content goes to a
/// temporary file in the same directory, is flushed to disk, then renamed over the target, so a crash never
/// leaves a torn file (checkpoints, summary.json, rewritten metrics logs).
/// </summary>
public static class AtomicFile
{
    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="text"/> encoded as UTF-8 (no BOM).</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, stream => stream.Write(bytes));
    }

    /// <summary>
    /// Atomically replaces <paramref name="path"/> with whatever <paramref name="write"/> writes to the stream it
    /// is given. The target directory is created if missing. If <paramref name="write"/> throws, the target is
    /// unchanged, the temporary file is removed and the exception propagates.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);

        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no parent directory.", nameof(path));
        Directory.CreateDirectory(dir);
        string tmp = TempPathFor(full);

        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>True when <paramref name="fileName"/> looks like a temporary file left by this class.</summary>
    public static bool IsTempFileName(string fileName) => fileName.Contains(TempMarker, StringComparison.Ordinal);

    private const string TempMarker = ".tmp-";

    private static string TempPathFor(string fullPath)
    {
        // Same directory as the target so the final rename stays on one file system (atomic on POSIX).
        Span<byte> rnd = stackalloc byte[6];
        System.Security.Cryptography.RandomNumberGenerator.Fill(rnd);
        return fullPath + TempMarker + Convert.ToHexStringLower(rnd);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
