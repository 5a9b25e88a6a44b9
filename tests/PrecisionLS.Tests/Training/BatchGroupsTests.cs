using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;
using PrecisionLS.Training;
using Xunit;

namespace PrecisionLS.Tests.Training;

/// <summary>The grouped, sliced forward-backward against one plain pass of the model over the whole batch.</summary>
public class BatchGroupsTests
{
    [Theory]
    [InlineData(96)]    // 32 groups of 3, slices of 1 and 2
    [InlineData(7)]     // fewer examples than groups
    [InlineData(1000)]  // groups of 31 and 32
    public void Grouped_pass_gives_the_full_batch_loss_outputs_and_gradients(int batch)
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=16", "model.n_layer=2"]);
        var model = new SequenceModel<double>(cfg.Model);
        ModelInitializer.Initialize(model, new Rng(3));
        var task = new ExplicitGradientTask<double>(5, 20, 5);
        var prompt = new double[batch * task.PromptLength * task.TokenDims];
        var target = new double[batch * task.TargetSize];
        task.Sample(new Rng(4), batch, prompt, target);
        int outSize = task.ReadPositions.Length * model.OutDims;

        // Reference: the whole batch through the model at once.
        var outRef = new double[batch * outSize]; var dRef = new double[outRef.Length];
        model.Forward(prompt, batch, task.PromptLength, task.ReadPositions, outRef);
        double lossRef = task.Loss(outRef, target, batch, dRef);
        model.Store.ZeroGrads();
        model.Backward(dRef);
        var gradRef = (double[])model.Store.Grads.Clone();

        var groups = new BatchGroups<double>(model);
        var output = new double[outRef.Length]; var dOut = new double[outRef.Length];
        double loss = groups.ForwardBackward(prompt, batch, task.PromptLength, task.ReadPositions, output, dOut,
            (start, count) => task.Loss(output.AsSpan(start * outSize, count * outSize), target.AsSpan(start * task.TargetSize, count * task.TargetSize),
                count, dOut.AsSpan(start * outSize, count * outSize), meanBatch: batch));

        Assert.Equal(lossRef, loss, 1e-14 * lossRef);
        Assert.Equal(outRef, output);          // forward rows do not depend on the batch split
        Assert.Equal(dRef, dOut);
        Fixtures.Compare.Close(gradRef, model.Store.Grads, 1e-12, "grouped gradients");

        var evalOut = new double[outRef.Length];
        groups.Forward(prompt, batch, task.PromptLength, task.ReadPositions, evalOut);
        Assert.Equal(outRef, evalOut);
    }
}
