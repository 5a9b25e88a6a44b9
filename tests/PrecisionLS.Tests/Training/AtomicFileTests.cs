using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pls-atomic-" + Guid.NewGuid().ToString("N"));

    public AtomicFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteAllText_CreatesThenReplaces_LeavingNoTempFiles()
    {
        string path = Path.Combine(_dir, "summary.json");
        AtomicFile.WriteAllText(path, "first version, longer than the second");
        Assert.Equal("first version, longer than the second", File.ReadAllText(path));

        AtomicFile.WriteAllText(path, "second");
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(["summary.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteAllBytes_RoundTrips()
    {
        string path = Path.Combine(_dir, "blob.bin");
        byte[] bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 31)).ToArray();
        AtomicFile.WriteAllBytes(path, bytes);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Write_CreatesMissingDirectory()
    {
        string path = Path.Combine(_dir, "checkpoints", "step_10.bin");
        AtomicFile.Write(path, s => s.WriteByte(42));
        Assert.Equal([(byte)42], File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_FailingWriter_KeepsOldContentAndRemovesTempFile()
    {
        string path = Path.Combine(_dir, "checkpoint.bin");
        AtomicFile.WriteAllText(path, "good");

        var ex = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("crash mid-write");
        }));

        Assert.Equal("crash mid-write", ex.Message);
        Assert.Equal("good", File.ReadAllText(path));
        Assert.Equal(["checkpoint.bin"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
