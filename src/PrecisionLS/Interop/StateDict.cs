using System.Globalization;
using System.Numerics;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Training;

namespace PrecisionLS.Interop;

/// <summary>What <see cref="StateDict.Export{T}"/> wrote.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Tensors">Tensors in the file, buffers included.</param>
/// <param name="Buffers">Of those, persistent buffers (the linear-attention masks).</param>
/// <param name="Parameters">Values of the model's parameters (trainable or not), buffers excluded.</param>
/// <param name="Bytes">Size of the file.</param>
/// <param name="Dtype">Dtype of every tensor in the file ("F64" or "F32").</param>
/// <param name="Step">The training step of the exported parameters, when known.</param>
public sealed record ExportReport(string Path, int Tensors, int Buffers, long Parameters, long Bytes, string Dtype, long? Step);

/// <summary>What <see cref="StateDict.Load{T}(SequenceModel{T}, string)"/> loaded.</summary>
/// <param name="Path">The file read.</param>
/// <param name="Tensors">Parameter tensors copied into the model.</param>
/// <param name="Parameters">Values copied.</param>
/// <param name="Notes">What was accepted without effect or converted (buffers ignored, values widened), one line each.</param>
public sealed record ImportReport(string Path, int Tensors, long Parameters, IReadOnlyList<string> Notes);

/// <summary>
/// A model's parameters as the authors' PyTorch state dict (<c>TransformerModel.state_dict()</c>), to and from
/// safetensors files: the same names ("_read_in.weight", "_backbone.transformer.h.0.seq_mixer.base_conv.conv.conv.weight"),
/// shapes and row-major layouts, so <c>model.load_state_dict(load_file(path))</c> works on the authors' model and a
/// state dict they saved loads here.
/// </summary>
/// <remarks>
/// Layouts: the parameter store already keeps every tensor in PyTorch layout (Linear [out, in], depthwise Conv1d
/// [C, 1, K], long-conv filter [C, l_max], pos_emb.z [1, l_max, d_emb], Embedding [n_positions, d]; the fixture tests
/// load PyTorch tensors by name with shape checks), so no tensor is transposed or reshaped on the way.
/// Non-trainable parameters (train_proj: false read-in/out, train_pos: false wpe, pos_emb.z) are nn.Parameters in the
/// authors' model and are included.
/// Buffers: the authors' model has one kind of persistent buffer, the attention mask "...seq_mixer.bias"
/// [1, 1, n_positions, n_positions] (tril(ones) when causal, ones otherwise), registered only when PyTorch's fused
/// attention is not used: always for linear attention (use_softmax_for_attn: false), for softmax only on torch &lt; 2.0.
/// Export writes it for linear attention, so strict loading works on torch &gt;= 2.0; import accepts it for any
/// attention layer (it must hold the mask this model applies) and notes that it was ignored: the mask is a constant
/// of model.causal here.
/// </remarks>
public static class StateDict
{
    /// <summary>The file <c>export</c> writes into a run directory by default.</summary>
    public const string DefaultFileName = "model.safetensors";

    private const int MaxListed = 3;   // offending names listed per kind in a mismatch message, then "and N more"

    // A persistent buffer of the authors' state dict: its name, shape, values, and whether torch >= 2.0 saves it.
    private sealed record Buffer<T>(string Name, int[] Shape, T[] Values, bool Exported, string Before);

    /// <summary>
    /// The tensors of the model's state dict in the authors' order (each module's own buffers before its children's
    /// parameters, as PyTorch lists them): every parameter, plus the buffers torch &gt;= 2.0 saves.
    /// Parameter data are views of the store's values (no copy).
    /// </summary>
    public static List<SafetensorsTensor<T>> Tensors<T>(SequenceModel<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var store = model.Store;
        var before = Buffers(model).Where(b => b.Exported).ToDictionary(b => b.Before);
        var tensors = new List<SafetensorsTensor<T>>(store.Parameters.Count + before.Count);
        foreach (var p in store.Parameters)
        {
            if (before.TryGetValue(p.Name, out var b)) tensors.Add(new(b.Name, b.Shape, b.Values));
            tensors.Add(new(p.Name, p.Shape, store.Values.AsMemory(p.Offset, p.Length)));
        }
        return tensors;
    }

