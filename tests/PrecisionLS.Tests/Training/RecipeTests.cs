using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>The recipe's pieces against their formulas (REFERENCE §4).</summary>
public class RecipeTests
{
    private static ParameterStore<double> Store(params double[] values)
    {
        var s = new ParameterStore<double>();
        s.Add("p", [values.Length]);
        s.Allocate();
        values.CopyTo(s.Values, 0);
        return s;
    }

    [Fact]
    public void Adam_matches_torch_formula_over_three_steps()
    {
        var s = Store(1.0, -2.0);
        var adam = new Adam<double>(s, 0.9, 0.999, 1e-16, 0);
        double[] p = [1.0, -2.0], m = [0, 0], v = [0, 0];
        double[][] grads = [[0.5, -1.0], [0.1, 2.0], [-0.3, 0.0]];
        for (int t = 1; t <= 3; t++)
        {
            grads[t - 1].CopyTo(s.Grads, 0);
            adam.Step(1e-2);
            for (int i = 0; i < 2; i++)
            {
                double g = grads[t - 1][i];
                m[i] = 0.9 * m[i] + 0.1 * g; v[i] = 0.999 * v[i] + 0.001 * g * g;
                double denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-16;
                p[i] -= 1e-2 / (1 - Math.Pow(0.9, t)) * m[i] / denom;
            }
        }
        Assert.Equal(p[0], s.Values[0], 15);
        Assert.Equal(p[1], s.Values[1], 15);
        Assert.Equal(3, adam.Steps);
    }

    [Fact]
    public void Frozen_parameters_are_not_updated()
    {
        var s = new ParameterStore<double>();
        s.Add("a", [1]); s.Add("b", [1], trainable: false);
        s.Allocate();
        s.Grads[0] = 1; s.Grads[1] = 1;
        new Adam<double>(s, 0.9, 0.999, 1e-16, 0).Step(0.1);
        Assert.NotEqual(0.0, s.Values[0]);
        Assert.Equal(0.0, s.Values[1]);
    }

    [Fact]
    public void Ema_filter_follows_the_grokfast_recursion()
    {
        var s = Store(0.0);
        var f = new GradientEmaFilter<double>(s, 0.98, 2.0);
        double mu = 0; bool first = true;
        foreach (double g in new[] { 1.0, -0.5, 0.25, 2.0 })
        {
            s.Grads[0] = g;
            f.Apply();
            if (first) { mu = g; first = false; }
            mu = 0.98 * mu + 0.02 * g;
            Assert.Equal(g + 2.0 * mu, s.Grads[0], 15);
        }
        var identity = new GradientEmaFilter<double>(s, 0, 0);
        s.Grads[0] = 3.0; identity.Apply();
        Assert.Equal(3.0, s.Grads[0]);
    }

    [Fact]
    public void Step_schedule_decays_every_step_rate_and_stops_at_the_floor()
    {
        var sch = new StepThresholdScheduler(1e-2, 3000, 0.9);
        Assert.Equal(1e-2, sch.LearningRate(0));
        Assert.Equal(1e-2, sch.LearningRate(2999));
        Assert.Equal(1e-2 * 0.9, sch.LearningRate(3000));
        Assert.Equal(1e-2 * Math.Pow(0.9, 7), sch.LearningRate(7 * 3000 + 5));
        Assert.Equal(1e-10, sch.LearningRate(10_000_000));
    }

    [Fact]
    public void Decay_start_loss_holds_the_rate_until_the_loss_first_falls_below_it()
    {
        var sch = new StepThresholdScheduler(1e-2, 500, 0.5, 1e-10, decayStartLoss: 1e-2);
        Assert.Equal(-1, sch.DecayStart);
        sch.ObserveLoss(0.3, 4000);
        Assert.Equal(1e-2, sch.LearningRate(4000));       // still on the plateau: no decay, whatever the step
        sch.ObserveLoss(9e-3, 4700);
        Assert.Equal(4700, sch.DecayStart);
        sch.ObserveLoss(5e-1, 4800);                       // a later spike does not restart the clock
        Assert.Equal(4700, sch.DecayStart);
        Assert.Equal(1e-2, sch.LearningRate(5199));
        Assert.Equal(5e-3, sch.LearningRate(5200));
        Assert.Equal(1e-2 * Math.Pow(0.5, 6), sch.LearningRate(4700 + 6 * 500 + 3));
        Assert.Equal(1e-2 * 0.9, new StepThresholdScheduler(1e-2, 3000, 0.9).LearningRate(3000));   // 0: the clock starts at 0
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new StepThresholdScheduler(1e-2, 10, 0.9, 0, decayStartLoss: -1));
        Assert.Contains("training.decay_start_loss", e.Message);

        // decay_start_factor drops the rate at once when the clock starts, then decays from there
        var drop = new StepThresholdScheduler(1e-2, 500, 0.7, 1e-10, decayStartLoss: 1e-2, decayStartFactor: 0.4);
        Assert.Equal(1e-2, drop.LearningRate(100));
        drop.ObserveLoss(5e-3, 4400);
        Assert.Equal(4e-3, drop.LearningRate(4400), 1e-18);
        Assert.Equal(4e-3 * 0.7 * 0.7, drop.LearningRate(4400 + 1000), 1e-18);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new StepThresholdScheduler(1e-2, 10, 0.9, 0, 1e-2, decayStartFactor: 0));
        Assert.Contains("training.decay_start_factor", e.Message);
    }

    [Fact]
    public void Clipping_scales_to_the_max_norm_like_torch()
    {
        var s = Store(0, 0);
        s.Grads[0] = 300; s.Grads[1] = 400;
        double norm = GradientClipping.GlobalNorm(s);
        Assert.Equal(500, norm, 12);
        GradientClipping.Clip(s, norm, 100);
        Assert.Equal(300 * 100 / (500 + 1e-6), s.Grads[0], 12);
        s.Grads[0] = 3; s.Grads[1] = 4;
        GradientClipping.Clip(s, 5, 100);
        Assert.Equal(3, s.Grads[0]);
    }

    [Fact]
    public void Bad_recipe_values_name_their_key()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new StepThresholdScheduler(1e-2, 0, 0.9));
        Assert.Contains("training.step_rate", e.Message);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => new GradientEmaFilter<double>(Store(0), 1.5, 2));
        Assert.Contains("training.ema_decay", e2.Message);
    }
}
