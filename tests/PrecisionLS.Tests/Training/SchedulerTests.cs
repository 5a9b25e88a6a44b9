using PrecisionLS.Nn;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>The adaptive scheduler step by step on a fake metric sequence; the gradient cosine metric; L1.</summary>
public class SchedulerTests
{
    [Fact]
    public void Adaptive_schedule_follows_the_hand_computed_sequence()
    {
        // lr0 1e-2, γ 0.5 (powers of two keep every rate exact), step_rate 500, metric every 1000, λ 0.9, threshold 0.9.
        var s = new AdaptiveThresholdScheduler(1e-2, 500, 0.5, 1e-10, 0.9, 0.9);
        // Fake cbar at steps 0, 1000, ...: m = 0.95 (down); 0.855 (< 0.9 but t = 1000 is not > 1000: down);
        // 0.7695 (up); 0.79255 (up); 1.213295 (down).
        var cbar = new Dictionary<long, double> { [0] = 0.5, [1000] = 0.0, [2000] = 0.0, [3000] = 1.0, [4000] = 5.0 };
        // The rate used by steps [500k, 500k + 500), hand-computed: the first is lr0·γ, then one decision per 500 steps
        // (the decision made by the latest metric, measured before the step at a multiple of 1000).
        double[] expected = [1e-2 / 2, 1e-2 / 4, 1e-2 / 8, 1e-2 / 16, 1e-2 / 32, 1e-2 / 16, 1e-2 / 8, 1e-2 / 4, 1e-2 / 2, 1e-2 / 4];
        double[] metrics = [0.95, 0.855, 0.7695, 0.79255, 1.213295];
        for (long t = 0; t < 5000; t++)
        {
            if (cbar.TryGetValue(t, out double c))
            {
                s.UpdateMetric(c, t);
                Assert.Equal(metrics[t / 1000], s.Metric, 12);
            }
            Assert.Equal(expected[t / 500], s.LearningRate(t));
            s.StepCompleted(t + 1);
        }
        Assert.True(s.Decrement);
    }

    [Fact]
    public void Adaptive_schedule_starts_at_lr0_gamma_and_stops_at_the_floor()
    {
        var s = new AdaptiveThresholdScheduler(1e-2, 3000, 0.9, 1e-10, 0.9, 0.9);
        Assert.Equal(1e-2 * 0.9, s.LearningRate(0));          // torch's constructor step at epoch 0
        Assert.Equal(1.0, s.Metric);
        var f = new AdaptiveThresholdScheduler(1e-9, 1, 0.1, 1e-10, 0.9, 0.9);
        for (long t = 1; t <= 5; t++) f.StepCompleted(t);
        Assert.Equal(1e-10, f.LearningRate(5));
        // Growing back needs t > 1000: at 1001 a low metric turns the next decision into a division by γ.
        f.UpdateMetric(-1.0, 1000);                            // m = 0.8 < 0.9, but t = 1000: still down
        Assert.True(f.Decrement);
        f.UpdateMetric(-1.0, 1001);                            // m = 0.62
        Assert.False(f.Decrement);
        f.StepCompleted(1002);
        Assert.Equal(1e-10 / 0.1, f.LearningRate(1002));
    }

    [Fact]
    public void Cosine_of_known_vectors_over_the_given_slices()
    {
        double[] a = [1, 0, 0, 7], b = [1, 1, 0, -3];
        (int, int)[] first3 = [(0, 3)];
        Assert.Equal(1 / Math.Sqrt(2), GradientCosine.Cosine<double>(a, b, first3), 15);
        Assert.Equal((1 - 21) / (Math.Sqrt(50) * Math.Sqrt(11)), GradientCosine.Cosine<double>(a, b, [(0, 4)]), 15);
        Assert.Equal(0.0, GradientCosine.Cosine<double>(a, new double[4], first3));    // a zero gradient: eps clamp, not NaN
        Assert.Equal(-1.0, GradientCosine.Cosine<double>(a, [-2, 0, 0, 0], first3), 15);
    }

    [Fact]
    public void Gradient_metric_is_a_cosine_and_leaves_the_training_data_alone()
    {
        var step = new Trainer<double>(OptimizerTests.Config());
        var adaptive = new Trainer<double>(OptimizerTests.Config("training.scheduler=adaptive_threshold", "training.scheduler_metric_every=2"));
        Assert.Equal(step.Model.Store.Checksum(), adaptive.Model.Store.Checksum());
        var r1 = step.TrainStep(); var r2 = adaptive.TrainStep();
        Assert.Equal(r1.Loss, r2.Loss);                        // same parameters, same batch: the metric drew its own
        Assert.Equal(1e-2 * 0.9, r2.LearningRate);
        double c = adaptive.LastGradientCosine;
        Assert.InRange(c, -1, 1);
        Assert.True(c > 0, $"minibatch gradients of an untrained model should mostly agree, got {c}");
        for (int i = 0; i < 3; i++) { step.TrainStep(); adaptive.TrainStep(); }
        Assert.Equal(step.DataRng.State, adaptive.DataRng.State);
        var sch = (AdaptiveThresholdScheduler)adaptive.Scheduler;
        Assert.Equal(0.9 * (0.9 * 1 + 0.1 * c) + 0.1 * adaptive.LastGradientCosine, sch.Metric, 14);   // measured at 0 and 2
    }

    [Fact]
    public void L1_penalty_matches_finite_differences()
    {
        var s = new ParameterStore<double>();
        s.Add("a", [4]); s.Add("frozen", [1], trainable: false);
        s.Allocate();
        double[] p = [0.5, -0.3, 0.0, 2.0, -9.0];
        p.CopyTo(s.Values, 0);
        s.Grads[0] = 1.0;                                       // the penalty adds to what backward left
        double l1 = 0.01;
        double value = L1Penalty.AddTo(s, l1);
        double F(double[] q) => l1 * (Math.Abs(q[0]) + Math.Abs(q[1]) + Math.Abs(q[2]) + Math.Abs(q[3]));
        Assert.Equal(F(p), value, 15);
        double h = 1e-6;
        foreach (int i in new[] { 0, 1, 3 })
        {
            double[] up = (double[])p.Clone(), dn = (double[])p.Clone();
            up[i] += h; dn[i] -= h;
            double fd = (F(up) - F(dn)) / (2 * h);
            Assert.Equal(fd + (i == 0 ? 1.0 : 0.0), s.Grads[i], 9);
        }
        Assert.Equal(0.0, s.Grads[2]);                          // sign(0) = 0
        Assert.Equal(0.0, s.Grads[4]);                          // frozen: no penalty, no gradient
    }
}
