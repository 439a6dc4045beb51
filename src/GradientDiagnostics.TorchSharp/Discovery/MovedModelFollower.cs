namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Follows a model moved after attach (<c>model.to(device)</c>, <c>model.to(ScalarType)</c>, <c>model.half()</c>): finds
/// its layers again and hands the new parameters to every reader by replacing the elements of the one shared layer
/// array in place, so the analyzer keeps its names, history and options.
/// </summary>
internal sealed class MovedModelFollower(torch.nn.Module module, ModuleLayer[] layers, ParameterObserver parameters)
{
    private ParameterPlacement _placement = new(layers);

    /// <summary>Checks where the parameters are (no allocation when nothing moved) and follows a move.</summary>
    /// <exception cref="InvalidOperationException">The layers themselves changed, or could not be read again.</exception>
    public void FollowIfMoved()
    {
        if (_placement.FindChange() is string change)
        {
            Follow(change);
        }
    }

    private void Follow(string change)
    {
        ModuleLayer[] fresh;
        try
        {
            fresh = LayerDiscovery.Discover(module);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                $"The model's parameters changed after the gradient monitor was attached ({change}), and its layers could not be read again ({ex.Message}). " +
                    "Dispose this monitor and attach a new one after model.to(...) or any other change of the model.", ex);
        }

        string[] before = [.. layers.Select(l => l.Name)];
        string[] after = [.. fresh.Select(l => l.Name)];
        if (!before.SequenceEqual(after) || !layers.Zip(fresh).All(p => p.First.Parameters.Length == p.Second.Parameters.Length))
        {
            string[] gone = [.. before.Except(after)];
            string[] added = [.. after.Except(before)];
            throw new InvalidOperationException(
                $"The model's parameters changed after the gradient monitor was attached ({change}), and its layers are no longer the ones monitored " +
                    $"(removed: [{string.Join(", ", gone)}]; added: [{string.Join(", ", added)}]; or parameters frozen or unfrozen). The monitor follows " +
                    "model.to(device), model.to(dtype) and model.half() only. Dispose this monitor and attach a new one after changing the model.");
        }

        Array.Copy(fresh, layers, fresh.Length);
        _placement = new ParameterPlacement(layers);
        // The parameter copies for ‖θ_t − θ_{t−1}‖ have the old dtype and device: drop them (the next full step after the
        // next copy measures again). The probes hook modules, which a move keeps, and hold this step's outputs: kept.
        parameters.Dispose();
    }
}
