using PrecisionLS.Cli;
using Xunit;

namespace PrecisionLS.Tests.Cli;

/// <summary>Bad command lines end with one clear error line and a non-zero exit code, never a stack trace.</summary>
public class CommandLineTests
{
    private static (int Code, string Error) Run(params string[] args)
    {
        var err = new StringWriter();
        int code = Program.Run(args, err);
        return (code, err.ToString());
    }

    [Fact]
    public void Train_writes_a_complete_run_directory_and_resume_continues_it()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pls-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            string[] small = ["--set", "training.batch_size=16", "--set", "training.eval_batch_size=32", "--set", "training.eval_every=10",
                              "--set", "model.n_embd=8", "--out", dir];
            var (code, error) = Run(["train", "--preset", "explicit-gradient", "--steps", "20", .. small]);
            Assert.True(code == 0, error);
            foreach (var f in new[] { "config.yaml", "metrics.jsonl", "metrics.csv", "summary.json", "checkpoints/latest.ckpt", "plots/loss.png", "plots/lr.png" })
                Assert.True(File.Exists(Path.Combine(dir, f)), $"missing {f}");
            Assert.Equal(20, PrecisionLS.Training.RunSummary.Load(Path.Combine(dir, "summary.json")).Steps);

            (code, error) = Run("train", "--resume", dir, "--steps", "30");
            Assert.True(code == 0, error);
            Assert.Equal(30, PrecisionLS.Training.RunSummary.Load(Path.Combine(dir, "summary.json")).Steps);

            (code, error) = Run("train", "--resume", dir, "--set", "training.seed=3");
            Assert.Equal(2, code);
            Assert.Contains("--set cannot change it", error);

            // A run folder whose config was edited to another model: one line, no stack trace.
            var yaml = Path.Combine(dir, "config.yaml");
            File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("n_layer: 3", "n_layer: 4"));
            (code, error) = Run("train", "--resume", dir, "--steps", "40");
            Assert.Equal(2, code);
            Assert.Contains("was written for a different model", error);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "unknown verb 'frobnicate'")]
    [InlineData(new[] { "train" }, "give --preset NAME")]
    [InlineData(new[] { "train", "--preset", "nope" }, "unknown preset 'nope'; available: explicit-gradient")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--steps", "ten" }, "--steps 'ten' is not an integer")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--dtype", "float16", "--out", "/tmp/pls-never" }, "training.dtype 'float16' is unknown; accepted: float64, float32")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--bogus" }, "unknown argument '--bogus'")]
    [InlineData(new[] { "train", "--resume", "/nonexistent/run" }, "run directory '/nonexistent/run' does not exist")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--set", "training.n_points=30", "--out", "/tmp/pls-never" }, "prompts have 31 tokens but model.n_positions is 21; set model.n_positions >= 31")]
    [InlineData(new[] { "train", "--config", "/nonexistent.yaml" }, "config file '/nonexistent.yaml' does not exist")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--set", "training.task=sorting", "--out", "/tmp/pls-never" }, "training.task 'sorting' is unknown; accepted: identity, square")]
    [InlineData(new[] { "bench", "warp-drive" }, "unknown bench target 'warp-drive'")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--max-minutes", "soon" }, "--max-minutes 'soon' must be a positive number of minutes")]
    public void Errors_name_what_was_wrong(string[] args, string expected)
    {
        var (code, error) = Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }
}
