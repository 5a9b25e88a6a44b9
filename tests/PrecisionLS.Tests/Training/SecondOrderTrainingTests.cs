using PrecisionLS.Config;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>training.optimizer: lbfgs | gauss_newton inside the trainer: config keys, fixed batches, warm start.</summary>
public class SecondOrderTrainingTests
{
    private static RunConfig Config(params string[] overrides) => OptimizerTests.Config(overrides);

    [Fact]
    public void Lbfgs_lowers_the_loss_on_its_fixed_batch_and_draws_a_new_one_every_refresh()
    {
        var t = new Trainer<double>(Config("training.optimizer=lbfgs", "training.refresh_every=5", "training.second_order_batch_size=40"));
        var so = Assert.IsType<SecondOrderOptimizer<double>>(t.Optimizer);
        Assert.Equal(40, so.BatchSize);
        var first = t.TrainStep();
        ulong seed = so.BatchSeed;
        double last = first.Loss;
        for (int i = 1; i < 5; i++)
        {
            var r = t.TrainStep();
            Assert.False(r.Skipped);
            Assert.True(r.Loss <= last, $"iteration {i}: loss {r.Loss} after {last} on the same batch");
            last = r.Loss;
            Assert.Equal(seed, so.BatchSeed);
        }
        Assert.True(last < first.Loss);
        t.TrainStep();
        Assert.NotEqual(seed, so.BatchSeed);
        Assert.Equal(1, so.BatchIterations);
        Assert.Equal(6, t.Step);
    }

    [Fact]
    public void Gauss_newton_lowers_the_loss_on_its_fixed_batch_with_exact_jacobian_products()
    {
        var t = new Trainer<double>(Config("training.optimizer=gauss_newton", "training.refresh_every=6", "training.cg_max_iters=10"));
        var gn = ((SecondOrderOptimizer<double>)t.Optimizer).GaussNewton!;
        double first = double.NaN, last = double.NaN;
        int accepted = 0;
        for (int i = 0; i < 6; i++)
        {
            double before = gn.Damping;
            var r = t.TrainStep();
            Assert.False(r.Skipped);
            Assert.Equal(before, r.LearningRate);          // the row's lr column is the damping used
            if (i == 0) first = r.Loss;
            if (gn.Damping < before) accepted++;
            last = r.Loss;
        }
        Assert.True(last < 0.95 * first, $"loss {first} -> {last} on one batch");
        Assert.True(accepted >= 2, $"{accepted} steps lowered the damping (a good gain ratio)");
    }

    [Fact]
    public void Direct_gauss_newton_fits_its_fixed_batch_and_matches_cg_solved_to_convergence()
    {
        // 32 problems give 160 residuals, fewer than the parameters: the exact damped steps interpolate the batch,
        // superlinearly once λ has fallen, and CG run far enough takes the same first step.
        var direct = new Trainer<double>(Config("training.optimizer=gauss_newton", "training.gn_solver=direct", "training.refresh_every=10"));
        var cg = new Trainer<double>(Config("training.optimizer=gauss_newton", "training.cg_max_iters=2000", "training.cg_tolerance=1e-13", "training.refresh_every=10"));
        var a = direct.TrainStep(); var b = cg.TrainStep();
        Assert.Equal(a.Loss, b.Loss, 1e-9 * a.Loss);
        double first = a.Loss, last = first;
        for (int i = 0; i < 9; i++)
        {
            var r = direct.TrainStep();
            Assert.False(r.Skipped);
            Assert.True(r.Loss <= last, $"iteration {i}: loss {r.Loss} after {last}");
            last = r.Loss;
        }
        Assert.True(last < 1e-10 * first, $"loss {first:E3} -> {last:E3} on one batch of 32 (measured: 2e-14 from 2.6 in 10 steps)");
    }

