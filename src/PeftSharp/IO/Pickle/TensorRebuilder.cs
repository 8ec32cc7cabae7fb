namespace PeftSharp.IO.Pickle;

/// <summary>
/// The functions torch pickles tensors and parameters with, which the unpickler evaluates into
/// <see cref="TensorReference"/>s:
/// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])</c>,
/// <c>_rebuild_tensor(storage, offset, size, stride)</c>, <c>_rebuild_parameter(data, requires_grad, backward_hooks)</c>
/// and <c>_rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)</c>.
/// requires_grad, hooks, metadata and state do not change a tensor's values and are ignored.
/// </summary>
internal sealed class TensorRebuilder : PickleGlobal
{
    readonly bool _parameter;
    readonly int[] _argumentCounts;

    TensorRebuilder(string name, bool parameter, params int[] argumentCounts) : base($"torch._utils.{name}")
    {
        _parameter = parameter;
        _argumentCounts = argumentCounts;
    }

    /// <summary>The rebuild function of torch._utils called <paramref name="name"/>, or null.</summary>
    public static TensorRebuilder? TryResolve(string module, string name) => module != "torch._utils" ? null : name switch
    {
        "_rebuild_tensor_v2" => new TensorRebuilder(name, parameter: false, 6, 7),
        "_rebuild_tensor" => new TensorRebuilder(name, parameter: false, 4),
        "_rebuild_parameter" => new TensorRebuilder(name, parameter: true, 3),
        "_rebuild_parameter_with_state" => new TensorRebuilder(name, parameter: true, 4),
        _ => null,
    };

    public override object? Call(IReadOnlyList<object?> args)
    {
        if (!_argumentCounts.Contains(args.Count))
            throw Fail($"takes {string.Join(" or ", _argumentCounts)} arguments, got {args.Count}");
        if (_parameter)
            return args[0] as TensorReference ?? throw Fail($"expects a tensor as its first argument, got {Describe(args[0])}");
        var storage = args[0] as StorageReference ?? throw Fail($"expects a storage as its first argument, got {Describe(args[0])}");
        long offset = args[1] as long? ?? throw Fail($"expects an integer storage offset, got {Describe(args[1])}");
        long[] shape = Integers(args[2], "size");
        long[] stride = Integers(args[3], "stride");
        if (shape.Length != stride.Length)
            throw Fail($"size ({shape.Length} dims) and stride ({stride.Length} dims) disagree");
        if (offset < 0 || shape.Any(s => s < 0) || stride.Any(s => s < 0))
            throw Fail($"offset {offset}, size [{string.Join(", ", shape)}] and stride [{string.Join(", ", stride)}] must not be negative");
        return new TensorReference(storage, offset, shape, stride);
    }

    long[] Integers(object? value, string what)
    {
        if (value is not object?[] tuple) throw Fail($"expects a tuple {what}, got {Describe(value)}");
        return tuple.Select(item => item as long? ?? throw Fail($"expects integers in {what}, got {Describe(item)}")).ToArray();
    }

    InvalidDataException Fail(string message) => new($"{QualifiedName} {message}");

    static string Describe(object? value) => value switch
    {
        null => "None",
        object?[] => "a tuple",
        string s => $"'{s}'",
        _ => value.GetType().Name,
    };
}
