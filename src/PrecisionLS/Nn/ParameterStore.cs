using System.Numerics;
using System.Security.Cryptography;
using System.Runtime.InteropServices;

namespace PrecisionLS.Nn;

/// <summary>A named parameter tensor: a slice of the model's one parameter array (PyTorch name and shape).</summary>
public sealed class Parameter
{
    internal Parameter(string name, int[] shape, int offset, bool trainable)
    {
        Name = name; Shape = shape; Offset = offset; Trainable = trainable;
        Length = shape.Aggregate(1, (a, b) => a * b);
    }

    /// <summary>PyTorch state-dict name, e.g. "_backbone.transformer.h.0.seq_mixer.base_conv.in_proj.weight".</summary>
    public string Name { get; }
    /// <summary>PyTorch layout, e.g. [out, in] for a Linear weight.</summary>
    public int[] Shape { get; }
    /// <summary>Start in <see cref="ParameterStore{T}.Values"/>.</summary>
    public int Offset { get; }
    /// <summary>Number of values.</summary>
    public int Length { get; }
    /// <summary>False for frozen tensors (train_proj=false read-in/out, train_pos=false wpe): no gradient, no update.</summary>
    public bool Trainable { get; }
}

/// <summary>
/// All parameters of a model in one contiguous array (the llm.c layout); gradients, Adam moments and the EMA
/// filter reuse the same offsets, so clipping, the optimizer and checkpoints are flat loops.
/// Layers register their tensors while the model is built; <see cref="Allocate"/> then fixes the layout.
/// </summary>
public sealed class ParameterStore<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Parameter> _parameters = [];
    private readonly Dictionary<string, Parameter> _byName = [];
    private int _size;

    /// <summary>Parameter values (valid after <see cref="Allocate"/>).</summary>
    public T[] Values { get; private set; } = [];
    /// <summary>Gradients, same layout as <see cref="Values"/>.</summary>
    public T[] Grads { get; private set; } = [];
    /// <summary>Registered tensors in registration order (the fixed order of checksums and checkpoints).</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;
    /// <summary>Total values, trainable or not.</summary>
    public int Size => _size;
    /// <summary>Number of trainable values (the figure papers quote).</summary>
    public long TrainableCount => _parameters.Where(p => p.Trainable).Sum(p => (long)p.Length);
    /// <summary>True once the layout is fixed.</summary>
    public bool IsAllocated { get; private set; }

    /// <summary>Registers a tensor; names must be unique.</summary>
    public Parameter Add(string name, int[] shape, bool trainable = true)
    {
        if (IsAllocated) throw new InvalidOperationException($"cannot add parameter '{name}': the store is already allocated");
        if (_byName.ContainsKey(name)) throw new ArgumentException($"duplicate parameter name '{name}'", nameof(name));
        var p = new Parameter(name, shape, _size, trainable);
        _parameters.Add(p); _byName[name] = p; _size += p.Length;
        return p;
    }

    /// <summary>Allocates values and gradients (zeros) for everything registered.</summary>
    public void Allocate()
    {
        if (IsAllocated) return;
        Values = new T[_size]; Grads = new T[_size]; IsAllocated = true;
    }

    public Span<T> Value(Parameter p) => Values.AsSpan(p.Offset, p.Length);
    public Span<T> Grad(Parameter p) => Grads.AsSpan(p.Offset, p.Length);

    /// <summary>Looks a tensor up by its PyTorch name.</summary>
    public Parameter Get(string name) =>
        _byName.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"no parameter named '{name}'; the model has: {string.Join(", ", _byName.Keys)}");

    /// <summary>Looks a tensor up by name; false when the model has none of that name.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Parameter? parameter) => _byName.TryGetValue(name, out parameter);

    /// <summary>
    /// Makes <paramref name="grads"/> (same layout, <see cref="Size"/> values) the gradient array that backward
    /// writes to: lets one model replica produce the gradients of several batch groups into separate arrays.
    /// </summary>
    internal void BindGradients(T[] grads)
    {
        if (!IsAllocated) throw new InvalidOperationException("the store is not allocated yet");
        if (grads.Length != _size) throw new ArgumentException($"gradient array holds {grads.Length} values, the store has {_size}", nameof(grads));
        Grads = grads;
    }

    /// <summary>Sets every gradient to zero (once per step).</summary>
    public void ZeroGrads() => Array.Clear(Grads);

    /// <summary>SHA-256 over the parameter values' bytes in registration order, as lowercase hex.</summary>
    public string Checksum()
    {
        var bytes = MemoryMarshal.AsBytes(Values.AsSpan());
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