    [Fact]
    public void Direct_and_cg_steps_agree_when_the_task_reads_only_some_output_channels()
    {
        // least_squares_icl reads channel out_dims - 1 only: with out_dims 3 the other two outputs are not residuals,
        // so the direct solver's Jacobian rows and CG's products must mask them the same way. λ0 = 10 makes both accept
        // their first step (CG reports a rejection, the direct solver would retry with more damping).
        string[] icl = ["model.n_embd=16", "model.n_layer=1", "model.n_head=2", "model.out_dims=3", "model.use_mlps=false",
                        "training.batch_size=6", "training.eval_batch_size=8", "training.refresh_every=10", "training.gn_initial_damping=10"];
        var direct = new Trainer<double>(ConfigLoader.FromPreset("least-squares-icl", [.. icl, "training.optimizer=gauss_newton", "training.gn_solver=direct"]));
        var cg = new Trainer<double>(ConfigLoader.FromPreset("least-squares-icl", [.. icl, "training.optimizer=gauss_newton", "training.cg_max_iters=3000", "training.cg_tolerance=1e-13"]));
        Assert.NotEqual(0, direct.Task.ReadChannelStart);
        var a = direct.TrainStep(); var b = cg.TrainStep();
        Assert.False(a.Skipped || b.Skipped);
        Assert.Equal(a.Loss, b.Loss, 1e-8 * a.Loss);
        var x = direct.Model.Store.Values; var y = cg.Model.Store.Values;
        double diff = 0, scale = 0;
        for (int i = 0; i < x.Length; i++) { diff = Math.Max(diff, Math.Abs(x[i] - y[i])); scale = Math.Max(scale, Math.Abs(x[i])); }
        Assert.True(diff <= 1e-8 * scale, $"parameters differ by {diff:E2} (max |θ| {scale:E2})");
    }

    [Fact]
    public void A_direct_solve_too_large_for_one_array_is_refused_at_start()
    {
        var e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=gauss_newton", "training.gn_solver=direct", "training.second_order_batch_size=200000")));
        Assert.Contains("training.second_order_batch_size", e.Message);
        Assert.Contains("Jacobian", e.Message);
        e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=gauss_newton", "training.gn_solver=qr")));
        Assert.Contains("training.gn_solver", e.Message);
    }

    [Fact]
    public void The_warm_start_runs_adam_first()
    {
        var t = new Trainer<double>(Config("training.optimizer=lbfgs", "training.adam_warmup_steps=3"));
        var so = (SecondOrderOptimizer<double>)t.Optimizer;
        for (int i = 0; i < 3; i++) t.TrainStep();
        Assert.Equal(3, so.Steps);
        Assert.Equal(0, so.Iterations);
        t.TrainStep();
        Assert.Equal(3, so.Steps);
        Assert.Equal(1, so.Iterations);
    }

    [Fact]
    public void Evaluation_between_iterations_leaves_the_fixed_batch_alone()
    {
        // Two trainers, one evaluating after every iteration: the same parameters after 6 iterations.
        var a = new Trainer<double>(Config("training.optimizer=lbfgs", "training.refresh_every=4"));
        var b = new Trainer<double>(Config("training.optimizer=lbfgs", "training.refresh_every=4"));
        for (int i = 0; i < 6; i++) { a.TrainStep(); b.TrainStep(); b.Evaluate(); }
        Assert.Equal(a.Model.Store.Checksum(), b.Model.Store.Checksum());
    }

    [Theory]
    [InlineData("training.refresh_every=0", "training.refresh_every")]
    [InlineData("training.lbfgs_history=0", "training.lbfgs_history")]
    [InlineData("training.line_search_c2=1e-5", "training.line_search_c1")]
    [InlineData("training.second_order_batch_size=-1", "training.second_order_batch_size")]
    [InlineData("training.adam_warmup_steps=-1", "training.adam_warmup_steps")]
    [InlineData("training.l1_reg=1e-4", "training.l1_reg")]
    public void Bad_settings_name_their_key(string setting, string key)
    {
        var e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=lbfgs", setting)));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Gauss_newton_settings_name_their_key_and_unknown_optimizers_list_the_second_order_ones()
    {
        var e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=gauss_newton", "training.cg_max_iters=0")));
        Assert.Contains("training.cg_max_iters", e.Message);
        e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=gauss_newton", "training.gn_initial_damping=0")));
        Assert.Contains("training.gn_initial_damping", e.Message);
        e = Assert.Throws<ConfigException>(() => new Trainer<double>(Config("training.optimizer=newton")));
        Assert.Contains("lbfgs, gauss_newton", e.Message);
    }
}
