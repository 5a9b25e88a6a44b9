using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>training.group_lasso: the channel groups, their proximal step, and that a zeroed group is idle.</summary>
public class ChannelGroupLassoTests
{
    private static RunConfig Config(params string[] overrides) => OptimizerTests.Config(overrides);

    [Fact]
    public void Groups_hold_every_weight_of_a_channel_and_nothing_else()
    {
        var model = new SequenceModel<double>(Config().Model);
        var m = Config().Model;
        var lasso = ChannelGroupLasso<double>.ForModel(model.Store, residual: true);
        int w = m.NEmbd, k = m.NPositions, layers = m.NLayer;
        Assert.Equal(layers * w + w, lasso.Count);
        for (int g = 0; g < layers * w; g++) Assert.Equal(3 * w + 3 + k, lasso.Indices(g).Length);   // in, p rows; 3 biases; taps; out column
        int residualSize = m.InDims + 1 + m.OutDims + m.NPositions + layers * (3 * w + 1);
        for (int g = layers * w; g < lasso.Count; g++) Assert.Equal(residualSize, lasso.Indices(g).Length);
        Assert.Equal("layer 2 inner 3", lasso.Names[2 * w + 3]);
        Assert.Equal("residual 5", lasso.Names[layers * w + 5]);
        // No index twice within a group.
        for (int g = 0; g < lasso.Count; g++) Assert.Equal(lasso.Indices(g).Length, lasso.Indices(g).ToArray().Distinct().Count());
    }

    [Fact]
    public void A_zeroed_group_has_exactly_zero_gradient_so_no_optimizer_revives_it()
    {
        // If a group missed a weight that still carries the channel, or held a weight outside it, some gradient
        // entry of the zeroed group would be nonzero.
        var cfg = Config();
        var model = new SequenceModel<double>(cfg.Model);
        model.Initialize(new Rng(3));
        var store = model.Store;
        var lasso = ChannelGroupLasso<double>.ForModel(store, residual: true);
        var start = store.Values.ToArray();
        var rng = new Rng(4);
        int batch = 3, length = cfg.Model.NPositions;
        var x = new double[batch * length * cfg.Model.InDims];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextGaussian();
        int[] reads = Enumerable.Range(0, length).ToArray();
        var output = new double[batch * length * cfg.Model.OutDims];
        var dOutput = new double[output.Length];
        for (int i = 0; i < dOutput.Length; i++) dOutput[i] = rng.NextGaussian();
        foreach (int g in new[] { 0, 7, cfg.Model.NEmbd + 2, 3 * cfg.Model.NEmbd - 1, 3 * cfg.Model.NEmbd, lasso.Count - 1 })
        {
            start.CopyTo(store.Values, 0);
            foreach (int i in lasso.Indices(g)) store.Values[i] = 0;
            Array.Clear(store.Grads);
            model.Forward(x, batch, length, reads, output);
            model.Backward(dOutput);
            double largest = store.Grads.Max(Math.Abs);
            Assert.True(largest > 1e-3, $"group {lasso.Names[g]}: the rest of the model still learns (largest gradient {largest})");
            foreach (int i in lasso.Indices(g)) Assert.True(store.Grads[i] == 0, $"group {lasso.Names[g]}: gradient {store.Grads[i]} at index {i}");
        }
    }

    [Fact]
    public void The_proximal_step_scales_each_group_by_one_minus_tau_over_its_norm_or_zeroes_it()
    {
        var model = new SequenceModel<double>(Config().Model);
        model.Initialize(new Rng(5));
        var values = model.Store.Values;
        var lasso = ChannelGroupLasso<double>.ForModel(model.Store, residual: false);   // inner groups do not overlap
        var norms = Enumerable.Range(0, lasso.Count).Select(g => Math.Sqrt(lasso.Indices(g).ToArray().Sum(i => values[i] * values[i]))).ToArray();
        double tau = norms.OrderBy(n => n).ElementAt(10);      // the 10 smallest groups fall below it, the rest shrink
        var before = values.ToArray();
        var inGroup = new bool[values.Length];
        for (int g = 0; g < lasso.Count; g++) foreach (int i in lasso.Indices(g)) inGroup[i] = true;
        Assert.Equal(11, lasso.Shrink(values, tau));           // ties at the boundary: norm <= tau is zeroed
        for (int g = 0; g < lasso.Count; g++)
        {
            double factor = Math.Max(0, 1 - tau / norms[g]);
            foreach (int i in lasso.Indices(g)) Assert.Equal(before[i] * factor, values[i], 1e-15);
        }
        for (int i = 0; i < values.Length; i++) if (!inGroup[i]) Assert.Equal(before[i], values[i]);
        Assert.Equal(norms.Sum(n => Math.Max(0, n - tau)), lasso.Penalty(values), 1e-12);
        Assert.Contains("layer 0 inner:", lasso.ZeroSummary(values));
    }

