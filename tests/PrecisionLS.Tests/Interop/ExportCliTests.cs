using PrecisionLS.Cli;
using PrecisionLS.Config;
using PrecisionLS.Interop;
using PrecisionLS.Nn;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Interop;

/// <summary>`export --format safetensors` on a trained run, and `train --init-from` with the file it wrote.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut is process-wide
public class ExportCliTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => PrecisionLS.Tests.Cli.CliRunner.Run(args);

    private static readonly string[] Tiny = ["--set", "training.batch_size=16", "--set", "training.eval_batch_size=32", "--set", "training.eval_every=10",
                                             "--set", "model.n_embd=8"];

    private static double[] CheckpointParameters(string runDir)
    {
        var model = new SequenceModel<double>(TrainingSession.LoadRunConfig(runDir).Model);
        Checkpoint.LoadParameters(TrainingSession.CheckpointPath(runDir), model.Store);
        return model.Store.Values;
    }

    [Fact]
    public void Export_writes_the_runs_parameters_and_init_from_starts_a_new_run_from_them()
    {
        string root = Path.Combine(Path.GetTempPath(), "pls-export-" + Guid.NewGuid().ToString("N"));
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        try
        {
            var (code, output, error) = Run(["train", "--preset", "explicit-gradient", "--steps", "20", "--out", a, .. Tiny]);
            Assert.True(code == 0, error);

            (code, output, error) = Run("export", "--run", a, "--format", "safetensors");
            Assert.True(code == 0, error);
            string file = Path.Combine(a, "model.safetensors");
            long bytes = new FileInfo(file).Length;
            var model = new SequenceModel<double>(TrainingSession.LoadRunConfig(a).Model);
            Assert.Contains($"wrote {file}: 32 tensors (32 parameter tensors), {model.Store.Size:N0} parameter values, F64, {bytes:N0} bytes, step 20", output);

            var st = Safetensors.Read(file);
            var trained = CheckpointParameters(a);
            Assert.Equal(model.Store.Parameters.Select(p => p.Name), st.Tensors.Select(t => t.Name));
            foreach (var p in model.Store.Parameters)
                Assert.Equal(trained.AsSpan(p.Offset, p.Length).ToArray(), st.ReadDoubles(p.Name));
            Assert.Equal("20", st.Metadata["step"]);
            Assert.Equal("float64", st.Metadata["dtype"]);
            Assert.Equal(File.ReadAllText(Path.Combine(a, "config.yaml")), st.Metadata["config"]);

            string f32 = Path.Combine(root, "a32.safetensors");
            (code, output, error) = Run("export", "--run", a, "--format", "safetensors", "--out", f32, "--dtype", "float32");
            Assert.True(code == 0, error);
            Assert.Contains("F32", output);
            Assert.Equal(trained.Select(v => (double)(float)v), Safetensors.Read(f32).Tensors.SelectMany(t => Safetensors.Read(f32).ReadDoubles(t.Name)));

            // A new run from the exported file. One step at a learning rate of 1e-300 (and no 1e-10 floor) moves no value
            // (an Adam step is about lr in size, far below half an ulp of any weight): its parameters are those of step 0.
            (code, output, error) = Run(["train", "--preset", "explicit-gradient", "--steps", "1", "--out", b, "--init-from", file,
                                         "--set", "training.learning_rate=1e-300", "--set", "training.min_lr=0", .. Tiny]);
            Assert.True(code == 0, error);
            Assert.Contains($"initialised from {file}: 32 tensors, {model.Store.Size:N0} values", output);
            Assert.Equal(trained, CheckpointParameters(b));
            Assert.Equal(file, TrainingSession.LoadRunConfig(b).Training.InitFrom);

            (code, _, error) = Run("train", "--resume", b, "--init-from", file);
            Assert.Equal(2, code);
            Assert.Contains("--init-from cannot change it", error);
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData(new[] { "export", "--run", "/tmp", "--format", "onnx" }, "export: unknown --format 'onnx'; accepted: safetensors")]
    [InlineData(new[] { "export", "--format", "safetensors" }, "export: give --run DIR")]
    [InlineData(new[] { "export", "--run", "/tmp" }, "export: give --format, one of: safetensors")]
    [InlineData(new[] { "export", "--run", "/tmp", "--format", "safetensors", "--dtype", "float16" }, "export: unknown --dtype 'float16'; accepted: float64, float32")]
    [InlineData(new[] { "export", "--run", "/nonexistent/run", "--format", "safetensors" }, "run directory '/nonexistent/run' does not exist")]
    [InlineData(new[] { "train", "--preset", "explicit-gradient", "--init-from", "/nonexistent/model.safetensors", "--out", "/tmp/pls-never" },
                "safetensors file '/nonexistent/model.safetensors' does not exist")]
    public void Errors_are_one_line(string[] args, string expected)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void A_run_without_a_checkpoint_and_a_malformed_init_file_fail_with_one_line()
    {
        string dir = Path.Combine(Path.GetTempPath(), "pls-export-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "config.yaml"), ConfigLoader.ToYaml(ConfigLoader.FromPreset("explicit-gradient")));
            var (code, _, error) = Run("export", "--run", dir, "--format", "safetensors");
            Assert.Equal(2, code);
            Assert.Contains("has no checkpoint yet (checkpoints/latest.ckpt): nothing to export", error);

            string bad = Path.Combine(dir, "bad.safetensors");
            File.WriteAllBytes(bad, [16, 0, 0, 0, 0, 0, 0, 0, .. "{\"a\": 1}        "u8.ToArray()]);
            (code, _, error) = Run(["train", "--preset", "explicit-gradient", "--init-from", bad, "--out", Path.Combine(dir, "run"), .. Tiny]);
            Assert.Equal(2, code);
            Assert.Contains($"safetensors file '{bad}': tensor 'a' must be an object", error);
            Assert.Single(error.Trim().Split('\n'));
            Assert.False(Directory.Exists(Path.Combine(dir, "run")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
