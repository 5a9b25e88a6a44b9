using System.Text.Json;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

public sealed class MetricsLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pls-metrics-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Awkward doubles: shortest round-trip strings are long, subnormal, huge, negative zero.</summary>
    private static TrainingRecord Row(long step)
    {
        double x = 1.0 / (3 * step + 1);
        bool eval = step % 3 == 0;
        return new TrainingRecord(
            step,
            Loss: x * Math.PI * 1e-9,
            LearningRate: step == 2 ? double.Epsilon : 0.1 * Math.Exp(-step / 7.0),
            GradNorm: step == 4 ? double.MaxValue : Math.Sqrt(step) * 1.000000000000001,
            Skipped: step == 5,
            EvalMse: eval ? x * x / 7.0 : null,
            EvalRel: eval ? -0.0 : null,
            EvalRelL2: eval ? 1.0 / 3.0 : null,
            WallSeconds: step * 0.123456789012345678);
    }

    private static void AssertBitExact(TrainingRecord expected, TrainingRecord actual)
    {
        Assert.Equal(expected.Step, actual.Step);
        Assert.Equal(expected.Skipped, actual.Skipped);
        AssertBits(expected.Loss, actual.Loss);
        AssertBits(expected.LearningRate, actual.LearningRate);
        AssertBits(expected.GradNorm, actual.GradNorm);
        AssertBits(expected.EvalMse, actual.EvalMse);
        AssertBits(expected.EvalRel, actual.EvalRel);
        AssertBits(expected.EvalRelL2, actual.EvalRelL2);
        AssertBits(expected.WallSeconds, actual.WallSeconds);
    }

    private static void AssertBits(double? expected, double? actual)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is double e)
            Assert.Equal(BitConverter.DoubleToInt64Bits(e), BitConverter.DoubleToInt64Bits(actual!.Value));
    }

    [Fact]
    public void WriteRead_RoundTripsBitExact_InBothFiles()
    {
        var rows = Enumerable.Range(1, 12).Select(i => Row(i)).ToList();
        using (var log = MetricsLog.Open(_dir, resumeFromStep: null))
            foreach (var r in rows)
                log.Append(r);

        var fromJsonl = MetricsLog.ReadJsonl(Path.Combine(_dir, MetricsLog.JsonlFileName));
        var fromCsv = MetricsLog.ReadCsv(Path.Combine(_dir, MetricsLog.CsvFileName));
        Assert.Equal(rows.Count, fromJsonl.Count);
        Assert.Equal(rows.Count, fromCsv.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            AssertBitExact(rows[i], fromJsonl[i]);
            AssertBitExact(rows[i], fromCsv[i]);
        }
    }

    [Fact]
    public void Files_HaveDocumentedColumns_AndValidJsonLines()
    {
        using (var log = MetricsLog.Open(_dir, null))
        {
            log.Append(Row(1));
            log.Append(Row(3));
            log.Append(Row(4) with { Loss = double.NaN, GradNorm = double.PositiveInfinity });
        }

        string[] csv = File.ReadAllLines(Path.Combine(_dir, "metrics.csv"));
        Assert.Equal("step,loss,lr,grad_norm,skipped,eval_mse,eval_rel,eval_rel_l2,wall_seconds", csv[0]);
        Assert.Equal(4, csv.Length);
        Assert.EndsWith(",,,," + Row(1).WallSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture), csv[1]);
        Assert.Contains(",NaN,", csv[3]);

        string[] jsonl = File.ReadAllLines(Path.Combine(_dir, "metrics.jsonl"));
        Assert.Equal(3, jsonl.Length);
        foreach (string line in jsonl)
        {
            using var doc = JsonDocument.Parse(line); // strict JSON: non-finite values are strings
            var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
            Assert.Equal(MetricsLog.Columns, keys);
        }
        using var first = JsonDocument.Parse(jsonl[0]);
        Assert.Equal(JsonValueKind.Null, first.RootElement.GetProperty("eval_mse").ValueKind);
        Assert.False(first.RootElement.GetProperty("skipped").GetBoolean());

        var back = MetricsLog.ReadJsonl(Path.Combine(_dir, "metrics.jsonl"));
        Assert.True(double.IsNaN(back[2].Loss));
        Assert.Equal(double.PositiveInfinity, back[2].GradNorm);
    }

    [Fact]
    public void Resume_TruncatesToResumeStep_ThenAppends_EachStepOnce()
    {
        using (var log = MetricsLog.Open(_dir, null))
            for (int s = 1; s <= 10; s++)
                log.Append(Row(s));

        using (var log = MetricsLog.Open(_dir, resumeFromStep: 6))
        {
            Assert.Equal(6, log.LastStep);
            Assert.Equal(6, log.RowCount);
            log.Append(Row(7));
            log.Append(Row(8));
        }

        long[] expected = [1, 2, 3, 4, 5, 6, 7, 8];
        var jsonl = MetricsLog.ReadJsonl(Path.Combine(_dir, "metrics.jsonl"));
        var csv = MetricsLog.ReadCsv(Path.Combine(_dir, "metrics.csv"));
        Assert.Equal(expected, jsonl.Select(r => r.Step));
        Assert.Equal(expected, csv.Select(r => r.Step));
        for (int i = 0; i < expected.Length; i++)
        {
            AssertBitExact(Row(expected[i]), jsonl[i]);
            AssertBitExact(Row(expected[i]), csv[i]);
        }

        string[] csvLines = File.ReadAllLines(Path.Combine(_dir, "metrics.csv"));
        Assert.Single(csvLines, l => l.StartsWith("step,", StringComparison.Ordinal));
        Assert.Equal(["metrics.csv", "metrics.jsonl"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Resume_IgnoresTornLastLine_LeftByAKill()
    {
        using (var log = MetricsLog.Open(_dir, null))
            for (int s = 1; s <= 4; s++)
                log.Append(Row(s));
        File.AppendAllText(Path.Combine(_dir, "metrics.jsonl"), "{\"step\":5,\"loss\":1.2");
        File.AppendAllText(Path.Combine(_dir, "metrics.csv"), "5,1.2");

        Assert.Equal(4, MetricsLog.ReadJsonl(Path.Combine(_dir, "metrics.jsonl")).Count);
        Assert.Equal(4, MetricsLog.ReadCsv(Path.Combine(_dir, "metrics.csv")).Count);

        using (var log = MetricsLog.Open(_dir, resumeFromStep: 4))
            log.Append(Row(5));
        Assert.Equal([1L, 2, 3, 4, 5], MetricsLog.ReadJsonl(Path.Combine(_dir, "metrics.jsonl")).Select(r => r.Step));
        Assert.Equal([1L, 2, 3, 4, 5], MetricsLog.ReadCsv(Path.Combine(_dir, "metrics.csv")).Select(r => r.Step));
    }

    [Fact]
    public void Append_RowIsReadableBeforeDispose()
    {
        using var log = MetricsLog.Open(_dir, null);
        log.Append(Row(1));
        // Another reader sees the row while the log is still open (as after a kill).
        using var fs = new FileStream(log.JsonlPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(fs);
        Assert.StartsWith("{\"step\":1,", reader.ReadToEnd());
    }

    [Fact]
    public void Append_NonIncreasingStep_Throws()
    {
        using var log = MetricsLog.Open(_dir, null);
        log.Append(Row(3));
        Assert.Throws<ArgumentException>(() => log.Append(Row(3)));
        Assert.Throws<ArgumentException>(() => log.Append(Row(2)));
    }

    [Fact]
    public void OpenFresh_ReplacesExistingRows()
    {
        using (var log = MetricsLog.Open(_dir, null))
            log.Append(Row(1));
        using (var log = MetricsLog.Open(_dir, null))
            Assert.Equal(0, log.RowCount);
        Assert.Empty(MetricsLog.ReadJsonl(Path.Combine(_dir, "metrics.jsonl")));
        Assert.Single(File.ReadAllLines(Path.Combine(_dir, "metrics.csv")));
    }

    [Fact]
    public void RunSummary_SaveLoad_RoundTrips_WithSnakeCaseKeys()
    {
        var rows = Enumerable.Range(1, 9).Select(i => Row(i)).ToList();
        var summary = RunSummary.FromRecords(rows, "sha256:abc", "float64", "ls_baseconv_small", 1234);
        Assert.Equal(9, summary.Steps);
        Assert.Equal(rows[^1].Loss, summary.FinalTrainLoss);
        Assert.Equal(rows[8].EvalMse, summary.FinalEvalMse);
        Assert.Equal(rows[8].EvalMse, summary.BestEvalMse);
        Assert.Equal(9, summary.BestEvalStep);
        Assert.Equal(1, summary.SkippedSteps);

        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, RunSummary.FileName);
        summary.Save(path);
        string json = File.ReadAllText(path);
        foreach (string key in new[] { "steps", "final_train_loss", "final_eval_mse", "best_eval_mse", "wall_seconds",
                     "param_checksum", "dtype", "preset", "parameters", "steps_per_second" })
            Assert.Contains($"\"{key}\":", json);
        Assert.Contains("\n  \"steps\": 9", json);

        var back = RunSummary.Load(path);
        Assert.Equal(summary, back);
    }

    [Fact]
    public void RunSummary_NoSteps_SavesNaNLoss()
    {
        var summary = RunSummary.FromRecords([], "x", "float64", "p", 1);
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "summary.json");
        summary.Save(path);
        var back = RunSummary.Load(path);
        Assert.True(double.IsNaN(back.FinalTrainLoss));
        Assert.Null(back.FinalEvalMse);
    }
}