    [Fact]
    public void Frozen_read_in_read_out_and_position_embedding_are_never_shrunk()
    {
        var cfg = Config("model.train_proj=false", "model.train_pos=false");
        var model = new SequenceModel<double>(cfg.Model);
        model.Initialize(new Rng(6));
        var lasso = ChannelGroupLasso<double>.ForModel(model.Store, residual: true);
        var frozen = model.Store.Parameters.Where(p => !p.Trainable).ToArray();
        Assert.Contains(frozen, p => p.Name == "_read_in.weight");
        Assert.Contains(frozen, p => p.Name == "_backbone.transformer.wpe.weight");
        var before = frozen.Select(p => model.Store.Value(p).ToArray()).ToArray();
        Assert.Equal(lasso.Count, lasso.Shrink(model.Store.Values, 1e9));       // every trainable group to zero
        for (int k = 0; k < frozen.Length; k++) Assert.Equal(before[k], model.Store.Value(frozen[k]).ToArray());
        int w = cfg.Model.NEmbd, layers = cfg.Model.NLayer;
        for (int g = layers * w; g < lasso.Count; g++) Assert.Equal(layers * (3 * w + 1), lasso.Indices(g).Length);   // only the layers' reads and writes
    }

    [Fact]
    public void Training_with_group_lasso_zeroes_whole_channels()
    {
        var a = new Trainer<double>(Config("training.group_lasso=30"));
        Assert.NotNull(a.GroupLasso);
        double p0 = a.GroupLasso!.Penalty(a.Model.Store.Values);
        for (int i = 0; i < 20; i++) a.TrainStep();
        int zero = Enumerable.Range(0, a.GroupLasso.Count).Count(g => a.GroupLasso.Indices(g).ToArray().All(i => a.Model.Store.Values[i] == 0));
        Assert.True(zero > 0, a.GroupLasso.ZeroSummary(a.Model.Store.Values));
        Assert.True(a.GroupLasso.Penalty(a.Model.Store.Values) < p0);
        var plain = new Trainer<double>(Config());
        for (int i = 0; i < 20; i++) plain.TrainStep();
        Assert.Null(plain.GroupLasso);
        Assert.NotEqual(plain.Model.Store.Checksum(), a.Model.Store.Checksum());
    }

    [Fact]
    public void Group_lasso_waits_for_the_step_schedules_decay_to_start()
    {
        // decay_start_loss below any loss these steps reach: the decay never starts, so neither does the penalty.
        var waiting = new Trainer<double>(Config("training.group_lasso=30", "training.decay_start_loss=1e-30"));
        var plain = new Trainer<double>(Config("training.decay_start_loss=1e-30"));
        for (int i = 0; i < 10; i++) { waiting.TrainStep(); plain.TrainStep(); }
        Assert.Equal(plain.Model.Store.Checksum(), waiting.Model.Store.Checksum());
        // Once the loss falls below it (1e9: at the first step), the proximal steps begin.
        var started = new Trainer<double>(Config("training.group_lasso=30", "training.decay_start_loss=1e9"));
        var decaying = new Trainer<double>(Config("training.decay_start_loss=1e9"));
        for (int i = 0; i < 10; i++) { started.TrainStep(); decaying.TrainStep(); }
        Assert.NotEqual(decaying.Model.Store.Checksum(), started.Model.Store.Checksum());
        Assert.Contains(Enumerable.Range(0, started.GroupLasso!.Count), g => started.GroupLasso.Indices(g).ToArray().All(i => started.Model.Store.Values[i] == 0));
    }

    [Theory]
    [InlineData("training.group_lasso=-1", "training.group_lasso = -1")]
    [InlineData("training.group_lasso=NaN", "training.group_lasso")]
    public void Bad_values_name_their_key(string setting, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config(setting)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Models_it_cannot_group_are_refused_with_the_reason()
    {
        var e = Assert.Throws<ConfigException>(() => new Trainer<double>(ConfigLoader.FromPreset("explicit-gradient-linattn",
            ["training.batch_size=8", "training.eval_batch_size=8", "training.group_lasso=1"])));
        Assert.Contains("base_conv", e.Message);
        e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.group_lasso=1", "model.use_mlps=true")));
        Assert.Contains("group_lasso_residual: false", e.Message);
        var t = new Trainer<double>(Config("training.group_lasso=1", "model.use_mlps=true", "training.group_lasso_residual=false"));
        Assert.Equal(3 * 16, t.GroupLasso!.Count);
    }
}