    // Every buffer the authors' model may hold: the mask of each attention layer.
    private static List<Buffer<T>> Buffers<T>(SequenceModel<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new List<Buffer<T>>();
        int n = model.Config.NPositions;
        foreach (var block in model.Blocks)
        {
            if (block.Mixer is not Attention<T> attn) continue;
            string cAttn = attn.CAttn.Weight.Name;                              // "{prefix}.seq_mixer.c_attn.weight"
            string name = cAttn[..^".c_attn.weight".Length] + ".bias";
            var mask = new T[n * n];
            for (int q = 0; q < n; q++)
                for (int k = 0; k < n; k++) mask[q * n + k] = !attn.Causal || k <= q ? T.One : T.Zero;
            result.Add(new Buffer<T>(name, [1, 1, n, n], mask, Exported: !attn.Softmax, Before: cAttn));
        }
        return result;
    }

    /// <summary>
    /// Writes the model's state dict to <paramref name="path"/> as safetensors in <paramref name="dtype"/> ("float64" or
    /// "float32"). Metadata: format "pt", producer, dtype, and when given the run's resolved config (YAML) and step.
    /// </summary>
    public static ExportReport Export<T>(SequenceModel<T> model, string path, string dtype = "float64", RunConfig? config = null, long? step = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string fileDtype = Safetensors.DtypeOf(dtype) ?? throw new ArgumentException($"dtype '{dtype}' is not float64 or float32", nameof(dtype));
        var tensors = Tensors(model);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",             // what transformers' loaders look for in a PyTorch safetensors file
            ["producer"] = "precisionls",
            ["dtype"] = dtype,
        };
        if (config is not null) metadata["config"] = ConfigLoader.ToYaml(config);
        if (step is not null) metadata["step"] = step.Value.ToString(CultureInfo.InvariantCulture);
        long bytes = Safetensors.Write(path, tensors, fileDtype, metadata);
        return new ExportReport(path, tensors.Count, tensors.Count - model.Store.Parameters.Count, model.Store.Size, bytes, fileDtype, step);
    }

    /// <summary>
    /// Exports the latest checkpoint of a run directory (its config.yaml and checkpoints/latest.ckpt) to
    /// <paramref name="path"/> (default: the run's model.safetensors) in <paramref name="dtype"/> (default: the run's).
    /// </summary>
    public static ExportReport ExportRun(string runDirectory, string? path = null, string? dtype = null)
    {
        if (Directory.Exists(runDirectory) && !File.Exists(TrainingSession.CheckpointPath(runDirectory)))
            throw new ConfigException($"run directory '{runDirectory}' has no checkpoint yet ({TrainingSession.CheckpointDir}/{TrainingSession.LatestCheckpoint}): nothing to export");
        var config = TrainingSession.LoadRunConfig(runDirectory);
        path ??= Path.Combine(runDirectory, DefaultFileName);
        dtype ??= config.Training.Dtype;
        return config.Training.Dtype switch
        {
            "float64" => ExportCheckpoint<double>(runDirectory, config, path, dtype),
            "float32" => ExportCheckpoint<float>(runDirectory, config, path, dtype),
            var d => throw new ConfigException($"run '{runDirectory}' has training.dtype '{d}'; accepted: float64, float32"),
        };
    }

    private static ExportReport ExportCheckpoint<T>(string runDirectory, RunConfig config, string path, string dtype)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new SequenceModel<T>(config.Model);
        var header = Checkpoint.LoadParameters(TrainingSession.CheckpointPath(runDirectory), model.Store);
        return Export(model, path, dtype, config, header.Step);
    }

    /// <summary>Loads a safetensors state dict into the model; see <see cref="Load{T}(SequenceModel{T}, SafetensorsFile)"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ImportReport Load<T>(SequenceModel<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T> =>
        Load(model, Safetensors.Read(path));

    /// <summary>
    /// Replaces every parameter of the model with the file's tensor of the same name. The file must hold each parameter
    /// with its shape and nothing else but the buffers PyTorch saves for this model; otherwise nothing is changed and one
    /// <see cref="ConfigException"/> lists the missing, unexpected and misshapen tensors. Values convert from F64, F32,
    /// F16 or BF16 (widening is exact; F64 into a float32 model rounds to nearest).
    /// </summary>
    /// <exception cref="ConfigException">The file's tensors do not match the model's.</exception>
    /// <exception cref="InvalidDataException">A tensor is not floating point, holds NaN or infinity, or overflows float32.</exception>
    public static ImportReport Load<T>(SequenceModel<T> model, SafetensorsFile file) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var store = model.Store;
        var buffers = Buffers(model).ToDictionary(b => b.Name);
        var missing = new List<string>();
        var wrongShape = new List<string>();
        foreach (var p in store.Parameters)
        {
            var t = file.Find(p.Name);
            if (t is null) missing.Add($"{p.Name} {Safetensors.ShapeText(p.Shape)}");
            else if (!t.Shape.SequenceEqual(p.Shape.Select(s => (long)s)))
                wrongShape.Add($"{p.Name} is {t.ShapeText} in the file, the model's is {Safetensors.ShapeText(p.Shape)}");
        }
        var unexpected = new List<string>();
        var names = store.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var t in file.Tensors)
        {
            if (buffers.TryGetValue(t.Name, out var b))
            {
                if (!t.Shape.SequenceEqual(b.Shape.Select(s => (long)s)))
                    wrongShape.Add($"{t.Name} (attention mask buffer) is {t.ShapeText} in the file, the model's is {Safetensors.ShapeText(b.Shape)}");
            }
            else if (!names.Contains(t.Name)) unexpected.Add($"{t.Name} {t.ShapeText}");
        }
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing {missing.Count} (name and expected shape): {Listed(missing)}");
            if (unexpected.Count > 0) parts.Add($"unexpected {unexpected.Count}: {Listed(unexpected)}");
            if (wrongShape.Count > 0) parts.Add($"wrong shape {wrongShape.Count}: {Listed(wrongShape)}");
            throw new ConfigException($"safetensors file '{file.Origin}' does not match this model " +
                $"({model.Config.SeqOp}, {model.Config.NLayer} layers, width {model.Config.NEmbd}, {store.Parameters.Count} parameter tensors): " +
                string.Join("; ", parts));
        }

        // Convert into a staging copy first, so a bad value leaves the model untouched.
        var staged = new T[store.Size];
        foreach (var p in store.Parameters)
        {
            var t = file.Find(p.Name)!;
            var dst = staged.AsSpan(p.Offset, p.Length);
            file.ReadInto(t, dst);
            CheckFinite(file, t, dst);
        }
        var notes = new List<string>();
        var ignored = new List<string>();
        foreach (var t in file.Tensors)
        {
            if (!buffers.TryGetValue(t.Name, out var b)) continue;
            var values = new T[b.Values.Length];
            file.ReadInto(t, values.AsSpan());
            if (!values.AsSpan().SequenceEqual(b.Values))
                throw new ConfigException($"safetensors file '{file.Origin}': attention mask buffer '{t.Name}' differs from the " +
                    $"{(model.Config.Causal ? "causal (tril)" : "non-causal (all ones)")} mask of this model (model.causal: {(model.Config.Causal ? "true" : "false")})");
            ignored.Add(t.Name);
        }
        if (ignored.Count > 0)
            notes.Add($"ignored {ignored.Count} attention mask buffer{(ignored.Count == 1 ? "" : "s")} ({Listed(ignored)}): a constant of model.causal here, and it matches");
        string modelDtype = Checkpoint.DtypeName<T>();
        foreach (var dt in store.Parameters.Select(p => file.Find(p.Name)!.Dtype).Distinct())
            if (dt != Safetensors.DtypeOf(modelDtype))
                notes.Add($"{dt} values {(Safetensors.BytesPerElement(dt) * 8 < (modelDtype == "float64" ? 64 : 32) ? "widened" : "rounded")} to {modelDtype}");
        staged.AsSpan().CopyTo(store.Values);
        return new ImportReport(file.Origin, store.Parameters.Count, store.Size, notes);
    }

    // A parameter must be finite: NaN or infinity in the file, or a float64 beyond float32's range, is refused.
    private static void CheckFinite<T>(SafetensorsFile file, SafetensorsTensorInfo t, ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (T.IsFinite(values[i])) continue;
            double original = file.ReadDoubles(t.Name)[i];
            string why = double.IsFinite(original)
                ? $"value {original.ToString("R", CultureInfo.InvariantCulture)} overflows {Checkpoint.DtypeName<T>()}"
                : $"holds {original.ToString(CultureInfo.InvariantCulture)}";
            throw new InvalidDataException($"safetensors file '{file.Origin}': tensor '{t.Name}' {why} at index {i}");
        }
    }

    // "a, b, c and 4 more".
    private static string Listed(IReadOnlyList<string> items) =>
        items.Count <= MaxListed ? string.Join(", ", items) : string.Join(", ", items.Take(MaxListed)) + $" and {items.Count - MaxListed} more";
}
