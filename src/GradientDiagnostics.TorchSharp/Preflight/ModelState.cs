using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Preflight;

/// <summary>
/// What a preflight must give back untouched: every trainable parameter's gradient (the very tensor, or none), every
/// buffer's values (BatchNorm running statistics move on each training-mode forward) and each module's training mode.
/// Captured before the first pass; <see cref="Dispose"/> restores it.
/// </summary>
internal sealed class ModelState : IDisposable
{
    private readonly (Parameter Parameter, torch.Tensor? Gradient)[] _gradients;
    private readonly (torch.Tensor Buffer, torch.Tensor Copy)[] _buffers;
    private readonly (torch.nn.Module Module, bool Training)[] _modes;
    private bool _restored;

    public ModelState(torch.nn.Module model)
    {
        using var noGrad = torch.no_grad();
        // Wrappers read here may be registered in a caller's dispose scope; they must live until the restore.
        _gradients = [.. model.parameters().Where(p => p.requires_grad).Select(p => (p, Detach(p.grad)))];
        _buffers = [.. model.buffers().Select(b => (b, Detach(b.clone())!))];
        _modes = [(model, model.training), .. model.named_modules().Select(m => (m.module, m.module.training))];
    }

    /// <summary>Sets every trainable parameter's gradient to none, so the next backward writes fresh gradients (the
    /// previous pass's are released; the captured ones are kept by this object).</summary>
    public void ClearGradients()
    {
        foreach ((Parameter parameter, _) in _gradients)
        {
            parameter.grad = null;
        }
    }

    /// <summary>Puts the gradients, buffers and training modes back as captured, and releases what was held.</summary>
    public void Dispose()
    {
        if (_restored)
        {
            return;
        }

        _restored = true;
        using (torch.no_grad())
        {
            foreach ((Parameter parameter, torch.Tensor? gradient) in _gradients)
            {
                parameter.grad = gradient;
                gradient?.Dispose();
            }

            foreach ((torch.Tensor buffer, torch.Tensor copy) in _buffers)
            {
                // The buffer wrapper may be the module's own: it is not disposed.
                buffer.copy_(copy);
                copy.Dispose();
            }
        }

        // Parents come before their descendants, and train() recurses, so setting each in order restores mixed modes.
        if (_modes.Any(m => m.Module.training != m.Training))
        {
            foreach ((torch.nn.Module module, bool training) in _modes)
            {
                module.train(training);
            }
        }
    }

    private static torch.Tensor? Detach(torch.Tensor? tensor) => tensor?.DetachFromDisposeScope();
}
