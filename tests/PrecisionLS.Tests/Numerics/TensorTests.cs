using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using Xunit;

namespace PrecisionLS.Tests.Numerics;

public class TensorTests
{
    [Fact]
    public void Indexing_is_row_major_and_reshape_shares_data()
    {
        var t = new Tensor<double>(2, 3, 4);
        t[1, 2, 3] = 7;
        Assert.Equal(7, t.Data[1 * 12 + 2 * 4 + 3]);
        var flat = t.Reshape(6, 4);
        Assert.Equal(7, flat[5, 3]);
        flat[0, 1] = 2;
        Assert.Equal(2, t[0, 0, 1]);
        Assert.Equal("Tensor<Double>[2, 3, 4]", t.ToString());
    }

    [Fact]
    public void Bad_shapes_and_indices_are_rejected_with_the_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => new Tensor<double>(new double[5], 2, 3));
        Assert.Contains("needs 6", e.Message);
        var t = new Tensor<float>(2, 2);
        var e2 = Assert.Throws<IndexOutOfRangeException>(() => t[0, 2]);
        Assert.Contains("dimension 1 of size 2", e2.Message);
        Assert.Throws<ArgumentException>(() => t.Reshape(3));
    }

    [Fact]
    public void Model_predict_equals_forward_at_the_read_positions()
    {
        var cfg = ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=8"]).Model;
        var model = new SequenceModel<double>(cfg);
        model.Initialize(new Rng(1));
        var x = new Tensor<double>(3, 21, 6);
        new Rng(2).FillGaussian(x.Span);
        var all = model.Predict(x);
        var last = model.Predict(x, [20]);
        Assert.Equal([3, 21, 5], all.Shape);
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 5; c++) Assert.Equal(all[b, 20, c], last[b, 0, c], 14);
        Assert.Throws<ArgumentException>(() => model.Predict(new Tensor<double>(3, 21, 4)));
    }
}
