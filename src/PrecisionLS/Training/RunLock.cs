namespace PrecisionLS.Training;

/// <summary>
/// An exclusive lock on a run directory (<c>run.lock</c>), held while a process trains it, so two processes never
/// write one run, and <c>runs list</c> can tell a running run from a killed one.
/// </summary>
/// <remarks>
/// The lock is the open file handle (FileShare.None; an advisory flock on Unix), not the file's existence: a
/// killed process releases it with its handles, so a stale run.lock never blocks a resume.
/// </remarks>
public sealed class RunLock : IDisposable
{
    /// <summary>File name of the lock inside a run directory.</summary>
    public const string FileName = "run.lock";

    private readonly FileStream _stream;

    private RunLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock of <paramref name="runDirectory"/> (created if missing) or throws naming the holder.</summary>
    public static RunLock Acquire(string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        string path = Path.Combine(runDirectory, FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new RunLock(stream);
        }
        catch (IOException)
        {
            throw new Config.ConfigException($"'{runDirectory}' is being trained by another process (it holds {FileName}); wait for it or stop it first");
        }
    }

    /// <summary>True when some process holds the lock of <paramref name="runDirectory"/> now.</summary>
    public static bool IsHeld(string runDirectory)
    {
        string path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return false;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException) { return true; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Releases the lock and removes the file.</summary>
    public void Dispose()
    {
        string path = _stream.Name;
        _stream.Dispose();
        try { File.Delete(path); } catch (IOException) { } // another process may already hold a new lock on it
    }
}
