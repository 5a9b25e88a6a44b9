using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;

namespace PrecisionLS.Training;

/// <summary>
/// A self-describing checkpoint holding every piece of training state, so a resumed run continues exactly:
/// parameters, the optimizer's arrays and step count, the EMA filter, the data RNG, the adaptive scheduler's state,
/// step and skip counters, wall time, and the resolved config. Layout: "PLSCKPT1", a JSON header, the raw arrays
/// (parameters, the optimizer's state arrays in order, the EMA average), and a SHA-256 of all of it.
/// Version 2 added optimizer and scheduler to the header; version 1 files (Adam, step scheduler) still load:
/// their arrays are laid out as Adam's in version 2 (parameters, M, V, EMA). The second-order optimizers add their
/// scalars (L-BFGS ring position, damping, the fixed batch's seed) to the header as optimizer_scalars.
/// Written through <see cref="AtomicFile"/>: a crash never leaves a torn file.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "PLSCKPT1"u8.ToArray();

    /// <summary>Header fields (snake_case JSON).</summary>
    public sealed record Header(
        int Version, string Dtype, long Step, long AdamSteps /* the optimizer's step count, any optimizer */, bool EmaInitialized, ulong[] RngState,
        long SkippedSteps, int ConsecutiveSkips, double WallSeconds, string ConfigYaml,
        string[] ParameterNames, int ParameterCount, string ParamChecksum,
        string? Optimizer = null, AdaptiveSchedulerState? Scheduler = null, Dictionary<string, string>? OptimizerScalars = null,
        long? DecayStart = null /* the step schedule's decay_start_loss clock (absent: not used) */);

    /// <summary>The adaptive scheduler's state (absent for the step schedule, a function of the step).</summary>
    public sealed record AdaptiveSchedulerState(double Metric, double LearningRate, bool Decrement);

    /// <summary>Current header version.</summary>
    public const int CurrentVersion = 2;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes the trainer's full state to <paramref name="path"/> atomically.</summary>
    public static void Save<T>(string path, Trainer<T> trainer, double wallSeconds) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var store = trainer.Model.Store;
        var scheduler = trainer.Scheduler is AdaptiveThresholdScheduler a ? new AdaptiveSchedulerState(a.Metric, a.Lr, a.Decrement) : null;
        var header = new Header(CurrentVersion, DtypeName<T>(), trainer.Step, trainer.Optimizer.Steps, trainer.Filter.Initialized,
            trainer.DataRng.State, trainer.SkippedSteps, trainer.ConsecutiveSkips, wallSeconds, ConfigLoader.ToYaml(trainer.Config),
            store.Parameters.Select(p => p.Name).ToArray(), store.Size, store.Checksum(), trainer.Optimizer.Name, scheduler,
            (trainer.Optimizer as SecondOrderOptimizer<T>)?.Scalars,
            trainer.Scheduler is StepThresholdScheduler { DecayStartLoss: > 0 } st ? st.DecayStart : null);
        byte[] headerBytes = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        AtomicFile.Write(path, stream =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Put(ReadOnlySpan<byte> bytes) { stream.Write(bytes); hash.AppendData(bytes); }
            Put(Magic);
            Span<byte> len = stackalloc byte[4];
            BitConverter.TryWriteBytes(len, headerBytes.Length);
            Put(len); Put(headerBytes);
            Put(MemoryMarshal.AsBytes(store.Values.AsSpan()));
            foreach (var state in trainer.Optimizer.State) Put(MemoryMarshal.AsBytes(state.AsSpan()));
            Put(MemoryMarshal.AsBytes(trainer.Filter.Mu.AsSpan()));
            stream.Write(hash.GetHashAndReset());
        });
    }

    /// <summary>Reads only the header (config, step, dtype) of a checkpoint, verifying its integrity.</summary>
    public static Header ReadHeader(string path) => Read(path).Header;

    /// <summary>Restores the trainer's state from a checkpoint written for the same model and dtype.</summary>
    public static Header Load<T>(string path, Trainer<T> trainer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (header, payload) = Read(path);
        if (header.Dtype != DtypeName<T>())
            throw new ConfigException($"checkpoint {path} holds {header.Dtype} state; this run is {DtypeName<T>()}");
        var store = trainer.Model.Store;
        var names = store.Parameters.Select(p => p.Name).ToArray();
        if (header.ParameterCount != store.Size || !header.ParameterNames.SequenceEqual(names))
            throw new ConfigException($"checkpoint {path} was written for a different model ({header.ParameterCount} values, " +
                                      $"{header.ParameterNames.Length} tensors; this model has {store.Size} values, {names.Length} tensors)");
        string optimizer = header.Optimizer ?? "adam";      // version 1 wrote Adam's state only
        if (optimizer != trainer.Optimizer.Name)
            throw new ConfigException($"checkpoint {path} holds {optimizer} optimizer state; this run's training.optimizer is {trainer.Optimizer.Name}");
        var adaptive = trainer.Scheduler as AdaptiveThresholdScheduler;
        if (adaptive is not null && header.Scheduler is null && header.Step > 0)
            throw new ConfigException($"checkpoint {path} was written by a run without the adaptive scheduler; it cannot resume with training.scheduler: adaptive_threshold");
        if (adaptive is null && header.Scheduler is not null)
            throw new ConfigException($"checkpoint {path} holds adaptive scheduler state; this run's training.scheduler is {trainer.Config.Training.Scheduler}");
        var states = trainer.Optimizer.State;
        int bytes = store.Size * Marshal.SizeOf<T>(), arrays = 2 + states.Count;
        if (payload.Length != arrays * bytes)
            throw new InvalidDataException($"checkpoint {path} is truncated: {payload.Length} bytes of state, expected {arrays * bytes}");
        payload.Span.Slice(0, bytes).CopyTo(MemoryMarshal.AsBytes(store.Values.AsSpan()));
        for (int k = 0; k < states.Count; k++)
            payload.Span.Slice((1 + k) * bytes, bytes).CopyTo(MemoryMarshal.AsBytes(states[k].AsSpan()));
        payload.Span.Slice((1 + states.Count) * bytes, bytes).CopyTo(MemoryMarshal.AsBytes(trainer.Filter.Mu.AsSpan()));
        trainer.Optimizer.Steps = header.AdamSteps;
        if (trainer.Optimizer is SecondOrderOptimizer<T> second)
            second.Scalars = header.OptimizerScalars ?? throw new InvalidDataException($"checkpoint {path} lacks the {second.Name} state");
        if (adaptive is not null && header.Scheduler is { } sch)
            (adaptive.Metric, adaptive.Lr, adaptive.Decrement) = (sch.Metric, sch.LearningRate, sch.Decrement);
        if (trainer.Scheduler is StepThresholdScheduler { DecayStartLoss: > 0 } step)
            step.DecayStart = header.DecayStart ?? (header.Step > 0
                ? throw new ConfigException($"checkpoint {path} was written by a run without training.decay_start_loss; it cannot resume with it") : -1);
        trainer.Filter.Initialized = header.EmaInitialized;
        trainer.DataRng = new Rng(header.RngState);
        trainer.Step = header.Step;
        trainer.SkippedSteps = header.SkippedSteps;
        trainer.ConsecutiveSkips = header.ConsecutiveSkips;
        if (store.Checksum() != header.ParamChecksum)
            throw new InvalidDataException($"checkpoint {path}: parameter checksum mismatch after loading");
        return header;
    }

    /// <summary>
    /// Copies only the parameters of a checkpoint into <paramref name="store"/> (export, inspection: no trainer, no
    /// optimizer). The checkpoint must hold the same dtype and the same tensors in the same order.
    /// </summary>
    public static Header LoadParameters<T>(string path, ParameterStore<T> store) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (header, payload) = Read(path);
        if (header.Dtype != DtypeName<T>())
            throw new ConfigException($"checkpoint {path} holds {header.Dtype} state; this model is {DtypeName<T>()}");
        var names = store.Parameters.Select(p => p.Name).ToArray();
        if (header.ParameterCount != store.Size || !header.ParameterNames.SequenceEqual(names))
            throw new ConfigException($"checkpoint {path} was written for a different model ({header.ParameterCount} values, " +
                                      $"{header.ParameterNames.Length} tensors; this model has {store.Size} values, {names.Length} tensors)");
        int bytes = store.Size * Marshal.SizeOf<T>();
        if (payload.Length < bytes)
            throw new InvalidDataException($"checkpoint {path} is truncated: {payload.Length} bytes of state, the parameters alone need {bytes}");
        payload.Span[..bytes].CopyTo(MemoryMarshal.AsBytes(store.Values.AsSpan()));
        if (store.Checksum() != header.ParamChecksum)
            throw new InvalidDataException($"checkpoint {path}: parameter checksum mismatch after loading");
        return header;
    }

    private static (Header Header, ReadOnlyMemory<byte> Payload) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{path}' does not exist", path);
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < Magic.Length + 4 + 32 || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException($"'{path}' is not a PrecisionLS checkpoint");
        var body = all.AsSpan(0, all.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32)))
            throw new InvalidDataException($"checkpoint '{path}' is corrupt (SHA-256 mismatch)");
        int headerLen = BitConverter.ToInt32(all, Magic.Length);
        var header = JsonSerializer.Deserialize<Header>(all.AsSpan(Magic.Length + 4, headerLen), Json)
            ?? throw new InvalidDataException($"checkpoint '{path}' has an empty header");
        int start = Magic.Length + 4 + headerLen;
        return (header, all.AsMemory(start, all.Length - 32 - start));
    }

    /// <summary>"float64" or "float32".</summary>
    public static string DtypeName<T>() =>
        typeof(T) == typeof(double) ? "float64" : typeof(T) == typeof(float) ? "float32" : typeof(T).Name;
}
