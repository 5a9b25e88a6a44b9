using System.Text.Json;
using PrecisionLS.Bench;
using PrecisionLS.Cli;
using PrecisionLS.Config;
using Xunit;

namespace PrecisionLS.Tests.Bench;

/// <summary>`bench mixers`: one report per (length, mixer) with the JSON fields the issue names, and argument errors.</summary>
[Collection(nameof(SharedPoolCollection))]   // Console.SetOut is process-wide
public class MixerBenchmarkTests
{
    [Fact]
    public void Times_every_mixer_at_every_length()
    {
        var reports = MixerBenchmark.Run([16, 32], width: 8, batch: 2, secondsPerPoint: 0.01);
        Assert.Equal([(16, "m2"), (16, "attention"), (16, "baseconv_long"), (32, "m2"), (32, "attention"), (32, "baseconv_long")],
            reports.Select(r => (r.Length, r.Mixer)));
        Assert.All(reports, r => Assert.True(r.Ms > 0 && r.Samples >= 1 && r.Width == 8 && r.Batch == 2));
        Assert.True(double.IsFinite(MixerBenchmark.GrowthExponent(reports, "m2", 16, 32)));
        Assert.Throws<ConfigException>(() => MixerBenchmark.Run([16], 8, mixers: ["mamba"]));
    }

    [Fact]
    public void Json_is_a_list_of_length_mixer_ms()
    {
        var (code, output, error) = PrecisionLS.Tests.Cli.CliRunner.Run("bench", "mixers", "--lengths", "8,16", "--width", "4", "--seconds", "0.01", "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output.Trim());
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(6, items.Count);
        foreach (var e in items)
        {
            Assert.True(e.GetProperty("length").GetInt32() is 8 or 16);
            Assert.Contains(e.GetProperty("mixer").GetString(), MixerBenchmark.Mixers);
            Assert.True(e.GetProperty("ms").GetDouble() > 0);
        }
    }

    [Theory]
    [InlineData(new[] { "bench", "mixers", "--lengths", "256,x" }, "--lengths 'x' is not an integer")]
    [InlineData(new[] { "bench", "mixers", "--mixers", "mamba" }, "--mixers 'mamba' is unknown; accepted: m2, attention, baseconv_long")]
    public void Bad_arguments_end_with_one_line(string[] args, string expected)
    {
        var err = new StringWriter();
        int code = Program.Run(args, err);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, err.ToString());
    }
}
