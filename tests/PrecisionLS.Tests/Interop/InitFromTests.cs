using PrecisionLS.Config;
using PrecisionLS.Interop;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Interop;

/// <summary>training.init_from: a new run starts from a safetensors state dict; a resume ignores it.</summary>
public class InitFromTests
{
    private sealed class Messages : ITrainingObserver
    {
        public List<string> Lines { get; } = [];
        public void Started(long fromStep, long totalSteps, long parameters, string dtype) { }
        public void Report(TrainingRecord record) { }
        public void Message(string text) => Lines.Add(text);
    }

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "pls-init-" + Guid.NewGuid().ToString("N"));

    private static RunConfig Small(long steps, string initFrom, string dtype = "float64") => ConfigLoader.FromPreset("explicit-gradient",
    [
        $"training.train_steps={steps}", "training.batch_size=16", "training.eval_batch_size=32", "training.eval_every=10",
        $"training.dtype={dtype}", "model.n_embd=8", $"training.init_from={initFrom}",
    ]);

    // A state dict for Small's model with every value drawn afresh (far from the seed's initialisation).
    private static double[] WriteRandomStateDict(string path, string dtype = "float64")
    {
        var model = new SequenceModel<double>(Small(1, "").Model);
        new Rng(99).FillGaussian(model.Store.Values.AsSpan());
        StateDict.Export(model, path, dtype);
        return model.Store.Values;
    }

    [Fact]
    public void A_new_run_starts_from_the_file_and_a_resume_ignores_it()
    {
        string dir = TempDir();
        string file = Path.Combine(dir + "-in", "init.safetensors");
        try
        {
            var expected = WriteRandomStateDict(file);
            var obs = new Messages();
            using var stopAtOnce = new CancellationTokenSource();
            stopAtOnce.Cancel();   // stop before step 0: the checkpoint then holds the step-0 parameters
            TrainingSession.Run(new SessionOptions(Small(5, file), dir, Resume: false), obs, stopAtOnce.Token);
            Assert.Contains($"initialised from {file}: 32 tensors, {expected.Length:N0} values", obs.Lines);

            var atStart = new SequenceModel<double>(Small(1, "").Model);
            var header = Checkpoint.LoadParameters(TrainingSession.CheckpointPath(dir), atStart.Store);
            Assert.Equal(0, header.Step);
            Assert.Equal(expected, atStart.Store.Values);
            Assert.Contains($"init_from: {file}", File.ReadAllText(Path.Combine(dir, TrainingSession.ConfigFileName)));

            // The resume continues from its checkpoint and never reads the file (gone by now).
            File.Delete(file);
            var resumed = TrainingSession.Run(new SessionOptions(TrainingSession.LoadRunConfig(dir) with { Training = Small(5, file).Training }, dir, Resume: true),
                new Messages(), default);
            Assert.Equal(5, resumed.Steps);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            if (Directory.Exists(dir + "-in")) Directory.Delete(dir + "-in", true);
        }
    }

    [Fact]
    public void A_float32_run_loads_a_float64_file()
    {
        string dir = TempDir(), file = TempDir() + ".safetensors";
        try
        {
            var expected = WriteRandomStateDict(file);
            using var stopAtOnce = new CancellationTokenSource();
            stopAtOnce.Cancel();
            var obs = new Messages();
            TrainingSession.Run(new SessionOptions(Small(5, file, "float32"), dir, Resume: false), obs, stopAtOnce.Token);
            Assert.Contains("note: F64 values rounded to float32", obs.Lines);
            var atStart = new SequenceModel<float>(Small(1, "").Model);
            Checkpoint.LoadParameters(TrainingSession.CheckpointPath(dir), atStart.Store);
            Assert.Equal(expected.Select(v => (float)v), atStart.Store.Values);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            File.Delete(file);
        }
    }

    [Fact]
    public void Init_from_is_resolved_to_an_absolute_path_and_defaults_to_none()
    {
        Assert.Equal("", ConfigLoader.FromPreset("explicit-gradient").Training.InitFrom);
        var c = ConfigLoader.FromPreset("explicit-gradient", ["training.init_from=runs/a/model.safetensors"]);
        Assert.Equal(Path.GetFullPath("runs/a/model.safetensors"), c.Training.InitFrom);
        Assert.True(Path.IsPathRooted(c.Training.InitFrom));
        var back = ConfigLoader.FromYaml(ConfigLoader.ToYaml(c), "round trip");
        Assert.Equal(c.Training.InitFrom, back.Training.InitFrom);
        Assert.Equal("", ConfigLoader.FromYaml(ConfigLoader.ToYaml(ConfigLoader.FromPreset("explicit-gradient")), "round trip").Training.InitFrom);
    }

    [Fact]
    public void A_missing_or_mismatched_file_fails_before_the_run_directory_is_made()
    {
        string dir = TempDir(), file = TempDir() + ".safetensors";
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => TrainingSession.Run(new SessionOptions(Small(5, file), dir, false), new Messages(), default));
            Assert.Contains($"safetensors file '{file}' does not exist", e.Message);
            Assert.False(Directory.Exists(dir));

            var other = new SequenceModel<double>(ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=4"]).Model);
            StateDict.Export(other, file);
            var c = Assert.Throws<ConfigException>(() => TrainingSession.Run(new SessionOptions(Small(5, file), dir, false), new Messages(), default));
            Assert.Contains("wrong shape 28: _read_in.weight is [4, 6] in the file, the model's is [8, 6]", c.Message);
            Assert.False(Directory.Exists(dir));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            File.Delete(file);
        }
    }
}
