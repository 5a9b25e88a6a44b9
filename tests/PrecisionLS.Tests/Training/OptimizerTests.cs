using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>AdamW and SGD against torch's formulas, hand-computed over three steps; the config switch.</summary>
public class OptimizerTests
{
    private static readonly double[][] Grads = [[0.5, -1.0], [0.1, 2.0], [-0.3, 0.0]];

    private static ParameterStore<double> Store(params double[] values)
    {
        var s = new ParameterStore<double>();
        s.Add("p", [values.Length]);
        s.Allocate();
        values.CopyTo(s.Values, 0);
        return s;
    }

    [Fact]
    public void AdamW_matches_torch_formula_over_three_steps()
    {
        var s = Store(1.0, -2.0);
        var opt = new Adam<double>(s, 0.9, 0.999, 1e-16, 0.1, decoupledWeightDecay: true);
        double[] p = [1.0, -2.0], m = [0, 0], v = [0, 0];
        double lr = 1e-2;
        for (int t = 1; t <= 3; t++)
        {
            Grads[t - 1].CopyTo(s.Grads, 0);
            opt.Step(lr);
            for (int i = 0; i < 2; i++)
            {
                double g = Grads[t - 1][i];
                p[i] *= 1 - lr * 0.1;                                   // p.mul_(1 - lr·wd), g untouched
                m[i] = 0.9 * m[i] + 0.1 * g; v[i] = 0.999 * v[i] + 0.001 * g * g;
                double denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-16;
                p[i] -= lr / (1 - Math.Pow(0.9, t)) * m[i] / denom;
            }
        }
        Assert.Equal(p[0], s.Values[0], 15);
        Assert.Equal(p[1], s.Values[1], 15);
        Assert.Equal(3, opt.Steps);
        Assert.Equal("adamw", opt.Name);
        // Coupled Adam with the same weight decay takes a different path (wd·p enters the moments).
        var s2 = Store(1.0, -2.0);
        var adam = new Adam<double>(s2, 0.9, 0.999, 1e-16, 0.1);
        for (int t = 1; t <= 3; t++) { Grads[t - 1].CopyTo(s2.Grads, 0); adam.Step(lr); }
        Assert.NotEqual(s.Values[0], s2.Values[0]);
    }

    [Fact]
    public void Sgd_with_momentum_matches_torch_formula_over_three_steps()
    {
        var s = Store(1.0, -2.0);
        var opt = new Sgd<double>(s, 0.9, 0.05);
        double[] p = [1.0, -2.0], buf = [0, 0];
        double lr = 0.1;
        for (int t = 1; t <= 3; t++)
        {
            Grads[t - 1].CopyTo(s.Grads, 0);
            opt.Step(lr);
            for (int i = 0; i < 2; i++)
            {
                double d = Grads[t - 1][i] + 0.05 * p[i];
                buf[i] = t == 1 ? d : 0.9 * buf[i] + d;                // torch: first step buf = clone(d)
                p[i] -= lr * buf[i];
            }
        }
        Assert.Equal(p[0], s.Values[0], 15);
        Assert.Equal(p[1], s.Values[1], 15);
        Assert.Equal(buf[0], opt.Buffer[0], 15);
        Assert.Equal(3, opt.Steps);
        Assert.Single(opt.State);
    }

    [Fact]
    public void Frozen_parameters_are_not_updated_by_any_optimizer()
    {
        foreach (var name in Optimizers.Names)
        {
            var s = new ParameterStore<double>();
            s.Add("a", [1]); s.Add("b", [1], trainable: false);
            s.Allocate();
            s.Values[0] = s.Values[1] = 1; s.Grads[0] = 1; s.Grads[1] = 1;
            Optimizers.Create(s, new TrainingConfig { Optimizer = name, WeightDecay = 0.1 }).Step(0.1);
            Assert.NotEqual(1.0, s.Values[0]);
            Assert.Equal(1.0, s.Values[1]);
        }
    }

    [Fact]
    public void The_config_picks_the_optimizer_and_names_the_key_when_unknown()
    {
        Assert.IsType<Sgd<double>>(new Trainer<double>(Config("training.optimizer=sgd")).Optimizer);
        Assert.Equal("adamw", new Trainer<double>(Config("training.optimizer=adamw")).Optimizer.Name);
        Assert.Equal("adam", new Trainer<double>(Config()).Optimizer.Name);
        var e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=rmsprop")));
        Assert.Contains("training.optimizer", e.Message);
        Assert.Contains("adam, adamw, sgd", e.Message);
        var e2 = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.scheduler=cosine")));
        Assert.Contains("training.scheduler", e2.Message);
        Assert.Contains("step, step_threshold, adaptive_threshold", e2.Message);
    }

    internal static RunConfig Config(params string[] overrides) => ConfigLoader.FromPreset("explicit-gradient",
        ["training.batch_size=32", "training.eval_batch_size=64", "model.n_embd=16", .. overrides]);
}
