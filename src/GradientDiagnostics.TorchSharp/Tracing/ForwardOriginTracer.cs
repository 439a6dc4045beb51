namespace GradientDiagnostics.TorchSharp.Tracing;

/// <summary>
/// Finds where a NaN / ±Infinity is born in the forward pass (<see cref="NonFiniteOptions.TraceOrigin"/>). A
/// forward hook on every hookable module, parameterless ones included, reduces its input and output to one sum each, on
/// the device, and the sums are read once per step with the monitor's other results (<see cref="HostTransfer"/>). A
/// tensor already reduced this step (the previous module's output, passed on by <c>Sequential</c>) is not reduced again.
/// </summary>
/// <remarks>
/// <para>The reduction rule: float32 and float64 tensors are summed in their own dtype, float16 and bfloat16 in float32,
/// and tensors of other dtypes (integers, bool) are not reduced, since they cannot hold a NaN. A sum is non-finite when
/// any element is NaN or ±Infinity; it is also non-finite when every element is finite but the sum's magnitude passes
/// the accumulating dtype's largest value (3.4e38 for float32, 1.8e308 for float64). Such a module is then named as
/// the origin, which is right: an output that large is itself an explosion. Summing in the tensor's own dtype reads the
/// output once, with no converted copy.</para>
/// <para>Hooks fire when a module's forward completes, so children come before their parent and the first non-finite
/// output whose input was finite is the innermost, earliest producer. When a parent computes the NaN itself between
/// two child calls, the next child's input is already non-finite, and the parent is named.</para>
/// </remarks>
internal sealed class ForwardOriginTracer : IDisposable
{
    /// <summary>The most module calls recorded between two steps (forward passes run without <c>Step()</c>, such as an
    /// evaluation loop, stop being recorded there, so memory stays bounded).</summary>
    internal const int MaxCalls = 1 << 16;

    private readonly List<string> _names = [];
    private readonly List<Action> _removers = [];
    private readonly List<(int Module, int Input, int Output)> _calls = [];
    private readonly List<torch.Tensor> _sums = [];
    private readonly Dictionary<torch.Tensor, int> _reduced = new(ReferenceEqualityComparer.Instance);
    private int _offset = -1;
    private torch.ScalarType? _sumDtype;
    private bool _mixedDtypes;

    public ForwardOriginTracer(torch.nn.Module root)
    {
        Visit(root, LayerDiscovery.RootLayerName, isRoot: true);
    }

    /// <summary>The module paths that have a hook, in registration order.</summary>
    internal IReadOnlyList<string> TracedModules => _names;

    /// <summary>Queues this step's sums on the transfer as one tensor (no sync here).</summary>
    public void Queue(HostTransfer transfer)
    {
        // Usually every sum has one dtype (float32); when float32 and float64 sums mix, they are widened first (exact).
        // The transfer converts to float64 itself. Called inside the step's dispose scope, which frees the stacked tensor.
        _offset = _sums.Count == 0 ? -1
            : transfer.Add(_mixedDtypes ? torch.stack(_sums.Select(s => s.to_type(torch.ScalarType.Float64))) : torch.stack(_sums));
    }

    /// <summary>Names the first module whose output was non-finite while its input was finite, or null; then forgets
    /// the step's records.</summary>
    public string? Complete(ReadOnlySpan<double> host)
    {
        string? origin = null;
        if (_offset >= 0)
        {
            ReadOnlySpan<double> sums = host.Slice(_offset, _sums.Count);
            foreach ((int module, int input, int output) in _calls)
            {
                if (output >= 0 && !double.IsFinite(sums[output]) && (input < 0 || double.IsFinite(sums[input])))
                {
                    origin = _names[module];
                    break;
                }
            }
        }

        Reset();
        return origin;
    }

    /// <summary>Forgets whatever was recorded since the last step.</summary>
    public void Reset()
    {
        foreach (torch.Tensor sum in _sums)
        {
            sum.Dispose();
        }

        _sums.Clear();
        _calls.Clear();
        _reduced.Clear();
        _sumDtype = null;
        _mixedDtypes = false;
        _offset = -1;
    }

    public void Dispose()
    {
        foreach (Action remove in _removers)
        {
            remove();
        }

        _removers.Clear();
        Reset();
    }

    private void Visit(torch.nn.Module module, string path, bool isRoot)
    {
        int index = _names.Count;
        if (Register(module, index) is Action remove)
        {
            _names.Add(path);
            _removers.Add(remove);
        }

        foreach ((string name, torch.nn.Module child) in module.named_children())
        {
            Visit(child, isRoot ? name : $"{path}.{name}", isRoot: false);
        }
    }

    private Action? Register(torch.nn.Module module, int index) => module switch
    {
        torch.nn.Module<torch.Tensor, torch.Tensor> single =>
            single.register_forward_hook((_, input, output) => Record(index, input, output)).remove,
        torch.nn.Module<torch.Tensor, torch.Tensor, torch.Tensor> pair =>
            pair.register_forward_hook((_, input, _, output) => Record(index, input, output)).remove,
        torch.nn.Module<torch.Tensor, torch.Tensor, (torch.Tensor, torch.Tensor)> recurrent =>
            recurrent.register_forward_hook((_, input, _, output) => (Record(index, input, output.Item1), output.Item2)).remove,
        torch.nn.Module<torch.Tensor, (torch.Tensor, torch.Tensor)?, (torch.Tensor, torch.Tensor, torch.Tensor)> lstm =>
            lstm.register_forward_hook((_, input, _, output) => (Record(index, input, output.Item1), output.Item2, output.Item3)).remove,
        _ => null, // other signatures have no forward hook here; their children are still traced
    };

    private torch.Tensor Record(int module, torch.Tensor? input, torch.Tensor output)
    {
        if (_calls.Count < MaxCalls && output is not null)
        {
            _calls.Add((module, input is null ? -1 : Reduce(input), Reduce(output)));
        }

        return output!;
    }

    /// <summary>The index of the tensor's sum (see the reduction rule above), reducing it unless it already was this
    /// step; -1 for a tensor that cannot hold a non-finite value.</summary>
    private int Reduce(torch.Tensor tensor)
    {
        if (_reduced.TryGetValue(tensor, out int known))
        {
            return known;
        }

        torch.ScalarType dtype = tensor.dtype;
        if (dtype is not (torch.ScalarType.Float32 or torch.ScalarType.Float64 or torch.ScalarType.Float16 or torch.ScalarType.BFloat16))
        {
            return -1;
        }

        // One detach and one sum per tensor: no dispose scope or grad mode switch per call. The detached wrapper is
        // disposed here; the sum is kept past the caller's dispose scope until the step reads it, and disposed in Reset.
        bool sparse = tensor.is_sparse;
        torch.Tensor sum;
        using (torch.Tensor values = tensor.detach())
        {
            sum = sparse ? SparseSum(values)
                : dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16 ? values.sum(type: torch.ScalarType.Float32)
                : values.sum();
        }

        sum.DetachFromDisposeScope();
        torch.ScalarType sumDtype = sparse || dtype == torch.ScalarType.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        _mixedDtypes |= _sumDtype is torch.ScalarType previous && previous != sumDtype;
        _sumDtype = sumDtype;
        int index = _sums.Count;
        _sums.Add(sum);
        _reduced[tensor] = index;
        return index;
    }

    private static torch.Tensor SparseSum(torch.Tensor values)
    {
        using torch.Tensor dense = values.to_dense();
        return dense.sum(type: torch.ScalarType.Float64);
    }
}
