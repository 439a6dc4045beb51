using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>
/// The independent reference for the probes: a test forward hook, registered after the monitor's, that calls
/// <c>retain_grad()</c> on each module output so libtorch itself accumulates ∂L/∂y into <c>.grad</c>.
/// </summary>
internal sealed class OutputGradientRecorder : IDisposable
{
    private readonly List<Action> _removers = [];
    private readonly Dictionary<string, List<Tensor>> _outputs = [];

    public OutputGradientRecorder(nn.Module model, IEnumerable<string> names)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (string name in names)
        {
            _outputs[name] = [];
            switch (modules[name])
            {
                case nn.Module<Tensor, Tensor> m:
                    _removers.Add(m.register_forward_hook((_, _, y) => Keep(name, y)).remove);
                    break;
                case nn.Module<Tensor, Tensor, (Tensor, Tensor)> m:
                    _removers.Add(m.register_forward_hook((_, _, _, y) => (Keep(name, y.Item1), Keep(name, y.Item2))).remove);
                    break;
                case nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> m:
                    _removers.Add(m.register_forward_hook((_, _, _, y) => (Keep(name, y.Item1), Keep(name, y.Item2), Keep(name, y.Item3))).remove);
                    break;
                default:
                    throw new ArgumentException($"{name} is not hookable");
            }
        }
    }

    /// <summary>√(Σ ‖y.grad‖²) over the outputs the module produced (a missing grad counts as zero).</summary>
    public double Norm(string name)
    {
        double squares = 0;
        foreach (Tensor y in _outputs[name])
        {
            using Tensor? g = y.grad;
            if (g is not null)
            {
                using Tensor s = g.to_type(ScalarType.Float64).square().sum();
                squares += s.item<double>();
            }
        }

        return Math.Sqrt(squares);
    }

    public void Dispose()
    {
        _removers.ForEach(r => r());
        foreach (Tensor y in _outputs.Values.SelectMany(v => v))
        {
            y.Dispose();
        }
    }

    private Tensor Keep(string name, Tensor y)
    {
        if (y.requires_grad)
        {
            y.retain_grad();
            _outputs[name].Add(y.alias().DetachFromDisposeScope());
        }

        return y;
    }
}
