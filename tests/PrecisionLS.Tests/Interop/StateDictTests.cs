using PrecisionLS.Config;
using PrecisionLS.Interop;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tests.Fixtures;
using PrecisionLS.Tests.Nn;
using Xunit;

namespace PrecisionLS.Tests.Interop;

/// <summary>Models to and from the authors' PyTorch state dict: names, shapes, values, buffers and mismatches.</summary>
public class StateDictTests
{
    private static string TempFile() => Path.Combine(Path.GetTempPath(), "pls-sd-" + Guid.NewGuid().ToString("N") + ".safetensors");

    private static SequenceModel<double> FixtureModel(FixtureCase fx)
    {
        var model = new SequenceModel<double>(SequenceModelTests.ConfigOf(fx));
        foreach (var (name, t) in fx.Params) t.Data.CopyTo(model.Store.Value(model.Store.Get(name)));
        return model;
    }

    private static double[] ForwardAll(SequenceModel<double> model, FixtureTensor x)
    {
        int batch = x.Shape[0], length = x.Shape[1];
        var y = new double[batch * length * model.OutDims];
        model.Forward(x.Data, batch, length, Enumerable.Range(0, length).ToArray(), y);
        return y;
    }

    [Theory]
    [InlineData("model_attn_mlp_ln")]
    [InlineData("model_baseconv")]
    public void Fixture_model_exports_the_PyTorch_state_dict_and_imports_it_back(string caseName)
    {
        var fx = FixtureCase.Load(caseName);
        var model = FixtureModel(fx);
        // Our layout is PyTorch's: every parameter has the fixture's (the PyTorch tensor's) name and shape.
        Assert.Equal(fx.Params.Keys.Order(), model.Store.Parameters.Select(p => p.Name).Order());
        foreach (var p in model.Store.Parameters) Assert.Equal(fx.Params[p.Name].Shape, p.Shape);
        Assert.Empty(fx.Buffers);   // softmax attention on torch >= 2 and BaseConv hold no buffers

        string path = TempFile();
        try
        {
            var report = StateDict.Export(model, path);
            Assert.Equal(fx.Params.Count, report.Tensors);
            Assert.Equal(0, report.Buffers);
            Assert.Equal(new FileInfo(path).Length, report.Bytes);

            var file = Safetensors.Read(path);
            Assert.Equal(model.Store.Parameters.Select(p => p.Name), file.Tensors.Select(t => t.Name));   // the authors' order
            foreach (var t in file.Tensors)
            {
                Assert.Equal("F64", t.Dtype);
                Assert.Equal(fx.Params[t.Name].Shape.Select(s => (long)s), t.Shape);
                Assert.Equal(fx.Params[t.Name].Data, file.ReadDoubles(t.Name));     // bit for bit
            }
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal("float64", file.Metadata["dtype"]);

            var fresh = new SequenceModel<double>(SequenceModelTests.ConfigOf(fx));
            fresh.Initialize(new Rng(11));
            var loaded = StateDict.Load(fresh, path);
            Assert.Equal(fx.Params.Count, loaded.Tensors);
            Assert.Empty(loaded.Notes);
            Assert.Equal(model.Store.Values, fresh.Store.Values);
            Compare.Close(fx.Outputs["y"], ForwardAll(fresh, fx.Inputs["x"]), 1e-12, $"{caseName}: output after import");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Float32_files_load_into_float64_models_and_float64_files_into_float32_models()
    {
        var fx = FixtureCase.Load("model_baseconv");
        var model = FixtureModel(fx);
        string f32 = TempFile(), f64 = TempFile();
        try
        {
            var report = StateDict.Export(model, f32, "float32");
            Assert.Equal("F32", report.Dtype);
            Assert.All(Safetensors.Read(f32).Tensors, t => Assert.Equal("F32", t.Dtype));
            var wide = new SequenceModel<double>(model.Config);
            var loaded = StateDict.Load(wide, f32);
            Assert.Equal(model.Store.Values.Select(v => (double)(float)v), wide.Store.Values);
            Assert.Contains("F32 values widened to float64", loaded.Notes);

            StateDict.Export(model, f64);
            var narrow = new SequenceModel<float>(model.Config);
            loaded = StateDict.Load(narrow, f64);
            Assert.Equal(model.Store.Values.Select(v => (float)v), narrow.Store.Values);
            Assert.Contains("F64 values rounded to float32", loaded.Notes);
        }
        finally { File.Delete(f32); File.Delete(f64); }
    }

    private static ModelConfig LinearAttention(bool causal) => ConfigLoader.FromPreset("explicit-gradient-linattn",
        ["model.n_embd=8", "model.n_head=2", "model.n_layer=2", "model.n_positions=5", $"model.causal={causal}"]).Model;

    [Fact]
    public void Linear_attention_exports_its_mask_buffers_and_softmax_models_accept_them()
    {
        var cfg = LinearAttention(causal: true);
        Assert.False(cfg.UseSoftmaxForAttn);
        var model = new SequenceModel<double>(cfg);
        model.Initialize(new Rng(2));
        string path = TempFile();
        try
        {
            var report = StateDict.Export(model, path);
            Assert.Equal(2, report.Buffers);
            var file = Safetensors.Read(path);
            var names = file.Tensors.Select(t => t.Name).ToList();
            // PyTorch lists a module's own buffers before its children's parameters.
            Assert.Equal(names.IndexOf("_backbone.transformer.h.1.seq_mixer.c_attn.weight") - 1, names.IndexOf("_backbone.transformer.h.1.seq_mixer.bias"));
            var mask = file.Find("_backbone.transformer.h.0.seq_mixer.bias")!;
            Assert.Equal([1L, 1, 5, 5], mask.Shape);
            var m = file.ReadDoubles(mask.Name);
            for (int q = 0; q < 5; q++) for (int k = 0; k < 5; k++) Assert.Equal(k <= q ? 1.0 : 0.0, m[q * 5 + k]);

            var back = new SequenceModel<double>(cfg);
            var loaded = StateDict.Load(back, path);
            Assert.Equal(model.Store.Values, back.Store.Values);
            Assert.Single(loaded.Notes);
            Assert.StartsWith("ignored 2 attention mask buffers (_backbone.transformer.h.0.seq_mixer.bias, _backbone.transformer.h.1.seq_mixer.bias)", loaded.Notes[0]);

            // torch < 2.0 saves the mask for softmax attention too: accepted the same way.
            var softmax = new SequenceModel<double>(cfg with { UseSoftmaxForAttn = true });
            Assert.Single(StateDict.Load(softmax, path).Notes);
            Assert.Equal(model.Store.Values, softmax.Store.Values);

            // A causal mask cannot drive a non-causal model.
            var open = new SequenceModel<double>(LinearAttention(causal: false));
            var e = Assert.Throws<ConfigException>(() => StateDict.Load(open, path));
            Assert.Contains("attention mask buffer '_backbone.transformer.h.0.seq_mixer.bias' differs from the non-causal (all ones) mask", e.Message);
        }
        finally { File.Delete(path); }
    }

    // The explicit-gradient model at width 6: 3 layers, 32 tensors, as written by Tensors() with edits.
    private static (SequenceModel<double> Model, List<SafetensorsTensor<double>> Tensors) Small()
    {
        var model = new SequenceModel<double>(ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=6"]).Model);
        model.Initialize(new Rng(4));
        return (model, StateDict.Tensors(model));
    }

    private static ConfigException Mismatch(List<SafetensorsTensor<double>> tensors)
    {
        string path = TempFile();
        try
        {
            Safetensors.Write(path, tensors, "F64");
            var target = new SequenceModel<double>(ConfigLoader.FromPreset("explicit-gradient", ["model.n_embd=6"]).Model);
            var before = target.Store.Values.ToArray();
            var e = Assert.Throws<ConfigException>(() => StateDict.Load(target, path));
            Assert.Equal(before, target.Store.Values);          // nothing loaded
            Assert.DoesNotContain("\n", e.Message);
            Assert.Contains($"safetensors file '{path}' does not match this model (base_conv, 3 layers, width 6, 32 parameter tensors)", e.Message);
            return e;
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Missing_extra_and_misshapen_tensors_are_listed_in_one_error()
    {
        var (_, tensors) = Small();
        Assert.Equal(32, tensors.Count);

        var e = Mismatch(tensors.Where(t => t.Name != "_read_in.bias").ToList());
        Assert.Contains("missing 1 (name and expected shape): _read_in.bias [6]", e.Message);

        e = Mismatch([.. tensors, new("_backbone.transformer.h.0.mlp.c_fc.weight", [24, 6], new double[144])]);
        Assert.Contains("unexpected 1: _backbone.transformer.h.0.mlp.c_fc.weight [24, 6]", e.Message);
        Assert.DoesNotContain("missing", e.Message);

        // A depthwise conv weight squeezed to [C, K] (a common slip) and a transposed read-out.
        var edited = tensors.Select(t => t.Name switch
        {
            "_backbone.transformer.h.0.seq_mixer.base_conv.conv.conv.weight" => t with { Shape = [6, 21] },
            "_read_out.weight" => t with { Shape = [6, 5] },
            _ => t,
        }).ToList();
        e = Mismatch(edited);
        Assert.Contains("wrong shape 2: _backbone.transformer.h.0.seq_mixer.base_conv.conv.conv.weight is [6, 21] in the file, the model's is [6, 1, 21], " +
                        "_read_out.weight is [6, 5] in the file, the model's is [5, 6]", e.Message);

        // A file for another model: a few names each, then a count.
        e = Mismatch(tensors.Where(t => t.Name.StartsWith("_read", StringComparison.Ordinal)).ToList());
        Assert.Contains("missing 28 (name and expected shape): _backbone.transformer.wpe.weight [21, 6], " +
                        "_backbone.transformer.h.0.seq_mixer.base_conv.projection.weight [6, 6], " +
                        "_backbone.transformer.h.0.seq_mixer.base_conv.projection.bias [6] and 25 more", e.Message);
    }

    [Fact]
    public void Non_finite_values_overflow_and_non_float_tensors_are_refused()
    {
        var (model, tensors) = Small();
        string path = TempFile();
        try
        {
            var bad = model.Store.Values.ToArray();
            var p = model.Store.Get("_backbone.transformer.h.2.seq_mixer.base_conv.branch_weights");
            bad[p.Offset + 1] = double.NaN;
            Safetensors.Write(path, tensors.Select(t => t.Name == p.Name ? t with { Data = bad.AsMemory(p.Offset, p.Length) } : t).ToList(), "F64");
            var e = Assert.Throws<InvalidDataException>(() => StateDict.Load(new SequenceModel<double>(model.Config), path));
            Assert.Contains($"tensor '{p.Name}' holds NaN at index 1", e.Message);

            bad[p.Offset + 1] = 1e300;
            Safetensors.Write(path, tensors.Select(t => t.Name == p.Name ? t with { Data = bad.AsMemory(p.Offset, p.Length) } : t).ToList(), "F64");
            StateDict.Load(new SequenceModel<double>(model.Config), path);   // fine in float64
            e = Assert.Throws<InvalidDataException>(() => StateDict.Load(new SequenceModel<float>(model.Config), path));
            Assert.Contains($"tensor '{p.Name}' value 1E+300 overflows float32 at index 1", e.Message);
        }
        finally { File.Delete(path); }
    }
}
